#pragma once
// Face detection (dlib HOG frontal detector) and 68-point landmarks (dlib shape predictor,
// iBUG 300-W order). One detector is shared by all threads.
#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ideu {

using Landmarks68 = std::array<cv::Point2d, 68>;

struct DetectedFace {
    cv::Rect2d box;  // detector box in image pixels
    double score = 0;
    Landmarks68 landmarks;
};

struct DetectionOptions {
    // Smallest face side (pixels) to find. dlib's window is 80 px, so the image is upsampled
    // by 80 / minFaceSize, as far as maxWorkPixels allows.
    double minFaceSize = 40;
    double maxWorkPixels = 16e6;
    double threshold = 0.0;  // added to dlib's detection threshold
};

struct DetectionResult {
    std::vector<DetectedFace> faces;  // largest first
    double workScale = 1;             // image scale the detector ran at
    double minFaceSize = 80;          // smallest face side findable at that scale
};

class FaceDetector {
public:
    // Loads the landmark model once (from the model store) and shares it.
    static std::shared_ptr<const FaceDetector> shared();
    explicit FaceDetector(const std::string& landmarkModelPath);
    ~FaceDetector();

    // Thread-safe.
    DetectionResult detect(const cv::Mat& bgr, const DetectionOptions& options = {}) const;
    Landmarks68 landmarks(const cv::Mat& bgr, const cv::Rect2d& box) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The face of `faces` (boxes shifted by `offset`) whose box overlaps `box` most, with an
// intersection over union above `minOverlap`; nullptr when none does. Finds a face again in an
// edited photo.
const DetectedFace* sameFace(const std::vector<DetectedFace>& faces, const cv::Rect2d& box, double minOverlap = 0.3,
                             cv::Point2d offset = {});

// Landmark groups of the iBUG-68 scheme.
namespace lm {
constexpr int kJawBegin = 0, kJawEnd = 17;
constexpr int kRightBrowBegin = 17, kLeftBrowBegin = 22;
constexpr int kNoseBegin = 27;
constexpr int kRightEyeBegin = 36, kLeftEyeBegin = 42;  // subject's right eye is on image left
constexpr int kMouthBegin = 48, kInnerMouthBegin = 60;
cv::Point2d rightEyeCentre(const Landmarks68& p);
cv::Point2d leftEyeCentre(const Landmarks68& p);
// Distance between the outer eye corners (36, 45), the usual NME normaliser.
double interOcular(const Landmarks68& p);
}  // namespace lm

}  // namespace ideu
