#pragma once
// Face detection and 68-point landmarks (dlib shape predictor, iBUG 300-W order). Two
// detectors: dlib's HOG frontal detector (upright and tilted faces down to the minimum size,
// in tiles so the minimum holds at every resolution) and face-api's SSD MobileNet-v1 (turned
// faces up to profile, and a calibrated score that confirms or rejects weak HOG candidates).
// One detector is shared by all threads.
#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ideu {

using Landmarks68 = std::array<cv::Point2d, 68>;

struct DetectedFace {
    cv::Rect2d box;  // HOG-style box in image pixels (for an SSD-only face: mapped from its box)
    double score = 0;     // dlib's HOG score (0 when only the SSD found it)
    double ssdScore = 0;  // the SSD's face probability (0 when it did not find it)
    bool turned = false;  // found by the SSD alone: turned beyond the HOG detector's range
    // Rolled beyond the HOG detector's ±45° (a head on its side, a photo stored sideways): its
    // roll in the photo, in degrees clockwise (90: its top points right, -90: left, 180: upside
    // down), the turn that made it upright for the HOG detector; 0 for an upright face. Its box
    // then bounds the turned box, and its landmarks were found on the turned photo and
    // turned back.
    int roll = 0;
    Landmarks68 landmarks;
};

// A candidate the detectors saw but did not accept as a face.
struct RejectedCandidate {
    cv::Rect2d box;
    double score = 0, ssdScore = 0;
    std::string reason;
};

struct DetectionOptions {
    // Smallest face side (pixels) to find. dlib's window is 80 px, so the image is upsampled
    // by 80 / minFaceSize; a pass that would exceed maxWorkPixels runs in overlapping tiles
    // (plus one coarse pass for the faces larger than a tile's overlap), so the minimum holds
    // at every resolution.
    double minFaceSize = 40;
    double maxWorkPixels = 12e6;
    double threshold = 0.0;  // added to dlib's detection threshold
    // The SSD detector: turned faces, and confirmation of weak HOG candidates.
    bool useSsd = true;
    // A HOG candidate is a face when its score reaches hogAlone, or the SSD sees it too with at
    // least ssdConfirm, or (weaker) when at least 30 % of its centre is skin-coloured or the
    // photo is grey; a face only the SSD sees needs ssdAlone. Calibrated on the developer set
    // (README "Detection"): its highest SSD-only non-face scores 0.15, a face-model render
    // turned to 90 degrees 0.45.
    double hogAlone = 0.3;
    double ssdConfirm = 0.3;
    double ssdAlone = 0.4;
    // Faces rolled by about a quarter turn (60–120°) are looked for down to this side in the
    // photo turned each way (and every face found is looked at turned, see detect). 0: faces
    // rolled beyond the HOG detector's ±45° are not looked for at all.
    double rolledMinFaceSize = 80;
    // The HOG score a face needs turned (by a quarter or half turn) to count as rolled that far:
    // on the developer set held upright the HOG detector scores the wrong turns of its faces up
    // to 0.73, and the same photos turned score 0.97–3.0 turned upright, but for two small grey
    // stills (0.21 and 0.56: blurred, when the SSD sees them).
    double turnedAlone = 0.85;
};

struct DetectionResult {
    std::vector<DetectedFace> faces;  // largest first
    std::vector<RejectedCandidate> rejected;
    double workScale = 1;             // the finest scale the HOG detector ran at
    double minFaceSize = 80;          // smallest face side findable
    int hogPasses = 0, ssdPasses = 0; // detector runs (tiles count one each)
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
    // The HOG-style box (what the landmark model was trained on) of a face the SSD found.
    static cv::Rect2d hogBoxFromSsd(const cv::Rect2d& ssdBox);

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
