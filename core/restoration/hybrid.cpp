#include "restoration/hybrid.h"

#include "appearance/photo_texture.h"
#include "parsing/face_parser.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ideu {
namespace {
constexpr float kBorderFade = 40.f;  // crop pixels
}

cv::Mat shapeWarpMap(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                     double falloff) {
    const MorphableModel& model = context.model();
    const Camera& camera = face.fit.camera;
    // Every triangle of the head (not only the face area): ears, neck and forehead move too.
    RasterBuffers raster;
    RasterInput input;
    input.screen = &perturbed.geometry.screen;
    input.triangles = &model.triangles;
    input.culling = Culling::Back;
    rasterize(input, camera.width, camera.height, raster);

    const auto& fitted = face.geometry.screen;
    cv::Mat displacement = cv::Mat::zeros(camera.height, camera.width, CV_32FC3);
    cv::Mat weight = cv::Mat::zeros(camera.height, camera.width, CV_32F);
    for (int y = 0; y < camera.height; ++y)
        for (int x = 0; x < camera.width; ++x) {
            const std::size_t i = raster.index(x, y);
            if (raster.triangle[i] < 0) continue;
            const auto& t = model.triangles[std::size_t(raster.triangle[i])];
            const float* b = &raster.bary[3 * i];
            const float sx = b[0] * fitted(0, t[0]) + b[1] * fitted(0, t[1]) + b[2] * fitted(0, t[2]);
            const float sy = b[0] * fitted(1, t[0]) + b[1] * fitted(1, t[1]) + b[2] * fitted(1, t[2]);
            displacement.at<cv::Vec3f>(y, x) = cv::Vec3f(sx - float(x), sy - float(y), 0);
            weight.at<float>(y, x) = 1;
        }
    // Extend the motion beyond the head (at half resolution: it is smooth there) and fade it
    // out with the distance from it; on the head the exact motion is kept.
    cv::Mat smallD, smallW, filled;
    cv::resize(displacement.mul(cv::Scalar::all(1)), smallD, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    cv::resize(weight, smallW, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    {
        cv::Mat w3, normalized;
        cv::merge(std::vector<cv::Mat>{smallW, smallW, smallW}, w3);
        cv::divide(smallD, cv::max(w3, 1e-6), normalized);
        cv::Mat solid;
        cv::threshold(smallW, solid, 0.999, 1.0, cv::THRESH_BINARY);
        cv::resize(pushPullFill(normalized, solid), filled, displacement.size(), 0, 0, cv::INTER_LINEAR);
    }
    displacement.copyTo(filled, weight > 0.5);
    cv::Mat outside = weight < 0.5, distance;
    cv::distanceTransform(outside, distance, cv::DIST_L2, 3);
    const float radius = float(falloff * camera.width);
    cv::Mat map(camera.height, camera.width, CV_32FC2);
    for (int y = 0; y < camera.height; ++y)
        for (int x = 0; x < camera.width; ++x) {
            const float d = distance.at<float>(y, x);
            float fade = 1.f;
            if (d > 0) {
                const float t = std::min(1.f, d / radius);
                fade = 1.f - t * t * (3 - 2 * t);  // smoothstep
            }
            // The crop is pasted back into the photo: at its border nothing may move, or the
            // paste would show a seam.
            const float edge = float(std::min({x, y, camera.width - 1 - x, camera.height - 1 - y}));
            const float e = std::min(1.f, edge / kBorderFade);
            fade *= e * e * (3 - 2 * e);
            const cv::Vec3f v = filled.at<cv::Vec3f>(y, x);
            map.at<cv::Vec2f>(y, x) = cv::Vec2f(float(x) + fade * v[0], float(y) + fade * v[1]);
        }
    return map;
}

Hybrid buildHybrid(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                   const cv::Mat& parsingX, const cv::Mat& parsingXp, const HybridOptions& options) {
    Hybrid out;
    out.parsingX = parsingX;
    out.parsingXp = parsingXp;
    const cv::Mat map = shapeWarpMap(context, face, perturbed, options.falloff);
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
