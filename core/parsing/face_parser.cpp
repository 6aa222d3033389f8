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

    if (in.detectOccluders && in.skinColour[0] + in.skinColour[1] + in.skinColour[2] > 0) {
        // Skin pixels far from the skin colour (in Lab, lightness down-weighted because of
        // shading) are occluders: hair over the forehead, glasses frames, hands.
        cv::Mat image8;
        if (in.image.type() == CV_8UC3) image8 = in.image;
        else in.image.convertTo(image8, CV_8UC3);
        cv::Mat lab;
        cv::cvtColor(image8, lab, cv::COLOR_BGR2Lab);
        cv::Mat skinPixel(1, 1, CV_8UC3, cv::Scalar(in.skinColour[0], in.skinColour[1], in.skinColour[2])), skinLab;
        cv::cvtColor(skinPixel, skinLab, cv::COLOR_BGR2Lab);
        const cv::Vec3b s = skinLab.at<cv::Vec3b>(0, 0);
        cv::Mat occluder = cv::Mat::zeros(labels.size(), CV_8U);
        for (int y = 0; y < labels.rows; ++y)
            for (int x = 0; x < labels.cols; ++x) {
                if (labels.at<std::uint8_t>(y, x) != kLabelSkin) continue;
                const cv::Vec3b c = lab.at<cv::Vec3b>(y, x);
                const double dl = (double(c[0]) - s[0]) / 255.0 * 100.0;
                const double da = double(c[1]) - s[1], db = double(c[2]) - s[2];
                // Darker than shading explains, or a different hue.
                const bool farDark = dl < -45;
                const bool farHue = std::hypot(da, db) > 28;
                if (farDark || farHue) occluder.at<std::uint8_t>(y, x) = 255;
            }
        cv::morphologyEx(occluder, occluder, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
        labels.setTo(kLabelOther, occluder);
    }
    return labels;
}

}  // namespace ideu
