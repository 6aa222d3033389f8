#pragma once
// face-api's SSD MobileNet-v1 face detector (@vladmandic/face-api 1.7.15, trained on WIDER
// FACE), ported to LibTorch from face-api's own graph of operations (mobileNetV1,
// predictionLayer, outputLayer, nonMaxSuppression). It finds faces the HOG detector is not
// built for — turned up to profile, tilted — and gives a calibrated score. Torch stays inside
// ssd_detector.cpp.
#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ideu {

struct SsdDetection {
    cv::Rect2d box;  // in the pixels of the image given
    double score = 0;
};

constexpr int kSsdInputSize = 512;

class SsdFaceDetector {
public:
    // Loads (and verifies) the weights from the model store, once.
    static std::shared_ptr<const SsdFaceDetector> shared();
    SsdFaceDetector(const std::string& weightsPath, const std::string& manifestPath);
    ~SsdFaceDetector();

    // One pass over a BGR image of any size: padded to a square at the bottom and right,
    // resized to 512², detections above `minConfidence` after face-api's non-maximum
    // suppression (IoU 0.5, at most 100). Thread-safe.
    std::vector<SsdDetection> detect(const cv::Mat& bgr, double minConfidence = 0.5) const;

    // The network on its input (512x512 CV_32FC3, RGB 0..255): each of the 5118 anchors'
    // box (ymin, xmin, ymax, xmax, relative to the input) and face score.
    void run(const cv::Mat& input, std::vector<cv::Vec4f>& boxes, std::vector<float>& scores) const;
    // face-api's input: the image padded to a square with zeros at the bottom and right, then
    // resized bilinearly (TF, no half-pixel centres) to 512², RGB in 0..255. `side` receives
    // the padded square's side in the image's pixels.
    static cv::Mat networkInput(const cv::Mat& bgr, double* side = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// face-api's greedy non-maximum suppression (boxes ymin, xmin, ymax, xmax): indices kept, by
// decreasing score.
std::vector<int> ssdNonMaxSuppression(const std::vector<cv::Vec4f>& boxes, const std::vector<float>& scores,
                                      int maxResults, double iouThreshold, double scoreThreshold);

}  // namespace ideu
