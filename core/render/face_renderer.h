#pragma once
// Renders the morphable model with a UV texture and SH shading (the "fitted render" X_f and
// the perturbed render X_p), plus the overlays the GUI shows on the photo.
#include "morphable/face_model_context.h"
#include "render/camera.h"
#include "render/rasterizer.h"
#include "render/sh_lighting.h"

#include <opencv2/core.hpp>

#include <algorithm>

namespace ideu {

// A mesh instance under a pose: model-space vertices, camera-space normals, screen positions.
struct FaceGeometry {
    Eigen::VectorXf vertices;                       // 3N, model space
    Eigen::Matrix<float, 3, Eigen::Dynamic> normals;  // camera space, unit
    Eigen::Matrix<float, 3, Eigen::Dynamic> screen;   // pixel x, pixel y, depth
};

FaceGeometry makeGeometry(const FaceModelContext& context, const Eigen::VectorXf& shape, const Pose& pose,
                          const Camera& camera);

// Rasterises the face-area triangles (back faces culled).
void rasterizeFace(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                   RasterBuffers& raster);

// The whole head (every triangle, not only the face area) at half the camera's resolution: a
// half-resolution pixel (u, v) is the centre (2u + 0.5, 2v + 0.5) of its 2 x 2 pixels. The
// outline warp's motion is smoothed and faded out over tens of pixels, so it is made there.
RasterBuffers rasterizeHeadAtHalfResolution(const FaceModelContext& context, const FaceGeometry& geometry,
                                            const Camera& camera);

// CV_8U, 255 where the raster covers the pixel.
cv::Mat coverageMask(const RasterBuffers& raster);

struct RenderedFace {
    cv::Mat image;       // CV_32FC3, BGR 0..255, zero where not covered
    cv::Mat mask;        // CV_8U, 255 where the face area covers the pixel
    RasterBuffers raster;
};

struct TextureMaps {
    // CV_32FC3 UV (any size): the shading the albedo was divided by. With it, re-shading is limited to
    // [kReshadeMin, kReshadeMax] times that shading, so folds whose normals flip under a new
    // shape do not turn into bright or black lines.
    const cv::Mat* fittedShading = nullptr;
};
constexpr float kReshadeMin = 0.7f, kReshadeMax = 1.4f;

// Per pixel: albedo(uv) x shading, the SH shading of the vertices' normals interpolated across
// each triangle. `albedo` is CV_32FC3 in UV space, the atlas's size
// or any other (it is sampled at the same UV coordinates). `raster`: rasterizeFace's of the
// same geometry and camera when already made (else it is made here).
RenderedFace renderTextured(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                            const cv::Mat& albedo, const ShCoefficients& sh, const TextureMaps& maps = {},
                            RasterBuffers raster = {});
// Shading only (a grey clay render), for the "3DMM fit" view.
RenderedFace renderShaded(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                          const ShCoefficients& sh, const cv::Vec3f& albedo = {200, 200, 200});

// Interpolates a per-vertex attribute at a covered pixel.
template <typename Matrix>
Eigen::Vector3f interpolate(const Matrix& perVertex, const MorphableModel& model, const RasterBuffers& raster,
                            std::size_t pixel) {
    const auto& t = model.triangles[std::size_t(raster.triangle[pixel])];
    const float* b = &raster.bary[3 * pixel];
    return b[0] * perVertex.col(t[0]) + b[1] * perVertex.col(t[1]) + b[2] * perVertex.col(t[2]);
}

// `r` grown by `by` pixels on every side, clipped to a frame of `frame`'s size.
inline cv::Rect grownWithin(const cv::Rect& r, int by, const cv::Size& frame) {
    return cv::Rect(r.x - by, r.y - by, r.width + 2 * by, r.height + 2 * by) & cv::Rect(cv::Point(), frame);
}

// Bilinear sample of a CV_32FC3 image (clamped at the border).
// (Inline: the renderer calls it twice per pixel.)
inline cv::Vec3f sampleBilinear(const cv::Mat& image, float x, float y) {
    x = std::clamp(x, 0.f, float(image.cols - 1));
    y = std::clamp(y, 0.f, float(image.rows - 1));
    const int x0 = std::min(int(x), image.cols - 2 < 0 ? 0 : image.cols - 2);
    const int y0 = std::min(int(y), image.rows - 2 < 0 ? 0 : image.rows - 2);
    const int x1 = std::min(x0 + 1, image.cols - 1), y1 = std::min(y0 + 1, image.rows - 1);
    const float fx = x - float(x0), fy = y - float(y0);
    const cv::Vec3f* r0 = image.ptr<cv::Vec3f>(y0);
    const cv::Vec3f* r1 = image.ptr<cv::Vec3f>(y1);
    return (r0[x0] * (1 - fx) + r0[x1] * fx) * (1 - fy) + (r1[x0] * (1 - fx) + r1[x1] * fx) * fy;
}

}  // namespace ideu
