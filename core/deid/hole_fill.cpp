#include "deid/hole_fill.h"

#include "render/face_renderer.h"

#include <Eigen/Dense>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ideu {
namespace {

using Landmarks = std::array<Eigen::Vector2d, 68>;

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

// The affine map taking the opening's landmarks (and one context point beside it, which keeps
// the map well-conditioned when the opening is nearly closed) from `target` to `source`.
Eigen::Matrix<double, 2, 3> openingMap(const Landmarks& source, const Landmarks& target, const std::vector<int>& ids) {
    std::vector<Eigen::Vector2d> to, from;
    for (int i : ids) {
        to.push_back(target[std::size_t(i)]);
        from.push_back(source[std::size_t(i)]);
    }
    const int ring = ids.size() == 6 ? (ids[0] == 36 ? 19 : 24) : 33;
    to.push_back(target[std::size_t(ring)]);
    from.push_back(source[std::size_t(ring)]);
    return affineFit(to, from);
}

// The opening's uncovered pixels: its polygon in `target`, grown by 3 px, where the render has
// no mesh.
cv::Mat openingHoles(const Landmarks& target, const std::vector<int>& ids, const cv::Mat& mask) {
    std::vector<cv::Point> polygon;
    for (int i : ids) polygon.emplace_back(cvRound(target[std::size_t(i)].x()), cvRound(target[std::size_t(i)].y()));
    cv::Mat region = cv::Mat::zeros(mask.size(), CV_8U);
    cv::fillPoly(region, std::vector<std::vector<cv::Point>>{polygon}, cv::Scalar(255));
    // Only the polygon's box, grown by the dilation's reach, can change (the rest is 0).
    const cv::Rect box = grownWithin(cv::boundingRect(polygon), 4, mask.size());
    if (box.empty()) return region;
    cv::Mat inBox = region(box);
    cv::dilate(inBox, inBox, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
    inBox.setTo(0, mask(box));
    return region;
}

cv::Vec3f photoAt(const cv::Mat& cropF, const Eigen::Matrix<double, 2, 3>& map, int x, int y) {
    const Eigen::Vector2d s = map * Eigen::Vector3d(x, y, 1);
    return sampleBilinear(cropF, float(s.x()), float(s.y()));
}

// The mesh's edge round a filled opening is a hard, aliased step: softened by about a pixel
// (a Gaussian of sigma 1 over the few pixels either side of it), as the render's depth edges are.
// `box` bounds the holes.
void softenOpeningEdge(const cv::Mat& holes, const cv::Rect& box, cv::Mat& image, const cv::Mat& mask) {
    if (box.empty()) return;
    const cv::Rect around = grownWithin(box, 4, mask.size());
    cv::Mat grown, shrunk, edge, blurred, soft;
    cv::dilate(holes(around), grown, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    cv::erode(holes(around), shrunk, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    const cv::Mat band = grown & ~shrunk & mask(around);
    band.convertTo(edge, CV_32F, 1.0 / 255.0);
    cv::GaussianBlur(edge, soft, cv::Size(0, 0), 1.0);
    // The blur reads the render alone (normalised by its coverage), so no empty pixel beside a
    // turned face's far eye darkens it.
    cv::Mat region = image(around), covered, coverage, coverage3;
    mask(around).convertTo(covered, CV_32F, 1.0 / 255.0);
    cv::GaussianBlur(region, blurred, cv::Size(0, 0), 1.0);  // empty pixels are 0 in the render
    cv::GaussianBlur(covered, coverage, cv::Size(0, 0), 1.0);
    cv::max(coverage, 1e-6, coverage);
    cv::merge(std::vector<cv::Mat>{coverage, coverage, coverage}, coverage3);
    blurred /= coverage3;
    cv::Mat soft3;
    cv::merge(std::vector<cv::Mat>{soft, soft, soft}, soft3);
    soft3.setTo(cv::Scalar::all(0), mask(around) == 0);
    region += (blurred - region).mul(soft3);
}

void fillEye(const cv::Mat& cropF, const Landmarks& source, const Landmarks& target, const std::vector<int>& ids,
             cv::Mat& image, cv::Mat& mask) {
    const Eigen::Matrix<double, 2, 3> map = openingMap(source, target, ids);
    const cv::Mat holes = openingHoles(target, ids, mask);
    const cv::Rect bounds = cv::boundingRect(holes);
    for (int y = bounds.y; y < bounds.y + bounds.height; ++y)
        for (int x = bounds.x; x < bounds.x + bounds.width; ++x) {
            if (!holes.at<std::uint8_t>(y, x)) continue;
            image.at<cv::Vec3f>(y, x) = photoAt(cropF, map, x, y);
            mask.at<std::uint8_t>(y, x) = 255;
        }
    softenOpeningEdge(holes, bounds, image, mask);
}

}  // namespace

void fillMouth(const cv::Mat& cropF, const Landmarks& source, const Landmarks& target, cv::Mat& image, cv::Mat& mask) {
    const std::vector<int> ids = {60, 61, 62, 63, 64, 65, 66, 67};
    const Eigen::Matrix<double, 2, 3> map = openingMap(source, target, ids);
    const cv::Mat holes = openingHoles(target, ids, mask);
    const cv::Rect box = cv::boundingRect(holes);
    if (box.empty()) return;
    // The render's lips on a rim round the gap, against the photo's there (its own lips, round
    // its opening): their log ratio per channel, as a plane over the rim by least squares.
    const cv::Rect rimBox = grownWithin(box, kMouthRimPx + 1, mask.size());
    cv::Mat rim;
    cv::dilate(holes(rimBox), rim, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * kMouthRimPx + 1, 2 * kMouthRimPx + 1)));
    rim &= mask(rimBox);
    const Eigen::Vector2d centre(box.x + box.width / 2.0, box.y + box.height / 2.0);
    const double unit = std::max(1, std::max(box.width, box.height));
    std::vector<cv::Point> rimPixels;
    cv::findNonZero(rim, rimPixels);
    for (cv::Point& q : rimPixels) q += rimBox.tl();
    Eigen::Matrix3d ratioPlane = Eigen::Matrix3d::Zero();  // column c: channel c's offset and slopes
    Eigen::Vector3d photoLips = Eigen::Vector3d::Zero();    // the photo's mean colour on the rim
    if (rimPixels.size() >= 3) {
        Eigen::MatrixXd a(Eigen::Index(rimPixels.size()), 3);
        Eigen::MatrixXd b(Eigen::Index(rimPixels.size()), 3);
        for (std::size_t i = 0; i < rimPixels.size(); ++i) {
            const cv::Point q = rimPixels[i];
            const cv::Vec3f p = photoAt(cropF, map, q.x, q.y), r = image.at<cv::Vec3f>(q);
            a.row(Eigen::Index(i)) << 1, (q.x - centre.x()) / unit, (q.y - centre.y()) / unit;
            for (int c = 0; c < 3; ++c) {
                b(Eigen::Index(i), c) = std::log((double(r[c]) + 1) / (double(p[c]) + 1));
                photoLips[c] += p[c] / double(rimPixels.size());
            }
        }
        ratioPlane = a.colPivHouseholderQr().solve(b);
    }
    for (int y = box.y; y < box.y + box.height; ++y)
        for (int x = box.x; x < box.x + box.width; ++x) {
            if (!holes.at<std::uint8_t>(y, x)) continue;
            const cv::Vec3f p = photoAt(cropF, map, x, y);
            const Eigen::RowVector3d at(1, (x - centre.x()) / unit, (y - centre.y()) / unit);
            const Eigen::RowVector3d logRatio = at * ratioPlane;
            // Only what looks like the photo's lips takes the lips' ratio: teeth and the dark
            // inside of a mouth keep the photo's tone.
            const double lipLike = std::exp(-(Eigen::Vector3d(p[0], p[1], p[2]) - photoLips).squaredNorm() /
                                            (2.0 * kMouthLipColourSd * kMouthLipColourSd));
            cv::Vec3f& out = image.at<cv::Vec3f>(y, x);
            for (int c = 0; c < 3; ++c) {
                const double g = lipLike * std::clamp(logRatio[c], -double(kMouthLogRatioLimit), double(kMouthLogRatioLimit));
                out[c] = float(std::max(0.0, (double(p[c]) + 1) * std::exp(g) - 1));
            }
            mask.at<std::uint8_t>(y, x) = 255;
        }
    softenOpeningEdge(holes, box, image, mask);
}

void fillHolesFromCrop(const cv::Mat& crop, const Landmarks& source, const Landmarks& target, cv::Mat& image,
                       cv::Mat& mask) {
    cv::Mat cropF;
    crop.convertTo(cropF, CV_32FC3);
    fillEye(cropF, source, target, {36, 37, 38, 39, 40, 41}, image, mask);
    fillEye(cropF, source, target, {42, 43, 44, 45, 46, 47}, image, mask);
    fillMouth(cropF, source, target, image, mask);
}

}  // namespace ideu
