#include "recognition/face_chip.h"

#include <Eigen/Dense>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace ideu {
namespace {

// dlib's 5-point template (same order as the landmarks), in units of the unpadded chip.
constexpr double kTemplate[5][2] = {{.8595674595992, .2134981538014},
                                    {.6460604764104, .2289674387677},
                                    {.1205750620789, .2137274526848},
                                    {.3340850613712, .2290642403242},
                                    {.4901123135679, .6277975316475}};
constexpr double kPadding = 0.25;

}  // namespace

double ChipTransform::scale() const { return std::hypot(a, b); }

ChipTransform chipTransform(const std::array<cv::Point2d, 5>& points) {
    // Unknowns (a, b, tx, ty): X = a x - b y + tx, Y = b x + a y + ty.
    Eigen::Matrix<double, 10, 4> m;
    Eigen::Matrix<double, 10, 1> rhs;
    for (int k = 0; k < 5; ++k) {
        const double x = (kPadding + kTemplate[k][0]) / (1 + 2 * kPadding) * kChipSize;
        const double y = (kPadding + kTemplate[k][1]) / (1 + 2 * kPadding) * kChipSize;
        m.row(2 * k) << x, -y, 1, 0;
        m.row(2 * k + 1) << y, x, 0, 1;
        rhs(2 * k) = points[std::size_t(k)].x;
        rhs(2 * k + 1) = points[std::size_t(k)].y;
    }
    const Eigen::Vector4d s = (m.transpose() * m).ldlt().solve(m.transpose() * rhs);
    ChipTransform t;
    t.a = s(0);
    t.b = s(1);
    t.tx = s(2);
    t.ty = s(3);
    int level = 1;
    while (t.scale() / level >= 2) level *= 2;
    t.pyramidLevel = level;
    return t;
}

ChipTransform chipTransform(const Landmarks68& p) {
    return chipTransform(std::array<cv::Point2d, 5>{p[45], p[42], p[36], p[39], p[33]});
}

cv::Mat extractChip(const cv::Mat& bgr, const ChipTransform& t) {
    CV_Assert(bgr.type() == CV_8UC3);
    cv::Mat level;
    cv::cvtColor(bgr, level, cv::COLOR_BGR2RGB);
    level.convertTo(level, CV_32FC3);
    for (int l = 1; l < t.pyramidLevel; l *= 2) {
        // 2x2 box mean, floor(w/2) x floor(h/2), kept in float.
        const int w = level.cols / 2, h = level.rows / 2;
        if (w < 1 || h < 1) break;
        cv::Mat half(h, w, CV_32FC3);
        for (int y = 0; y < h; ++y) {
            const cv::Vec3f* r0 = level.ptr<cv::Vec3f>(2 * y);
            const cv::Vec3f* r1 = level.ptr<cv::Vec3f>(2 * y + 1);
            cv::Vec3f* out = half.ptr<cv::Vec3f>(y);
            for (int x = 0; x < w; ++x) out[x] = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
        }
        level = half;
    }
    const double lvl = t.pyramidLevel;
    cv::Mat chip(kChipSize, kChipSize, CV_32FC3, cv::Scalar::all(0));
    for (int y = 0; y < kChipSize; ++y) {
        cv::Vec3f* out = chip.ptr<cv::Vec3f>(y);
        for (int x = 0; x < kChipSize; ++x) {
            const double sx = (t.a * x - t.b * y + t.tx + 0.5) / lvl - 0.5;
            const double sy = (t.b * x + t.a * y + t.ty + 0.5) / lvl - 0.5;
            if (sx < 0 || sy < 0 || sx > level.cols - 1 || sy > level.rows - 1) continue;
            const int x0 = int(sx), y0 = int(sy);
            const int x1 = std::min(x0 + 1, level.cols - 1), y1 = std::min(y0 + 1, level.rows - 1);
            const float fx = float(sx - x0), fy = float(sy - y0);
            const cv::Vec3f* r0 = level.ptr<cv::Vec3f>(y0);
            const cv::Vec3f* r1 = level.ptr<cv::Vec3f>(y1);
            out[x] = (r0[x0] * (1 - fx) + r0[x1] * fx) * (1 - fy) + (r1[x0] * (1 - fx) + r1[x1] * fx) * fy;
        }
    }
    return chip;
}

}  // namespace ideu
