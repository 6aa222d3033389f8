#include "align/face_align.h"

#include "common/profile.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ideu {
namespace {

// `map` (pixel -> crop pixel) for pixels counted from (x, y) instead of from 0.
void moveOrigin(cv::Matx23d& map, double x, double y) {
    map(0, 2) += map(0, 0) * x + map(0, 1) * y;
    map(1, 2) += map(1, 0) * x + map(1, 1) * y;
}

cv::Point2d apply(const cv::Matx23d& m, const cv::Point2d& p) {
    return {m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2), m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)};
}

cv::Matx23d invert(const cv::Matx23d& m) {
    cv::Matx23d inv;
    cv::invertAffineTransform(m, inv);
    return inv;
}

}  // namespace

double FaceAlignment::scale() const { return std::hypot(cropFromImage(0, 0), cropFromImage(1, 0)); }

FaceAlignment computeAlignment(const Landmarks68& p, int size) {
    const cv::Point2d eyeLeft = lm::rightEyeCentre(p);   // image-left eye
    const cv::Point2d eyeRight = lm::leftEyeCentre(p);   // image-right eye
    const cv::Point2d eyeAvg = (eyeLeft + eyeRight) * 0.5;
    const cv::Point2d eyeToEye = eyeRight - eyeLeft;
    const cv::Point2d mouthAvg = (p[48] + p[54]) * 0.5;
    const cv::Point2d eyeToMouth = mouthAvg - eyeAvg;

    cv::Point2d x = eyeToEye - cv::Point2d(-eyeToMouth.y, eyeToMouth.x);
    x /= std::max(std::hypot(x.x, x.y), 1e-9);
    x *= std::max(std::hypot(eyeToEye.x, eyeToEye.y) * 2.0, std::hypot(eyeToMouth.x, eyeToMouth.y) * 1.8);
    const cv::Point2d y(-x.y, x.x);
    const cv::Point2d c = eyeAvg + eyeToMouth * 0.1;

    FaceAlignment a;
    a.size = size;
    a.quad = {c - x - y, c - x + y, c + x + y, c + x - y};
    // Similarity taking quad[0] to (0,0) and quad[3] to (size,0), in double precision.
    const cv::Point2d axis = a.quad[3] - a.quad[0];
    const double s = size / std::hypot(axis.x, axis.y);
    const double cosA = axis.x / std::hypot(axis.x, axis.y), sinA = axis.y / std::hypot(axis.x, axis.y);
    const double m00 = s * cosA, m01 = s * sinA, m10 = -s * sinA, m11 = s * cosA;
    a.cropFromImage = cv::Matx23d(m00, m01, -(m00 * a.quad[0].x + m01 * a.quad[0].y),
                                  m10, m11, -(m10 * a.quad[0].x + m11 * a.quad[0].y));
    a.imageFromCrop = invert(a.cropFromImage);
    return a;
}

cv::Point2d toCrop(const FaceAlignment& a, const cv::Point2d& p) { return apply(a.cropFromImage, p); }
cv::Point2d toImage(const FaceAlignment& a, const cv::Point2d& p) { return apply(a.imageFromCrop, p); }

cv::Rect cropBoundsInImage(const FaceAlignment& a, const cv::Size& imageSize) {
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (const cv::Point2d& q : a.quad) {
        x0 = std::min(x0, q.x); y0 = std::min(y0, q.y);
        x1 = std::max(x1, q.x); y1 = std::max(y1, q.y);
    }
    const cv::Rect box(cv::Point(int(std::floor(x0)) - 2, int(std::floor(y0)) - 2),
                       cv::Point(int(std::ceil(x1)) + 3, int(std::ceil(y1)) + 3));
    return box & cv::Rect(0, 0, imageSize.width, imageSize.height);
}

AlignedCrop alignFace(const cv::Mat& bgr, const FaceAlignment& alignment) {
    AlignedCrop out;
    out.alignment = alignment;
    const cv::Size size(alignment.size, alignment.size);
    // Shrinking by more than 2x with bilinear sampling aliases: halve the source first.
    cv::Mat source = bgr;
    cv::Matx23d map = alignment.cropFromImage;
    double scale = alignment.scale();
    const cv::Rect roi = cropBoundsInImage(alignment, bgr.size());
    if (scale < 0.5 && roi.area() > 0) {
        source = bgr(roi).clone();
        moveOrigin(map, roi.x, roi.y);
        while (scale < 0.5 && source.cols > 2 && source.rows > 2) {
            cv::pyrDown(source, source);
            // pyrDown's output pixel x' is centred on source pixel 2x'.
            const cv::Matx33d half(2, 0, 0, 0, 2, 0, 0, 0, 1);
            const cv::Matx33d full(map(0, 0), map(0, 1), map(0, 2), map(1, 0), map(1, 1), map(1, 2), 0, 0, 1);
            const cv::Matx33d composed = full * half;
            map = cv::Matx23d(composed(0, 0), composed(0, 1), composed(0, 2), composed(1, 0), composed(1, 1), composed(1, 2));
            scale *= 2;
        }
    }
    cv::warpAffine(source, out.image, map, size, cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
    const cv::Mat ones(bgr.size(), CV_8UC1, cv::Scalar(255));
    cv::warpAffine(ones, out.valid, alignment.cropFromImage, size, cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
    return out;
}

cv::Mat changedPixels(const cv::Mat& edited, const cv::Mat& original) {
    CV_Assert(edited.size() == original.size() && edited.type() == original.type() && edited.depth() == CV_8U);
    const int channels = edited.channels();
    cv::Mat changed(edited.size(), CV_8U);
    cv::parallel_for_(cv::Range(0, edited.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const std::uint8_t* a = edited.ptr<std::uint8_t>(y);
            const std::uint8_t* b = original.ptr<std::uint8_t>(y);
            std::uint8_t* out = changed.ptr<std::uint8_t>(y);
            for (int x = 0; x < edited.cols; ++x) {
                bool differs = false;
                for (int c = 0; c < channels; ++c) differs |= a[x * channels + c] != b[x * channels + c];
                out[x] = differs ? 255 : 0;
            }
        }
    });
    return changed;
}

cv::Mat pasteWeight(const cv::Mat& changed, double featherPx) {
    cv::Mat weight;
    const int half = std::max(1, int(std::ceil(featherPx / 2)));
    cv::Mat grown;
    // Grow by half the feather, then box-blur with a half-width of the other half: changed
    // pixels (and one more pixel, for the resampling) keep weight 1, and the weight reaches
    // 0 one feather out.
    cv::dilate(changed, grown, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * half + 1, 2 * half + 1)));
    grown.convertTo(weight, CV_32F, 1.0 / 255.0);
    cv::blur(weight, weight, cv::Size(2 * half - 1, 2 * half - 1), cv::Point(-1, -1), cv::BORDER_CONSTANT);
    // Snap rounding noise so "unchanged" really is 0 and "changed" really is 1.
    weight.setTo(1.0f, changed);
    cv::threshold(weight, weight, 1e-6, 0, cv::THRESH_TOZERO);
    return weight;
}

