#include "qt_convert.h"

#include <QtEndian>

#include <opencv2/imgproc.hpp>

namespace ideu::ui {

// QImage's 32-bit formats are 0xAARRGGBB words: bytes B, G, R, A in memory here, as OpenCV's BGRA.
static_assert(Q_BYTE_ORDER == Q_LITTLE_ENDIAN, "toQImage writes 32-bit pixels as BGRA bytes");

QImage toQImage(const cv::Mat& mat) {
    if (mat.empty()) return {};
    // RGB32 is the raster pixmap's own format: making the pixmap on the GUI thread then
    // shares these pixels instead of converting them (a 12-MP photo: about 25 ms there).
    const bool alpha = mat.type() == CV_8UC4;
    QImage out(mat.cols, mat.rows, alpha ? QImage::Format_ARGB32 : QImage::Format_RGB32);
    cv::Mat pixels(out.height(), out.width(), CV_8UC4, out.bits(), std::size_t(out.bytesPerLine()));
    if (mat.type() == CV_8UC3) {
        cv::cvtColor(mat, pixels, cv::COLOR_BGR2BGRA);
    } else if (mat.type() == CV_8UC1) {
        cv::cvtColor(mat, pixels, cv::COLOR_GRAY2BGRA);
    } else if (mat.type() == CV_32FC3) {
        cv::Mat bgr;
        mat.convertTo(bgr, CV_8UC3);
        cv::cvtColor(bgr, pixels, cv::COLOR_BGR2BGRA);
    } else if (alpha) {
        mat.copyTo(pixels);
    } else {
        return {};
    }
    return out;
}

cv::Mat toMat(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat wrapped(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()), std::size_t(rgb.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(wrapped, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

}  // namespace ideu::ui
