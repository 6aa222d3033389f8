#include "restoration/hybrid.h"

#include "appearance/photo_texture.h"
#include "common/profile.h"
#include "parsing/face_parser.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

namespace ideu {
namespace {
constexpr float kBorderFade = 40.f;  // crop pixels
// Near the crop's border the motion is also held within this share of the distance to it. The
// fade alone folds the map (it runs backwards and repeats a strip in bands) where a motion of
// more than about 27 px meets the border, as under a chin that moved far up; held so, the
// photo there is squeezed instead.
constexpr float kBorderReach = 0.45f;
constexpr double kWarpSmoothing = 4.0;  // sigma of the outline warp's motion, crop pixels
// Beside the new face the motion may change by at most this many pixels per pixel away from
// the face's own motion (and towards the still photo around the head): the photo shown there
// is then stretched or squeezed by about 1 / (1 - kMaxMotionSlope) at most along a row or a
// column, and by about 2 at most in any direction (test_pipeline).
// The model's shape noise can move an ear far more than the cheek beside it (24 px against
// 2), and the photo between them, an earring, was stretched threefold.
constexpr float kMaxMotionSlope = 0.35f;
// A surface point lies hidden in the fitted view when it is this far (cm) behind the fitted
// head's front surface there: a far ear or the side of a head lies several cm behind the cheek
// that hides it, and the margin absorbs the depth's change across a pixel at a grazing cheek.
constexpr float kHiddenDepth = 1.5f;
}

namespace {

// The crop is pasted back into the photo: at its border nothing may move, or the paste would
// show a seam. A smoothstep from 0 at the border to 1 at kBorderFade pixels in; the same for
// every face of a crop size, so it is made once.
cv::Mat borderFade(int width, int height) {
    static std::mutex mutex;
    static std::map<std::pair<int, int>, cv::Mat> made;
    std::lock_guard<std::mutex> lock(mutex);
    cv::Mat& fade = made[{width, height}];
    if (fade.empty()) {
        fade.create(height, width, CV_32F);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) {
                const float edge = float(std::min({x, y, width - 1 - x, height - 1 - y}));
                const float e = std::min(1.f, edge / kBorderFade);
                fade.at<float>(y, x) = e * e * (3 - 2 * e);
            }
    }
    return fade;
}

// The nearest depth of the raster around a point (its pixel and the 8 beside it: a point on
// the outline may fall just outside the raster's covered pixels).
float frontDepth(const RasterBuffers& raster, float x, float y) {
    const int cx = std::clamp(int(std::lround(x)), 0, raster.width - 1);
    const int cy = std::clamp(int(std::lround(y)), 0, raster.height - 1);
    float front = std::numeric_limits<float>::infinity();
    for (int v = std::max(0, cy - 1); v <= std::min(raster.height - 1, cy + 1); ++v)
        for (int u = std::max(0, cx - 1); u <= std::min(raster.width - 1, cx + 1); ++u)
            front = std::min(front, raster.depth[raster.index(u, v)]);
    return front;
}

// The cones of slope `slope` (per pixel) below and above both components of `field`
// (CV_32FC2) at the pixels `sources` marks (CV_8U; every pixel when empty), as CV_32FC4: per
// component c, channel c is the upper envelope (the least over the sources of value + slope x
// distance) and channel 2 + c the negated lower one (the least of -value + slope x distance).
// Two chamfer sweeps (3x3 steps: exact along rows, columns and diagonals); the four run
// side by side, as one 4-float vector per pixel.
cv::Mat coneEnvelopes(const cv::Mat& field, const cv::Mat& sources, float slope) {
    const int width = field.cols, height = field.rows;
    const float straight = slope, diagonal = slope * std::sqrt(2.f);
    constexpr float kNone = std::numeric_limits<float>::infinity();
    cv::Mat envelopes(height, width, CV_32FC4);
    for (int y = 0; y < height; ++y) {
        const cv::Vec2f* v = field.ptr<cv::Vec2f>(y);
        const std::uint8_t* source = sources.empty() ? nullptr : sources.ptr<std::uint8_t>(y);
        cv::Vec4f* e = envelopes.ptr<cv::Vec4f>(y);
        for (int x = 0; x < width; ++x)
            e[x] = (!source || source[x]) ? cv::Vec4f(v[x][0], v[x][1], -v[x][0], -v[x][1])
                                          : cv::Vec4f::all(kNone);
    }
    // One sweep down (step 1) or up (step -1): each pixel takes the least of its own value and
    // its three neighbours' in the row before plus the step's cost, then, along the row in the
    // sweep's direction, of the pixel before it plus one step.
    const int n = 4 * width;
    std::vector<float> fromPrevious(std::size_t(n), 0.f);
    const auto sweep = [&](int step) {
        const int y0 = step > 0 ? 0 : height - 1;
        for (int y = y0; y >= 0 && y < height; y += step) {
            float* row = envelopes.ptr<float>(y);
            if (y != y0) {
                const float* previous = envelopes.ptr<float>(y - step);
                float* t = fromPrevious.data();
                for (int i = 0; i < n; ++i) t[i] = previous[i] + straight;
                for (int i = 4; i < n; ++i) t[i] = std::min(t[i], previous[i - 4] + diagonal);
                for (int i = 0; i + 4 < n; ++i) t[i] = std::min(t[i], previous[i + 4] + diagonal);
                for (int i = 0; i < n; ++i) row[i] = std::min(row[i], t[i]);
            }
            if (step > 0)
                for (int i = 4; i < n; ++i) row[i] = std::min(row[i], row[i - 4] + straight);
            else
                for (int i = n - 5; i >= 0; --i) row[i] = std::min(row[i], row[i + 4] + straight);
        }
    };
    sweep(1);
    sweep(-1);
    return envelopes;
}

// Limits how fast `motion` (CV_32FC2) may change across the image, between the new face's own
// motion (`face`, CV_8U) and the stillness beyond the warp's reach (`still`, CV_8U: it stays
// zero). Every other pixel, and a face pixel steeper than `slope` from another, is held within
// the cones of `slope` around both; what is then still steeper among its own neighbours
// (within an ear) is set to the middle of the cones of every pixel, which changes by at most
// `slope` per pixel.
void limitMotionSlope(cv::Mat& motion, const cv::Mat& face, const cv::Mat& still, float slope) {
    const cv::Mat anchored = face | still;
    for (const bool fromAnchors : {true, false}) {
        const cv::Mat envelopes = coneEnvelopes(motion, fromAnchors ? anchored : cv::Mat(), slope);
        for (int y = 0; y < motion.rows; ++y) {
            cv::Vec2f* v = motion.ptr<cv::Vec2f>(y);
            const std::uint8_t* fixed = (fromAnchors ? still : anchored).ptr<std::uint8_t>(y);
            const cv::Vec4f* e = envelopes.ptr<cv::Vec4f>(y);
            for (int x = 0; x < motion.cols; ++x) {
                if (fixed[x]) continue;
                for (int c = 0; c < 2; ++c) {
                    const float up = e[x][c], low = -e[x][2 + c];
                    v[x][c] = fromAnchors ? std::min(std::max(v[x][c], low), up) : 0.5f * (low + up);
                }
            }
        }
    }
}

}  // namespace

