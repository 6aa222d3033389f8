#pragma once
// dlib-style face chips (get_face_chip_details(shape, 150, 0.25)) as the evaluation harness of
// the face-api recogniser cuts them: 5 landmarks -> least-squares similarity onto dlib's
// template, an anti-alias box pyramid, bilinear sampling, black outside the photo.
#include "face/face_detector.h"

#include <opencv2/core.hpp>

#include <array>

namespace ideu {

struct ChipTransform {
    double a = 1, b = 0, tx = 0, ty = 0;  // source = [a -b; b a]·chip + t
    double scale() const;
    int pyramidLevel = 1;
};

constexpr int kChipSize = 150;

// From the five points used by dlib (68-point indices 45, 42, 36, 39, 33), in this order.
ChipTransform chipTransform(const std::array<cv::Point2d, 5>& points);
ChipTransform chipTransform(const Landmarks68& landmarks);

// CV_32FC3 chip in RGB order, values 0..255 (not rounded), from a BGR photo.
cv::Mat extractChip(const cv::Mat& bgr, const ChipTransform& transform);

}  // namespace ideu
