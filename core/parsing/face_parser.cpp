#include "parsing/face_parser.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

namespace ideu {
namespace {

std::vector<cv::Point> polygon(const std::array<Eigen::Vector2d, 68>& p, std::initializer_list<int> ids) {
    std::vector<cv::Point> out;
    for (int i : ids) out.emplace_back(cvRound(p[std::size_t(i)].x()), cvRound(p[std::size_t(i)].y()));
    return out;
}

void fill(cv::Mat& labels, const std::vector<cv::Point>& poly, FaceLabel label) {
    cv::fillPoly(labels, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(label), cv::LINE_8);
}

}  // namespace

const char* faceLabelName(int label) {
    static const char* names[kFaceLabelCount] = {"other", "skin", "brows", "eyes", "nose", "lips", "mouth"};
    return label >= 0 && label < kFaceLabelCount ? names[label] : "?";
}

cv::Vec3b faceLabelColour(int label) {
    static const cv::Vec3b colours[kFaceLabelCount] = {{40, 40, 40},   {140, 190, 240}, {40, 80, 120}, {230, 160, 60},
                                                       {90, 200, 130}, {90, 70, 220},   {150, 40, 150}};
    return label >= 0 && label < kFaceLabelCount ? colours[label] : cv::Vec3b(255, 255, 255);
}

cv::Mat colourizeParsing(const cv::Mat& labels) {
    cv::Mat out(labels.size(), CV_8UC3);
    for (int y = 0; y < labels.rows; ++y)
        for (int x = 0; x < labels.cols; ++x) out.at<cv::Vec3b>(y, x) = faceLabelColour(labels.at<std::uint8_t>(y, x));
    return out;
}

cv::Mat faceRegion(const cv::Mat& labels) { return labels != kLabelOther; }

cv::Mat findOccluders(const ParsingInput& in) {
    const auto& p = in.landmarks;
    cv::Mat image8, expected8;
    if (in.image.type() == CV_8UC3) image8 = in.image;
    else in.image.convertTo(image8, CV_8UC3);
    in.expected.convertTo(expected8, CV_8UC3);
    cv::Mat labX, labF;
    cv::cvtColor(image8, labX, cv::COLOR_BGR2Lab);
    cv::cvtColor(expected8, labF, cv::COLOR_BGR2Lab);
    labX.convertTo(labX, CV_32FC3);
    labF.convertTo(labF, CV_32FC3);
    cv::GaussianBlur(labX, labX, cv::Size(0, 0), 1.0);
    cv::GaussianBlur(labF, labF, cv::Size(0, 0), 1.0);
    // Where the model draws differently by design: features, grown by a margin.
    const double eyeBrow = ((p[37] + p[44]) * 0.5 - (p[19] + p[24]) * 0.5).norm();
    cv::Mat features = cv::Mat::zeros(image8.size(), CV_8U);
    for (int first : {17, 22}) {
        std::vector<cv::Point> band;
        for (int i = first; i < first + 5; ++i) band.emplace_back(cvRound(p[std::size_t(i)].x()), cvRound(p[std::size_t(i)].y() - 0.12 * eyeBrow));
        for (int i = first + 4; i >= first; --i) band.emplace_back(cvRound(p[std::size_t(i)].x()), cvRound(p[std::size_t(i)].y() + 0.4 * eyeBrow));
        fill(features, band, FaceLabel(255));
    }
    for (const auto& ids : {std::initializer_list<int>{36, 37, 38, 39, 40, 41}, std::initializer_list<int>{42, 43, 44, 45, 46, 47}}) {
        cv::Mat eye = cv::Mat::zeros(image8.size(), CV_8U);
        fill(eye, polygon(p, ids), FaceLabel(255));
        const int grow = std::max(3, int(0.12 * eyeBrow)) | 1;
        cv::dilate(eye, eye, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, grow + 1)));
        features |= eye;
    }
    {
        cv::Mat mouth = cv::Mat::zeros(image8.size(), CV_8U);
        fill(mouth, polygon(p, {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}), FaceLabel(255));
        const Eigen::Vector2d tip = p[33];
        std::vector<cv::Point> nostrils;
        for (int i : {31, 32, 33, 34, 35}) {
            const Eigen::Vector2d q = tip + (p[std::size_t(i)] - tip) * 1.4;
            nostrils.emplace_back(cvRound(q.x()), cvRound(q.y()));
        }
        nostrils.emplace_back(cvRound(p[30].x()), cvRound(p[30].y()));
        std::vector<cv::Point> hull;
        cv::convexHull(nostrils, hull);
        cv::fillConvexPoly(mouth, hull, cv::Scalar(255));
        cv::dilate(mouth, mouth, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
        features |= mouth;
    }
    cv::Mat occluder = cv::Mat::zeros(image8.size(), CV_8U);
    const cv::Mat valid = in.faceArea & in.expectedMask & ~features;
    for (int y = 0; y < occluder.rows; ++y) {
        const cv::Vec3f* x = labX.ptr<cv::Vec3f>(y);
        const cv::Vec3f* f = labF.ptr<cv::Vec3f>(y);
        const std::uint8_t* v = valid.ptr<std::uint8_t>(y);
        std::uint8_t* o = occluder.ptr<std::uint8_t>(y);
        for (int i = 0; i < occluder.cols; ++i) {
            if (!v[i]) continue;
            const float dl = (x[i][0] - f[i][0]) * (100.f / 255.f);
            const float lf = f[i][0] * (100.f / 255.f);
            const float dab = std::hypot(x[i][1] - f[i][1], x[i][2] - f[i][2]);
            // Shading errors scale with the level; skin detail stays within a few units.
            const bool dark = dl < -std::max(18.f, 0.3f * lf);
            const bool light = dl > std::max(22.f, 0.3f * lf);
            const bool hue = dab > 20.f;
            if (dark || light || hue) o[i] = 255;
        }
    }
    cv::morphologyEx(occluder, occluder, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
    occluder &= valid;
    // What lies over a face reaches in from its edge (hair, hands) or runs across it (frames,
    // strands); a compact mark inside the face (a mole, a scar, a tattoo) is the person's
    // skin, which the new face replaces, and specks are detail or noise.
    cv::Mat edge;
    {
        cv::Mat area = in.faceArea & in.expectedMask, inner;
        cv::erode(area, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(9, 9)));
        edge = area & ~inner;
    }
    cv::Mat components, stats, centroids;
    const int count = cv::connectedComponentsWithStats(occluder, components, stats, centroids, 8);
    const double span = 0.5 * (p[45] - p[36]).norm();  // half the outer eye corners' distance
    const int minArea = std::max(12, int(0.02 * eyeBrow * eyeBrow));
    // Where a frame's rims lie: from the brows to an eye's width below the eyes, and 0.6 of an
    // eye's width beyond the outer corners. The features cut a frame into rims, and a lens's
    // top rim alone is shorter than `span`.
    const double eyeWidth = 0.5 * ((p[39] - p[36]).norm() + (p[45] - p[42]).norm());
    const cv::Rect2d rims(cv::Point2d(p[36].x() - 0.6 * eyeWidth, std::min(p[19].y(), p[24].y())),
                          cv::Point2d(p[45].x() + 0.6 * eyeWidth, std::max(p[41].y(), p[46].y()) + eyeWidth));
    std::vector<char> keep(std::size_t(count), 0);
    for (int c = 1; c < count; ++c) {
        const int area = stats.at<int>(c, cv::CC_STAT_AREA);
        const int extent = std::max(stats.at<int>(c, cv::CC_STAT_WIDTH), stats.at<int>(c, cv::CC_STAT_HEIGHT));
        const bool rim = in.glasses && extent >= span / 3 &&
                         rims.contains(cv::Point2d(centroids.at<double>(c, 0), centroids.at<double>(c, 1)));
        keep[std::size_t(c)] = area >= minArea && (extent >= span || rim);
    }
    for (int y = 0; y < occluder.rows; ++y) {
        const int* label = components.ptr<int>(y);
        const std::uint8_t* e = edge.ptr<std::uint8_t>(y);
        for (int x = 0; x < occluder.cols; ++x)
            if (label[x] > 0 && e[x] && stats.at<int>(label[x], cv::CC_STAT_AREA) >= minArea) keep[std::size_t(label[x])] = 1;
    }
    for (int y = 0; y < occluder.rows; ++y) {
        const int* label = components.ptr<int>(y);
        std::uint8_t* o = occluder.ptr<std::uint8_t>(y);
        for (int x = 0; x < occluder.cols; ++x) o[x] = keep[std::size_t(label[x])] ? 255 : 0;
    }
    return occluder;
}

