#pragma once
// The dlib ResNet-29 face descriptor (128-d) as ported by @vladmandic/face-api, in LibTorch.
// This is the recogniser the privacy benchmark uses (distance < 0.6 = same person). Torch
// stays inside face_recognizer.cpp; this header is free of it.
#include "face/face_detector.h"

#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ideu {

using FaceDescriptor = std::array<float, 128>;

constexpr double kMatchThreshold = 0.6;

class FaceRecognizer {
public:
    // Loads (and verifies) the face-api weights from the model store, once.
    static std::shared_ptr<const FaceRecognizer> shared();
    FaceRecognizer(const std::string& weightsPath, const std::string& manifestPath);
    ~FaceRecognizer();

    // Chips: CV_32FC3 or CV_8UC3, 150x150, RGB, 0..255. Thread-safe.
    std::vector<FaceDescriptor> describeChips(const std::vector<cv::Mat>& chips) const;
    FaceDescriptor describeChip(const cv::Mat& chip) const;
    // Chip cut from a BGR photo with the face's 68 landmarks, then described.
    FaceDescriptor describe(const cv::Mat& bgr, const Landmarks68& landmarks) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

double descriptorDistance(const FaceDescriptor& a, const FaceDescriptor& b);

}  // namespace ideu
