#pragma once
// cv::Mat (BGR, BGRA, grey) <-> QImage, deep copies so the result outlives the source.
#include <QImage>

#include <opencv2/core.hpp>

namespace ideu::ui {

QImage toQImage(const cv::Mat& bgr);
cv::Mat toMat(const QImage& image);  // CV_8UC3 BGR

}  // namespace ideu::ui
