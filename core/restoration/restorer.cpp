#include "restoration/restorer.h"

#include "common/parallel.h"
#include "common/profile.h"
#include "identity/seeded_noise.h"
#include "parsing/face_parser.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <optional>
#include <cmath>

namespace ideu {
namespace {
constexpr float kFeather = 14.f;  // crop pixels
}

cv::Mat multiBandBlend(const cv::Mat& foreground, const cv::Mat& background, const cv::Mat& mask, int levels) {
    CV_Assert(foreground.type() == CV_32FC3 && background.type() == CV_32FC3 && mask.type() == CV_32F);
    // Each band is Lf·m + Lb·(1 − m) = Lb + (Lf − Lb)·m, and the background's bands add up to
    // the background: so the result is the background plus the blend of one pyramid, that of
    // the difference, instead of the two images' pyramids blended.
    cv::Mat difference;
    cv::subtract(foreground, background, difference);
    std::vector<cv::Mat> gd{difference}, gm{mask};
    for (int l = 1; l < levels; ++l) {
        cv::Mat d, m;
        cv::pyrDown(gd.back(), d);
        cv::pyrDown(gm.back(), m);
        gd.push_back(d);
        gm.push_back(m);
    }
    cv::Mat result;
    for (int l = levels - 1; l >= 0; --l) {
        const std::size_t i = std::size_t(l);
        // Laplacian band = level - expanded next level (the Gaussian levels are still needed);
        // the coarsest level is its own band.
        cv::Mat ld, up;
        if (l < levels - 1) {
            cv::pyrUp(gd[i + 1], up, gd[i].size());
            cv::subtract(gd[i], up, ld);
            cv::pyrUp(result, up, gd[i].size());
        } else {
            ld = gd[i];
        }
        // band·m added to the expanded coarser result, and at the finest level the background.
        const cv::Mat* base = l == 0 ? &background : nullptr;
        cv::Mat next(ld.size(), CV_32FC3);
        cv::parallel_for_(cv::Range(0, ld.rows), [&](const cv::Range& rows) {
            for (int y = rows.start; y < rows.end; ++y) {
                const cv::Vec3f* d = ld.ptr<cv::Vec3f>(y);
                const float* m = gm[i].ptr<float>(y);
                const cv::Vec3f* u = up.empty() ? nullptr : up.ptr<cv::Vec3f>(y);
                const cv::Vec3f* bg = base ? base->ptr<cv::Vec3f>(y) : nullptr;
                cv::Vec3f* out = next.ptr<cv::Vec3f>(y);
                for (int x = 0; x < ld.cols; ++x) {
                    cv::Vec3f v = d[x] * m[x];
                    if (u) v += u[x];
                    if (bg) v += bg[x];
                    out[x] = v;
                }
            }
        });
        result = next;
    }
    return result;
}

double estimateNoise(const cv::Mat& bgr8Full, const cv::Mat& maskFull) {
    // Only the mask's bounding box (plus the filter's margin) matters.
    const cv::Rect box = (cv::boundingRect(maskFull) + cv::Size(2, 2) - cv::Point(1, 1)) & cv::Rect(0, 0, maskFull.cols, maskFull.rows);
    if (box.area() == 0) return 0;
    const cv::Mat bgr8 = bgr8Full(box), mask = maskFull(box);
    cv::Mat grey;
    cv::cvtColor(bgr8, grey, cv::COLOR_BGR2GRAY);
    grey.convertTo(grey, CV_32F);
    const cv::Mat kernel = (cv::Mat_<float>(3, 3) << 1, -2, 1, -2, 4, -2, 1, -2, 1);
    cv::Mat response;
    cv::filter2D(grey, response, CV_32F, kernel);
    cv::Mat inner;
    cv::erode(mask, inner, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    double sum = 0;
    int n = 0;
    for (int y = 1; y + 1 < grey.rows; ++y) {
        const std::uint8_t* in = inner.ptr<std::uint8_t>(y);
        const float* r = response.ptr<float>(y);
        for (int x = 1; x + 1 < grey.cols; ++x)
            if (in[x]) sum += std::abs(r[x]), ++n;
    }
    if (n < 100) return 0;
    return std::sqrt(CV_PI / 2.0) * sum / (6.0 * n);
}

cv::Mat BlendRestorer::restore(const RestoreInput& in) const {
    const Hybrid& hybrid = *in.hybrid;
    cv::Mat out = hybrid.warped.clone();
    if (cv::countNonZero(hybrid.faceMask) == 0) return out;
    // The new face is blended in over its whole region, under the occluders too (so no ring
    // of the old skin stays around a frame or a strand), and the occluders are then put back
    // on top, crisp and opaque.
    const cv::Mat region = hybrid.faceMask | (hybrid.styling & faceRegion(hybrid.parsingXp) & (in.perturbed->mask > 0));
    // Everything happens in the face mask's box grown by the blend's reach (the result equals
    // the warped photo beyond it), sized to a multiple of 16 for the 5-level pyramid.
    constexpr int kReach = 48;
    const cv::Rect crop(0, 0, out.cols, out.rows);
    cv::Rect box = cv::boundingRect(region);
    box = cv::Rect(box.x - kReach, box.y - kReach, box.width + 2 * kReach, box.height + 2 * kReach) & crop;
    box.width = std::min(crop.width - box.x, (box.width + 15) / 16 * 16);
    box.height = std::min(crop.height - box.y, (box.height + 15) / 16 * 16);
    const cv::Mat faceMask = region(box);

    // The foreground is X_l (X_p inside the face mask, the warped photo around it), so the
    // pyramids of both differ only where the face differs.
    cv::Mat foreground(box.size(), CV_32FC3), background(box.size(), CV_32FC3);
    cv::parallel_for_(cv::Range(0, box.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const cv::Vec3b* warped = hybrid.warped.ptr<cv::Vec3b>(box.y + y) + box.x;
            const cv::Vec3f* layered = hybrid.foreground.ptr<cv::Vec3f>(box.y + y) + box.x;
            const std::uint8_t* inFace = faceMask.ptr<std::uint8_t>(y);
            cv::Vec3f* f = foreground.ptr<cv::Vec3f>(y);
            cv::Vec3f* b = background.ptr<cv::Vec3f>(y);
            for (int x = 0; x < box.width; ++x) {
                b[x] = cv::Vec3f(warped[x]);
                f[x] = inFace[x] ? layered[x] : b[x];
            }
        }
    });

    std::optional<ScopedStage> sub(std::in_place, "restore: grain");
    // Grain: the render is a little smoother than the photo; add the missing noise, seeded.
    const double photoNoise = estimateNoise(hybrid.warped(box), faceMask);
    cv::Mat render8;
    in.perturbed->image(box).convertTo(render8, CV_8UC3);
    const double renderNoise = estimateNoise(render8, faceMask);
    const double missing = std::sqrt(std::max(0.0, photoNoise * photoNoise - renderNoise * renderNoise));
    if (missing > 0.2) {
        // One draw per face pixel in raster order; each row starts at the count of the rows above.
        std::vector<std::size_t> firstDraw(std::size_t(foreground.rows) + 1, 0);
        for (int y = 0; y < foreground.rows; ++y)
            firstDraw[std::size_t(y) + 1] = firstDraw[std::size_t(y)] + std::size_t(cv::countNonZero(faceMask.row(y)));
        const auto normals = normalSequence(in.seed ^ 0x5851F42D4C957F2Dull, firstDraw.back());
        cv::parallel_for_(cv::Range(0, foreground.rows), [&](const cv::Range& rows) {
            for (int y = rows.start; y < rows.end; ++y) {
                cv::Vec3f* row = foreground.ptr<cv::Vec3f>(y);
                const std::uint8_t* m = faceMask.ptr<std::uint8_t>(y);
                std::size_t k = firstDraw[std::size_t(y)];
                for (int x = 0; x < foreground.cols; ++x) {
                    if (!m[x]) continue;
                    const float g = float(missing * (*normals)[k++]);  // luminance grain
                    row[x] += cv::Vec3f(g, g, g);
                }
            }
        });
    }
    // Soft mask: a smoothstep ramp from the mask's edge inwards over kFeather pixels (wide
    // enough that the forehead's edge under the hair does not show as a line); the pyramid
    // blends the low frequencies over a wider band, so tone differences fade out.
    sub.reset();
    sub.emplace("restore: feather masks");
    cv::Mat inside, outside;
    {
        // OpenCV's 3x3 distance transform runs on one thread: the two run side by side.
        auto outsideMade = startBeside([&] { cv::distanceTransform(faceMask == 0, outside, cv::DIST_L2, 3); });
        cv::distanceTransform(faceMask, inside, cv::DIST_L2, 3);
        outsideMade.get();
    }
    cv::Mat mask(inside.size(), CV_32F), fade(inside.size(), CV_32F);
    cv::parallel_for_(cv::Range(0, mask.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const float* in = inside.ptr<float>(y);
            const float* out = outside.ptr<float>(y);
            float* m = mask.ptr<float>(y);
            float* f = fade.ptr<float>(y);
            for (int x = 0; x < mask.cols; ++x) {
                const float t = std::min(1.f, in[x] / kFeather);
                m[x] = t * t * (3 - 2 * t);
                // The blend's reach is faded out between 24 and 40 pixels from the face mask.
                f[x] = std::clamp((40.f - out[x]) / 16.f, 0.f, 1.f);
            }
        }
    });
    sub.reset();
    sub.emplace("restore: pyramid blend");
    const cv::Mat blended = multiBandBlend(foreground, background, mask, 5);
    sub.reset();
    sub.emplace("restore: occluders, compose");
    // The occluders, with a one-pixel soft edge.
    cv::Mat occluders;
    hybrid.styling(box).convertTo(occluders, CV_32F, 1.0 / 255.0);
    const bool occluded = cv::countNonZero(occluders) > 0;
    if (occluded) cv::GaussianBlur(occluders, occluders, cv::Size(0, 0), 0.7);
    // result = background + (blended - background) * fade, then the occluders' pixels back
    // over it: result + (background - result) * alpha.
    // Rounded to 8 bits where the fade or the occluders reach; the warped photo elsewhere.
    cv::Mat target = out(box);
    cv::parallel_for_(cv::Range(0, box.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const cv::Vec3f* bg = background.ptr<cv::Vec3f>(y);
            const cv::Vec3f* bl = blended.ptr<cv::Vec3f>(y);
            const float* f = fade.ptr<float>(y);
            const float* a = occluders.ptr<float>(y);
            cv::Vec3b* r = target.ptr<cv::Vec3b>(y);
            for (int x = 0; x < box.width; ++x) {
                if (!(f[x] > 0) && !(a[x] > 0)) continue;
                for (int c = 0; c < 3; ++c) {
                    float v = bg[x][c] + (bl[x][c] - bg[x][c]) * f[x];
                    if (occluded) v = v + (bg[x][c] - v) * a[x];
                    r[x][c] = cv::saturate_cast<uchar>(v);
                }
            }
        }
    });
    return out;
}

}  // namespace ideu