void pasteBack(cv::Mat& photo, const cv::Mat& crop, const cv::Mat& weight, const FaceAlignment& a) {
    CV_Assert(photo.type() == CV_8UC3 && crop.type() == CV_8UC3 && weight.type() == CV_32FC1);
    const cv::Rect roi = cropBoundsInImage(a, photo.size());
    if (roi.area() == 0) return;
    cv::Matx23d map = a.cropFromImage;  // image -> crop, shifted to the ROI origin
    moveOrigin(map, roi.x, roi.y);
    cv::Mat warped, w;
    cv::warpAffine(crop, warped, map, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
    cv::warpAffine(weight, w, map, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
    cv::Mat target = photo(roi);
    cv::parallel_for_(cv::Range(0, roi.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const float* wr = w.ptr<float>(y);
            const cv::Vec3b* src = warped.ptr<cv::Vec3b>(y);
            cv::Vec3b* dst = target.ptr<cv::Vec3b>(y);
            for (int x = 0; x < roi.width; ++x) {
                const float t = wr[x];
                if (t <= 0.f) continue;
                if (t >= 1.f) {
                    dst[x] = src[x];
                    continue;
                }
                for (int c = 0; c < 3; ++c) dst[x][c] = cv::saturate_cast<uchar>(dst[x][c] + t * (float(src[x][c]) - dst[x][c]));
            }
        }
    });
}

void pasteChanges(cv::Mat& photo, const cv::Mat& edited, const cv::Mat& original, const FaceAlignment& a,
                  double featherPx) {
    cv::Mat changed, weight;
    {
        ScopedStage part("paste: changed pixels");
        changed = changedPixels(edited, original);
        if (cv::countNonZero(changed) == 0) return;
    }
    {
        ScopedStage part("paste: feather weight");
        weight = pasteWeight(changed, featherPx);
    }
    ScopedStage part("paste: warp and blend");
    pasteBack(photo, edited, weight, a);
}

cv::Mat pasteLayer(const cv::Mat& edited, const cv::Mat& original, const FaceAlignment& a, double featherPx,
                   const cv::Size& photoSize, double scale, cv::Point* origin) {
    CV_Assert(edited.type() == CV_8UC3 && scale > 0 && scale <= 1);
    const cv::Mat changed = changedPixels(edited, original);
    if (cv::countNonZero(changed) == 0) return {};
    cv::Mat crop = edited, weight = pasteWeight(changed, featherPx);
    // The scaled photo's pixel u is centred on the photo's x = (u + 0.5) / scale - 0.5.
    FaceAlignment scaled = a;
    for (cv::Point2d& q : scaled.quad) q = (q + cv::Point2d(0.5, 0.5)) * scale - cv::Point2d(0.5, 0.5);
    const cv::Size scaledSize(int(std::ceil(photoSize.width * scale)), int(std::ceil(photoSize.height * scale)));
    const cv::Rect roi = cropBoundsInImage(scaled, scaledSize);
    if (roi.area() == 0) return {};
    const double offset = 0.5 / scale - 0.5;
    cv::Matx23d map = a.cropFromImage;  // scaled-photo pixel (from the ROI's origin) -> crop pixel
    moveOrigin(map, offset, offset);
    for (int r = 0; r < 2; ++r) map(r, 0) /= scale, map(r, 1) /= scale;
    moveOrigin(map, roi.x, roi.y);
    // The view shrinks the paste by 1 / scale: beyond 2x, bilinear sampling would alias, so
    // the crop is halved first, as alignFace does (pyrDown's pixel x' is centred on the finer
    // level's 2x'). At scale 1 the layer samples the crop as pasteBack does.
    for (double shrink = 1 / scale; shrink > 2 && crop.cols > 2 && crop.rows > 2; shrink /= 2) {
        cv::pyrDown(crop, crop);
        cv::pyrDown(weight, weight);
        map *= 0.5;
    }
    cv::Mat warped, w, alpha, layer;
    cv::warpAffine(crop, warped, map, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
    cv::warpAffine(weight, w, map, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
    w.convertTo(alpha, CV_8U, 255.0);
    cv::cvtColor(warped, layer, cv::COLOR_BGR2BGRA);
    const int alphaToLayer[] = {0, 3};
    cv::mixChannels(&alpha, 1, &layer, 1, alphaToLayer, 1);
    if (origin) *origin = roi.tl();
    return layer;
}

}  // namespace ideu
