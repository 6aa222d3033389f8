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

}  // namespace

cv::Mat shapeWarpMap(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                     double falloff) {
    const MorphableModel& model = context.model();
    const Camera& camera = face.fit.camera;
    const int width = (camera.width + 1) / 2, height = (camera.height + 1) / 2;
    cv::Mat displacement = cv::Mat::zeros(height, width, CV_32FC2);
    cv::Mat weight = cv::Mat::zeros(height, width, CV_32F);
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
    // the warped photo elsewhere.
    out.warped.convertTo(out.foreground, CV_32FC3);
    perturbed.image.copyTo(out.foreground, perturbed.mask);
    cv::Mat foreground8;
    out.foreground.convertTo(foreground8, CV_8UC3);
    out.hybrid = out.warped.clone();
    foreground8.copyTo(out.hybrid, out.faceMask);
    return out;
}

}  // namespace ideu
