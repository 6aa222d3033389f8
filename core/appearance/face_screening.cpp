#include "appearance/face_screening.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ideu {
namespace {

cv::Point2d meanPoint(const Landmarks68& p, int from, int to) {
    cv::Point2d s(0, 0);
    for (int i = from; i <= to; ++i) s += p[std::size_t(i)];
    return s / double(to - from + 1);
}

// Mean |d/dy| of each row of `box` (a smoothed grey crop).
std::vector<double> rowEdges(const cv::Mat& gradientY, cv::Rect box) {
    box &= cv::Rect(0, 0, gradientY.cols, gradientY.rows);
    std::vector<double> rows;
    for (int y = box.y; y < box.y + box.height; ++y) {
        double sum = 0;
        for (int x = box.x; x < box.x + box.width; ++x) sum += std::abs(gradientY.at<float>(y, x));
        rows.push_back(box.width > 0 ? sum / box.width : 0);
    }
    return rows;
}

double maxOf(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
double medianOf(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
}

cv::Rect boxOf(double x0, double y0, double x1, double y1) {
    return cv::Rect(cv::Point(int(std::lround(std::min(x0, x1))), int(std::lround(std::min(y0, y1)))),
                    cv::Point(int(std::lround(std::max(x0, x1))), int(std::lround(std::max(y0, y1)))));
}

}  // namespace

double glassesScore(const FittedFace& face) {
    const Landmarks68& p = face.landmarks;
    cv::Mat grey, gy;
    cv::cvtColor(face.crop.image, grey, cv::COLOR_BGR2GRAY);
    grey.convertTo(grey, CV_32F);
    cv::GaussianBlur(grey, grey, cv::Size(0, 0), 1.2);
    cv::Sobel(grey, gy, CV_32F, 0, 1, 3);
    const cv::Point2d le = meanPoint(p, 36, 41), re = meanPoint(p, 42, 47);
    const double d = cv::norm(re - le);
    const double eyeY = 0.5 * (le.y + re.y);
    const double browY = 0.5 * (p[21].y + p[22].y);
    // The bridge: between the inner eye corners, from a little below the brows to the eye line.
    const double inner = p[42].x - p[39].x;
    const double top = std::max(eyeY - 0.3 * d, browY + 0.3 * (eyeY - browY));
    const double bridge = maxOf(rowEdges(gy, boxOf(p[39].x + 0.15 * inner, top, p[42].x - 0.15 * inner, eyeY + 0.05 * d)));
    // The rims under the eyes.
    auto rim = [&](int outer, int innerCorner, int lid1, int lid2) {
        const double bottom = std::max(p[std::size_t(lid1)].y, p[std::size_t(lid2)].y);
        return maxOf(rowEdges(gy, boxOf(p[std::size_t(outer)].x, bottom + 0.12 * d, p[std::size_t(innerCorner)].x, bottom + 0.45 * d)));
    };
    const double rims = std::max(rim(36, 39, 40, 41), rim(45, 42, 46, 47));
    // The cheeks' own texture: between the nose wing and the jaw, below the rims.
    const double cheeks = 0.5 * (medianOf(rowEdges(gy, boxOf(p[3].x + 0.3 * (p[31].x - p[3].x), p[30].y, p[31].x, p[33].y))) +
                                 medianOf(rowEdges(gy, boxOf(p[35].x, p[30].y, p[13].x - 0.3 * (p[13].x - p[35].x), p[33].y))));
    return std::sqrt(bridge * rims) / (cheeks + 4.0) / 4.0;
}

double foreheadCover(const FittedFace& face) {
    const Landmarks68& p = face.landmarks;
    cv::Mat lab;
    cv::cvtColor(face.crop.image, lab, cv::COLOR_BGR2Lab);
    const cv::Point2d le = meanPoint(p, 36, 41), re = meanPoint(p, 42, 47);
    const double d = cv::norm(re - le);
    // Cheek colour: patches halfway between the jaw and the nose tip.
    std::vector<float> channel[3];
    for (const cv::Point2d& c : {(p[2] + p[30]) * 0.5, (p[14] + p[30]) * 0.5}) {
        const cv::Rect box = boxOf(c.x - 0.1 * d, c.y - 0.1 * d, c.x + 0.1 * d, c.y + 0.1 * d) & cv::Rect(0, 0, lab.cols, lab.rows);
        for (int y = box.y; y < box.y + box.height; ++y)
            for (int x = box.x; x < box.x + box.width; ++x)
                for (int k = 0; k < 3; ++k) channel[k].push_back(lab.at<cv::Vec3b>(y, x)[k]);
    }
    float skin[3];
    for (int k = 0; k < 3; ++k) {
        if (channel[k].empty()) return 1;
        std::nth_element(channel[k].begin(), channel[k].begin() + std::ptrdiff_t(channel[k].size() / 2), channel[k].end());
        skin[k] = channel[k][channel[k].size() / 2];
    }
    // The band just above the brows.
    const double h = 0.5 * (le.y + re.y) - 0.5 * (p[19].y + p[24].y);
    std::vector<cv::Point> band;
    for (int i = 17; i <= 26; ++i) band.emplace_back(cvRound(p[std::size_t(i)].x), cvRound(p[std::size_t(i)].y - 0.15 * h));
    for (int i = 26; i >= 17; --i) band.emplace_back(cvRound(p[std::size_t(i)].x), cvRound(p[std::size_t(i)].y - 0.6 * h));
    cv::Mat mask = cv::Mat::zeros(lab.size(), CV_8U);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{band}, cv::Scalar(255));
    // Local texture: hair strands, unlike skin, vary within a few pixels.
    cv::Mat lightness, mean, meanSq;
    cv::extractChannel(lab, lightness, 0);
    lightness.convertTo(lightness, CV_32F, 100.0 / 255.0);
    cv::blur(lightness, mean, cv::Size(5, 5));
    cv::blur(lightness.mul(lightness), meanSq, cv::Size(5, 5));
    int total = 0, unlike = 0;
    for (int y = 0; y < lab.rows; ++y)
        for (int x = 0; x < lab.cols; ++x) {
            if (!mask.at<std::uint8_t>(y, x)) continue;
            const cv::Vec3b c = lab.at<cv::Vec3b>(y, x);
            const double dl = (double(c[0]) - skin[0]) * 100.0 / 255.0, da = double(c[1]) - skin[1], db = double(c[2]) - skin[2];
            ++total;
            // Darker than the cheeks (hair, a hat's shadow), of another colour altogether, or
            // textured like strands; a brighter or paler forehead is only its shine.
            const float m = mean.at<float>(y, x);
            const double texture = std::sqrt(std::max(0.f, meanSq.at<float>(y, x) - m * m));
            unlike += dl < -12 || std::hypot(da, db) > 25 || texture > 6;
        }
    return total ? double(unlike) / total : 1;
}

}  // namespace ideu
