#include "restoration/fallback_blur.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ideu {

cv::RotatedRect fallbackRegion(const cv::Rect2d& box) {
    const cv::Point2f centre(float(box.x + box.width / 2), float(box.y + box.height * 0.4));
    return cv::RotatedRect(centre, cv::Size2f(float(1.5 * box.width), float(1.8 * box.height)), 0.f);
}

cv::RotatedRect fallbackRegion(const cv::Rect2d& box, const cv::Matx23d& m) {
    const cv::RotatedRect r = fallbackRegion(box);
    auto map = [&](const cv::Point2f& p) {
        return cv::Point2f(float(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)), float(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)));
    };
    const cv::Point2f c = map(r.center);
    const cv::Point2f right = map(r.center + cv::Point2f(r.size.width / 2, 0)) - c;
    const cv::Point2f down = map(r.center + cv::Point2f(0, r.size.height / 2)) - c;
    const float angle = float(std::atan2(right.y, right.x) * 180 / CV_PI);
    return cv::RotatedRect(c, cv::Size2f(2 * float(cv::norm(right)), 2 * float(cv::norm(down))), angle);
}

void blurFaceRegion(cv::Mat& bgr, const cv::RotatedRect& region, std::uint64_t seed) {
    CV_Assert(bgr.type() == CV_8UC3);
    const double faceSide = std::max(4.0, std::min(region.size.width, region.size.height) / 1.6);
    const int margin = int(faceSide / 10) + 2;  // room for the feather outside the ellipse
    cv::Rect roi = region.boundingRect();
    roi = cv::Rect(roi.x - margin, roi.y - margin, roi.width + 2 * margin, roi.height + 2 * margin) & cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (roi.area() == 0) return;
    // Mosaic-free strong blur: down to ~6 samples across the face, back up with a smooth kernel.
    const double factor = std::min(1.0, 6.0 / faceSide);
    cv::Mat small, smooth;
    cv::resize(bgr(roi), small, cv::Size(), factor, factor, cv::INTER_AREA);
    cv::resize(small, smooth, roi.size(), 0, 0, cv::INTER_CUBIC);
    const int k = 2 * int(faceSide / 12) + 1;
    cv::GaussianBlur(smooth, smooth, cv::Size(k, k), 0);

    // Grain as strong as the photo's own fine noise around the face (median absolute high-pass).
    cv::Mat grey, detail;
    cv::cvtColor(bgr(roi), grey, cv::COLOR_BGR2GRAY);
    cv::Mat greyF, blurred;
    grey.convertTo(greyF, CV_32F);
    cv::GaussianBlur(greyF, blurred, cv::Size(3, 3), 0);
    detail = cv::abs(greyF - blurred);
    std::vector<float> values(detail.begin<float>(), detail.end<float>());
    std::nth_element(values.begin(), values.begin() + long(values.size() / 2), values.end());
    const double sigma = std::clamp(1.4826 * values[values.size() / 2], 0.5, 6.0);
    cv::RNG rng(seed ^ 0x9E3779B97F4A7C15ull);
    cv::Mat grain(roi.size(), CV_32FC1);
    rng.fill(grain, cv::RNG::NORMAL, 0, sigma);
    cv::Mat smoothF;
    smooth.convertTo(smoothF, CV_32FC3);
    cv::Mat grain3;
    cv::merge(std::vector<cv::Mat>{grain, grain, grain}, grain3);
    smoothF += grain3;

    // Soft ellipse: full strength inside, fading over a tenth of the face.
    cv::Mat weight(roi.size(), CV_8U, cv::Scalar(0));
    cv::RotatedRect local = region;
    local.center -= cv::Point2f(float(roi.x), float(roi.y));
    cv::ellipse(weight, local, cv::Scalar(255), cv::FILLED, cv::LINE_AA);
    const int feather = 2 * int(faceSide / 10) + 1;
    cv::GaussianBlur(weight, weight, cv::Size(feather, feather), 0);
    cv::Mat w, w3, original;
    weight.convertTo(w, CV_32F, 1.0 / 255);
    cv::merge(std::vector<cv::Mat>{w, w, w}, w3);
    bgr(roi).convertTo(original, CV_32FC3);
    cv::Mat blended = smoothF.mul(w3) + original.mul(cv::Scalar::all(1) - w3);
    blended.convertTo(bgr(roi), CV_8UC3);
}

}  // namespace ideu