cv::Mat shapeWarpMap(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                     double falloff) {
    const MorphableModel& model = context.model();
    const Camera& camera = face.fit.camera;
    const int width = (camera.width + 1) / 2, height = (camera.height + 1) / 2;
    cv::Mat displacement = cv::Mat::zeros(height, width, CV_32FC2);
    cv::Mat weight = cv::Mat::zeros(height, width, CV_32F);
    // Where the motion is the new face's own (visible face triangles): X_p is put there, and
    // the motion beside it is held close to it (limitMotionSlope).
    cv::Mat newFace = cv::Mat::zeros(height, width, CV_8U);
    const std::vector<std::uint8_t>& faceTriangles = context.faceTriangles();
    {
        ScopedStage stage("warp map: head raster, displacement");
        // The motion is smoothed (sigma kWarpSmoothing) and faded out over tens of pixels, so it
        // is made at half resolution and only the finished displacement is brought up.
        const RasterBuffers raster = rasterizeHeadAtHalfResolution(context, perturbed.geometry, camera);
        const auto& fitted = face.geometry.screen;
        // The fitted head's depth tells the surface the photo shows from the surface it hides.
        const RasterBuffers& fittedRaster = face.headRaster;
        CV_Assert(fittedRaster.width == width && fittedRaster.height == height);
        cv::parallel_for_(cv::Range(0, height), [&](const cv::Range& rows) {
            for (int y = rows.start; y < rows.end; ++y) {
                cv::Vec2f* d = displacement.ptr<cv::Vec2f>(y);
                float* w = weight.ptr<float>(y);
                std::uint8_t* onFace = newFace.ptr<std::uint8_t>(y);
                const float cy = 2.f * float(y) + 0.5f;
                for (int x = 0; x < width; ++x) {
                    const std::size_t i = raster.index(x, y);
                    if (raster.triangle[i] < 0) continue;
                    const auto& t = model.triangles[std::size_t(raster.triangle[i])];
                    const float* b = &raster.bary[3 * i];
                    const float sx = b[0] * fitted(0, t[0]) + b[1] * fitted(0, t[1]) + b[2] * fitted(0, t[2]);
                    const float sy = b[0] * fitted(1, t[0]) + b[1] * fitted(1, t[1]) + b[2] * fitted(1, t[2]);
                    // Surface the photo hides (the side of the head behind a cheek that the new,
                    // wider cheek reveals, under a chin) would fetch what hides it: the photo's
                    // cheek, drawn as a flap beside the new face. It takes its motion from its
                    // neighbours instead (the fill below).
                    const float sz = b[0] * fitted(2, t[0]) + b[1] * fitted(2, t[1]) + b[2] * fitted(2, t[2]);
                    if (sz > frontDepth(fittedRaster, 0.5f * sx - 0.25f, 0.5f * sy - 0.25f) + kHiddenDepth) continue;
                    d[x] = cv::Vec2f(sx - (2.f * float(x) + 0.5f), sy - cy);
                    w[x] = 1;
                    if (faceTriangles[std::size_t(raster.triangle[i])]) onFace[x] = 255;
                }
            }
        });
    }
    ScopedStage stage("warp map: fill and fade");
    // Extend the motion beyond the head and smooth all of it a little. The exact motion jumps
    // where the perturbed head occludes itself (a cheek over the far ear, the jaw over the
    // neck) and at the head's outline; a backward map that jumps repeats or cuts the photo
    // along a hard line, which showed as a seam beside the new face's far cheek.
    cv::Mat motion = pushPullFill(displacement, weight);
    cv::GaussianBlur(motion, motion, cv::Size(), kWarpSmoothing / 2);
    // The distance from the head matters only up to `radius` (the motion is zero beyond): it
    // is measured in the head's box grown by that much. A chamfer distance's shortest path
    // stays in the box of its two ends, so inside that box it is the whole frame's.
    const float radius = float(falloff * camera.width) / 2;
    cv::Mat distance(height, width, CV_32F, cv::Scalar(radius));
    {
        const int reach = int(std::ceil(radius)) + 2;
        const cv::Rect head = cv::boundingRect(weight > 0.5);
        const cv::Rect near = cv::Rect(head.x - reach, head.y - reach, head.width + 2 * reach, head.height + 2 * reach) &
                              cv::Rect(0, 0, width, height);
        if (!head.empty()) {
            cv::Mat nearDistance = distance(near);
            cv::distanceTransform(cv::Mat(weight(near) < 0.5), nearDistance, cv::DIST_L2, 3);
        }
    }
    for (int y = 0; y < height; ++y) {
        const float* dist = distance.ptr<float>(y);
        cv::Vec2f* v = motion.ptr<cv::Vec2f>(y);
        for (int x = 0; x < width; ++x) {
            if (!(dist[x] > 0)) continue;
            const float t = std::min(1.f, dist[x] / radius);
            v[x] *= 1.f - t * t * (3 - 2 * t);  // smoothstep
        }
    }
    // Beside the face the motion may change only slowly, between the new face's own motion
    // and the stillness beyond the fade's reach (a large motion then fades no faster than a
    // small one).
    limitMotionSlope(motion, newFace, distance >= radius, 2 * kMaxMotionSlope);  // full-size px of motion per half-size px
    cv::Mat faded;
    cv::resize(motion, faded, cv::Size(camera.width, camera.height), 0, 0, cv::INTER_LINEAR);
    const cv::Mat edgeFade = borderFade(camera.width, camera.height);
    cv::Mat map(camera.height, camera.width, CV_32FC2);
    cv::parallel_for_(cv::Range(0, camera.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const float* edge = edgeFade.ptr<float>(y);
            const cv::Vec2f* v = faded.ptr<cv::Vec2f>(y);
            cv::Vec2f* m = map.ptr<cv::Vec2f>(y);
            const float reachY = kBorderReach * float(std::min(y, camera.height - 1 - y));
            for (int x = 0; x < camera.width; ++x) {
                const float reachX = kBorderReach * float(std::min(x, camera.width - 1 - x));
                m[x] = cv::Vec2f(float(x) + std::clamp(edge[x] * v[x][0], -reachX, reachX),
                                 float(y) + std::clamp(edge[x] * v[x][1], -reachY, reachY));
            }
        }
    });
    return map;
}

