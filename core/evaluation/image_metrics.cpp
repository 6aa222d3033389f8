#include "evaluation/image_metrics.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

namespace ideu {

double psnr(const cv::Mat& a, const cv::Mat& b) {
    CV_Assert(a.size() == b.size() && a.type() == b.type());
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    diff.convertTo(diff, CV_64F);
    const cv::Mat squared = diff.mul(diff);
    const double mse = cv::mean(squared.reshape(1))[0];
    return mse <= 1e-10 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const cv::Mat& a, const cv::Mat& b) {
    CV_Assert(a.size() == b.size() && a.type() == b.type());
    cv::Mat x, y;
    if (a.channels() == 3) {
        cv::cvtColor(a, x, cv::COLOR_BGR2GRAY);
        cv::cvtColor(b, y, cv::COLOR_BGR2GRAY);
    } else {
        x = a;
        y = b;
    }
    x.convertTo(x, CV_64F);
    y.convertTo(y, CV_64F);
    const double c1 = std::pow(0.01 * 255, 2), c2 = std::pow(0.03 * 255, 2);
    const cv::Size window(11, 11);
    cv::Mat mx, my, sxx, syy, sxy;
    cv::GaussianBlur(x, mx, window, 1.5);
    cv::GaussianBlur(y, my, window, 1.5);
    cv::GaussianBlur(x.mul(x), sxx, window, 1.5);
    cv::GaussianBlur(y.mul(y), syy, window, 1.5);
    cv::GaussianBlur(x.mul(y), sxy, window, 1.5);
    sxx -= mx.mul(mx);
    syy -= my.mul(my);
    sxy -= mx.mul(my);
    cv::Mat num = (2 * mx.mul(my) + c1).mul(2 * sxy + c2);
    cv::Mat den = (mx.mul(mx) + my.mul(my) + c1).mul(sxx + syy + c2);
    cv::Mat map;
    cv::divide(num, den, map);
    return cv::mean(map)[0];
}

}  // namespace ideu
