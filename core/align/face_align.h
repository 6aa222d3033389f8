#pragma once
// FFHQ-style face alignment: an oriented square from the eye and mouth landmarks, mapped to a
// fixed-size crop; its inverse; and pasting edited crops back into the photo.
#include "face/face_detector.h"

#include <opencv2/core.hpp>

namespace ideu {

struct FaceAlignment {
    int size = 512;
    cv::Matx23d cropFromImage;  // image pixel -> crop pixel
    cv::Matx23d imageFromCrop;  // crop pixel -> image pixel
    std::array<cv::Point2d, 4> quad;  // crop corners in the image: top-left, bottom-left, bottom-right, top-right
    double scale() const;  // crop pixels per image pixel
};

// The FFHQ recipe (eye centres, mouth corners; side = max(2·eye distance, 1.8·eye-to-mouth)).
FaceAlignment computeAlignment(const Landmarks68& landmarks, int size = 512);

struct AlignedCrop {
    cv::Mat image;  // CV_8UC3, size x size; outside the photo the content is mirrored
    cv::Mat valid;  // CV_8UC1, 255 where the crop pixel lies inside the photo
    FaceAlignment alignment;
};

AlignedCrop alignFace(const cv::Mat& bgr, const FaceAlignment& alignment);

// Maps points between photo and crop.
cv::Point2d toCrop(const FaceAlignment& a, const cv::Point2d& imagePoint);
cv::Point2d toImage(const FaceAlignment& a, const cv::Point2d& cropPoint);

// 0/255 mask of the crop pixels where `edited` differs from `original`.
cv::Mat changedPixels(const cv::Mat& edited, const cv::Mat& original);

// Paste weight (CV_32F, 0..1) for a crop: 1 on every changed pixel, falling to 0 within
// `featherPx` crop pixels outside, and 0 beyond. Pixels further than the feather from
// every change keep their original bytes after pasting.
cv::Mat pasteWeight(const cv::Mat& changed, double featherPx);

// Blends `crop` back into `photo` with the given crop-space weight. Pixels with weight 0
// are left bit-identical; the crop is resampled with the inverse transform.
void pasteBack(cv::Mat& photo, const cv::Mat& crop, const cv::Mat& weight, const FaceAlignment& alignment);

// Convenience: pastes only what changed between `original` and `edited` crops (feathered).
// Pasting an unchanged crop leaves the photo byte-identical.
void pasteChanges(cv::Mat& photo, const cv::Mat& edited, const cv::Mat& original,
                  const FaceAlignment& alignment, double featherPx = 8);

// Bounding box (clipped to the photo) of the crop square in image coordinates.
cv::Rect cropBoundsInImage(const FaceAlignment& a, const cv::Size& imageSize);

// pasteChanges as a layer for a view of the photo scaled by `scale` (0 < scale ≤ 1): a BGRA
// image (CV_8UC4) covering the crop's bounds in the scaled photo, colour the edited crop
// resampled there, alpha the paste weight. Laid over the photo scaled alike (alpha-over, in
// paste order), it is the pasted photo at that scale, up to the 8-bit alpha; it costs a
// resample of the crop to the view's pixels instead of a blend at the photo's. `origin`
// receives its top-left pixel in the scaled photo. Empty when nothing changed.
cv::Mat pasteLayer(const cv::Mat& edited, const cv::Mat& original, const FaceAlignment& alignment, double featherPx,
                   const cv::Size& photoSize, double scale, cv::Point* origin);

}  // namespace ideu
