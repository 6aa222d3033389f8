#include "deid/hole_fill.h"

#include "render/face_renderer.h"

#include <Eigen/Dense>
#include <opencv2/imgproc.hpp>

namespace ideu {
namespace {

// Least-squares affine map taking `to` points onto `from` points.
Eigen::Matrix<double, 2, 3> affineFit(const std::vector<Eigen::Vector2d>& to, const std::vector<Eigen::Vector2d>& from) {
    Eigen::MatrixXd a(to.size(), 3);
    Eigen::MatrixXd b(to.size(), 2);
    for (std::size_t i = 0; i < to.size(); ++i) {
        a.row(Eigen::Index(i)) << to[i].x(), to[i].y(), 1;
        b.row(Eigen::Index(i)) << from[i].x(), from[i].y();
    }
    const Eigen::MatrixXd x = a.colPivHouseholderQr().solve(b);
    return x.transpose();
}

}  // namespace

void fillHolesFromCrop(const cv::Mat& crop, const std::array<Eigen::Vector2d, 68>& source,
                       const std::array<Eigen::Vector2d, 68>& target, cv::Mat& image, cv::Mat& mask) {
    cv::Mat cropF;
    crop.convertTo(cropF, CV_32FC3);
    const std::vector<std::vector<int>> openings = {
        {36, 37, 38, 39, 40, 41}, {42, 43, 44, 45, 46, 47}, {60, 61, 62, 63, 64, 65, 66, 67}};
    for (const auto& ids : openings) {
        std::vector<Eigen::Vector2d> to, from;
        std::vector<cv::Point> polygon;
        for (int i : ids) {
            to.push_back(target[std::size_t(i)]);
            from.push_back(source[std::size_t(i)]);
            polygon.emplace_back(cvRound(target[std::size_t(i)].x()), cvRound(target[std::size_t(i)].y()));
        }
        // Context points around the opening keep the map well-conditioned when it is nearly closed.
        const int ring = ids.size() == 6 ? (ids[0] == 36 ? 19 : 24) : 33;
        to.push_back(target[std::size_t(ring)]);
        from.push_back(source[std::size_t(ring)]);
        const Eigen::Matrix<double, 2, 3> map = affineFit(to, from);
        cv::Mat region = cv::Mat::zeros(mask.size(), CV_8U);
        cv::fillPoly(region, std::vector<std::vector<cv::Point>>{polygon}, cv::Scalar(255));
        cv::dilate(region, region, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
        const cv::Rect bounds = cv::boundingRect(region);
        for (int y = bounds.y; y < bounds.y + bounds.height; ++y)
            for (int x = bounds.x; x < bounds.x + bounds.width; ++x) {
                if (!region.at<std::uint8_t>(y, x) || mask.at<std::uint8_t>(y, x)) continue;
                const Eigen::Vector2d s = map * Eigen::Vector3d(x, y, 1);
                image.at<cv::Vec3f>(y, x) = sampleBilinear(cropF, float(s.x()), float(s.y()));
                mask.at<std::uint8_t>(y, x) = 255;
            }
    }
}

}  // namespace ideu