Hybrid buildHybrid(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                   const cv::Mat& parsingX, const cv::Mat& parsingXp, const HybridOptions& options) {
    return buildHybrid(face, perturbed, parsingX, parsingXp, shapeWarpMap(context, face, perturbed, options.falloff));
}

Hybrid buildHybrid(const FittedFace& face, const PerturbedFace& perturbed, const cv::Mat& parsingX, const cv::Mat& parsingXp,
                   const cv::Mat& map) {
    Hybrid out;
    out.parsingX = parsingX;
    out.parsingXp = parsingXp;
    cv::remap(face.crop.image, out.warped, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);

    // Styling mask: X's occluders inside its face area (hair strands, glasses), moved along.
    const cv::Mat occluders = (parsingX == kLabelOther) & face.faceArea;
    cv::remap(occluders, out.styling, map, cv::noArray(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
    out.faceMask = faceRegion(parsingXp) & (perturbed.mask > 0) & ~out.styling;
    cv::erode(out.faceMask, out.faceMask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));

    // X_p where it has content (the model covers the whole face, seen by the photo or not),
    // the warped photo elsewhere; X_l is that rounded to 8 bits inside the face mask and the
    // warped photo outside it. One pass makes both.
    CV_Assert(perturbed.image.type() == CV_32FC3 && perturbed.mask.type() == CV_8U && out.warped.type() == CV_8UC3 &&
              perturbed.image.size() == out.warped.size() && perturbed.mask.size() == out.warped.size());
    out.foreground.create(out.warped.size(), CV_32FC3);
    out.hybrid.create(out.warped.size(), CV_8UC3);
    cv::parallel_for_(cv::Range(0, out.warped.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const cv::Vec3b* warped = out.warped.ptr<cv::Vec3b>(y);
            const cv::Vec3f* rendered = perturbed.image.ptr<cv::Vec3f>(y);
            const std::uint8_t* hasContent = perturbed.mask.ptr<std::uint8_t>(y);
            const std::uint8_t* inFace = out.faceMask.ptr<std::uint8_t>(y);
            cv::Vec3f* foreground = out.foreground.ptr<cv::Vec3f>(y);
            cv::Vec3b* hybrid = out.hybrid.ptr<cv::Vec3b>(y);
            for (int x = 0; x < out.warped.cols; ++x) {
                const cv::Vec3f f = hasContent[x] ? rendered[x] : cv::Vec3f(warped[x]);
                foreground[x] = f;
                hybrid[x] = inFace[x] ? cv::Vec3b(cv::saturate_cast<uchar>(f[0]), cv::saturate_cast<uchar>(f[1]),
                                                  cv::saturate_cast<uchar>(f[2]))
                                      : warped[x];
            }
        }
    });
    return out;
}

}  // namespace ideu