cv::Mat MeshLandmarkParser::parse(const ParsingInput& in) const {
    const auto& p = in.landmarks;
    cv::Mat labels = cv::Mat::zeros(in.faceArea.size(), CV_8U);
    labels.setTo(kLabelSkin, in.faceArea);
    // The face also ends at the jaw contour (the mesh may reach a little past it).
    cv::Mat inside = cv::Mat::zeros(labels.size(), CV_8U);
    {
        std::vector<cv::Point> hull = polygon(p, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        // Close the outline over the forehead, above the brows.
        const Eigen::Vector2d eyes = (p[36] + p[45]) * 0.5, brows = (p[19] + p[24]) * 0.5;
        const Eigen::Vector2d up = (brows - eyes) * 2.2;
        for (int i : {26, 24, 19, 17}) {
            const Eigen::Vector2d q = p[std::size_t(i)] + up;
            hull.emplace_back(cvRound(q.x()), cvRound(q.y()));
        }
        std::vector<cv::Point> convex;
        cv::convexHull(hull, convex);
        cv::fillConvexPoly(inside, convex, cv::Scalar(255));
    }
    labels.setTo(kLabelOther, ~inside);

    const double eyeBrow = ((p[37] + p[44]) * 0.5 - (p[19] + p[24]) * 0.5).norm();
    // Brows: a band from the brow landmarks (their upper edge) down by a third of the way to the eyes.
    for (int first : {17, 22}) {
        std::vector<cv::Point> band;
        for (int i = first; i < first + 5; ++i) band.emplace_back(cvRound(p[std::size_t(i)].x()), cvRound(p[std::size_t(i)].y() - 0.05 * eyeBrow));
        for (int i = first + 4; i >= first; --i) band.emplace_back(cvRound(p[std::size_t(i)].x()), cvRound(p[std::size_t(i)].y() + 0.35 * eyeBrow));
        fill(labels, band, kLabelBrows);
    }
    {  // nose: bridge to wings
        std::vector<cv::Point> nose;
        const Eigen::Vector2d tip = p[33];
        nose.emplace_back(cvRound(p[27].x() - 0.12 * eyeBrow), cvRound(p[27].y()));
        nose.emplace_back(cvRound(p[27].x() + 0.12 * eyeBrow), cvRound(p[27].y()));
        for (int i : {35, 34, 33, 32, 31}) {
            const Eigen::Vector2d q = tip + (p[std::size_t(i)] - tip) * 1.25;
            nose.emplace_back(cvRound(q.x()), cvRound(q.y()));
        }
        std::vector<cv::Point> convex;
        cv::convexHull(nose, convex);
        fill(labels, convex, kLabelNose);
    }
    fill(labels, polygon(p, {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}), kLabelLips);
    fill(labels, polygon(p, {60, 61, 62, 63, 64, 65, 66, 67}), kLabelMouth);
    fill(labels, polygon(p, {36, 37, 38, 39, 40, 41}), kLabelEyes);
    fill(labels, polygon(p, {42, 43, 44, 45, 46, 47}), kLabelEyes);

    if (!in.expected.empty()) labels.setTo(kLabelOther, findOccluders(in) & (labels == kLabelSkin));
    return labels;
}

}  // namespace ideu
