#include "qt_convert.h"

#include <opencv2/imgproc.hpp>

namespace ideu::ui {

QImage toQImage(const cv::Mat& mat) {
    if (mat.empty()) return {};
    cv::Mat rgb;
    if (mat.type() == CV_8UC3) cv::cvtColor(mat, rgb, cv::COLOR_BGR2RGB);
    else if (mat.type() == CV_8UC1) cv::cvtColor(mat, rgb, cv::COLOR_GRAY2RGB);
    else if (mat.type() == CV_32FC3) {
        mat.convertTo(rgb, CV_8UC3);
        cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
    } else {
        return {};
    }
    return QImage(rgb.data, rgb.cols, rgb.rows, int(rgb.step), QImage::Format_RGB888).copy();
}

cv::Mat toMat(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat wrapped(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()), std::size_t(rgb.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(wrapped, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

}  // namespace ideu::ui
