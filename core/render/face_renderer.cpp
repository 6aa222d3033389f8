#include "render/face_renderer.h"

#include "common/profile.h"
#include "fitting/landmark_fitter.h"

#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <cmath>

namespace ideu {

FaceGeometry makeGeometry(const FaceModelContext& context, const Eigen::VectorXf& shape, const Pose& pose,
                          const Camera& camera) {
    FaceGeometry g;
    g.vertices = shape;
    g.normals = pose.rotation.cast<float>() * vertexNormals(shape, context.model().triangles);
    g.screen = projectVertices(shape, pose, camera);
    return g;
}

void rasterizeFace(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                   RasterBuffers& raster) {
    RasterInput input;
    input.screen = &geometry.screen;
    input.triangles = &context.model().triangles;
    input.enabled = &context.faceTriangles();
    input.culling = Culling::Back;
    rasterize(input, camera.width, camera.height, raster);
}

RasterBuffers rasterizeHeadAtHalfResolution(const FaceModelContext& context, const FaceGeometry& geometry,
                                            const Camera& camera) {
    Eigen::Matrix<float, 3, Eigen::Dynamic> screen = geometry.screen;
    screen.topRows<2>() = (screen.topRows<2>().array() - 0.5f) * 0.5f;
    RasterInput input;
    input.screen = &screen;
    input.triangles = &context.model().triangles;
    input.culling = Culling::Back;
    RasterBuffers raster;
    rasterize(input, (camera.width + 1) / 2, (camera.height + 1) / 2, raster);
    return raster;
}

cv::Mat coverageMask(const RasterBuffers& raster) {
    const cv::Mat triangles(raster.height, raster.width, CV_32S, const_cast<std::int32_t*>(raster.triangle.data()));
    return triangles >= 0;
}

namespace {

// Runs `shader(raster, pixelIndex)` on every covered pixel.
template <typename Shader>
RenderedFace renderWith(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                        Shader shader, RasterBuffers made = {}) {
    RenderedFace out;
    if (made.width == camera.width && made.height == camera.height) {
        out.raster = std::move(made);
    } else {
        ScopedStage stage("render: raster");
        rasterizeFace(context, geometry, camera, out.raster);
    }
    ScopedStage stage("render: shade");
    out.image = cv::Mat::zeros(camera.height, camera.width, CV_32FC3);
    out.mask = cv::Mat::zeros(camera.height, camera.width, CV_8U);
    const RasterBuffers& raster = out.raster;
    cv::parallel_for_(cv::Range(0, camera.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            cv::Vec3f* dst = out.image.ptr<cv::Vec3f>(y);
            std::uint8_t* m = out.mask.ptr<std::uint8_t>(y);
            for (int x = 0; x < camera.width; ++x) {
                const std::size_t i = raster.index(x, y);
                if (raster.triangle[i] < 0) continue;
                dst[x] = shader(raster, i);
                m[x] = 255;
            }
        }
    });
    return out;
}

// The SH shading of every vertex's normal. Second-order SH light varies slowly over the
// normals of neighbouring vertices (a few pixels apart), so it is interpolated across each
// triangle like any vertex attribute instead of evaluated at every pixel.
Eigen::Matrix<float, 3, Eigen::Dynamic> vertexShading(const FaceGeometry& geometry, const ShCoefficients& sh) {
    Eigen::Matrix<float, 3, Eigen::Dynamic> shading(3, geometry.normals.cols());
    for (Eigen::Index v = 0; v < geometry.normals.cols(); ++v) shading.col(v) = shShade(sh, geometry.normals.col(v).normalized());
    return shading;
}

}  // namespace

RenderedFace renderTextured(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                            const cv::Mat& albedo, const ShCoefficients& sh, const TextureMaps& maps, RasterBuffers raster) {
    const MorphableModel& model = context.model();
    const float texScale = float(albedo.cols) / float(context.uvSize());
    const float shadingScale = maps.fittedShading ? float(maps.fittedShading->cols) / float(context.uvSize()) : 1.f;
    const Eigen::Matrix<float, 3, Eigen::Dynamic> shading = vertexShading(geometry, sh);
    return renderWith(context, geometry, camera, [&](const RasterBuffers& raster, std::size_t i) {
        const auto& t = model.triangles[std::size_t(raster.triangle[i])];
        const float* b = &raster.bary[3 * i];
        const Eigen::Vector2f uv = b[0] * model.uv[std::size_t(t[0])] + b[1] * model.uv[std::size_t(t[1])] +
                                   b[2] * model.uv[std::size_t(t[2])];
        const cv::Point2f tp = context.uvToPixel(uv);
        const cv::Vec3f a = sampleBilinear(albedo, (tp.x + 0.5f) * texScale - 0.5f, (tp.y + 0.5f) * texScale - 0.5f);
        Eigen::Vector3f s = interpolate(shading, model, raster, i);
        if (maps.fittedShading) {
            const cv::Vec3f f = sampleBilinear(*maps.fittedShading, (tp.x + 0.5f) * shadingScale - 0.5f, (tp.y + 0.5f) * shadingScale - 0.5f);
            for (int c = 0; c < 3; ++c) s[c] = std::clamp(s[c], f[c] * kReshadeMin, f[c] * kReshadeMax);
        }
        return cv::Vec3f(a[0] * s.x(), a[1] * s.y(), a[2] * s.z());
    }, std::move(raster));
}

RenderedFace renderShaded(const FaceModelContext& context, const FaceGeometry& geometry, const Camera& camera,
                          const ShCoefficients& sh, const cv::Vec3f& albedo) {
    const MorphableModel& model = context.model();
    const Eigen::Matrix<float, 3, Eigen::Dynamic> shading = vertexShading(geometry, sh);
    return renderWith(context, geometry, camera, [&](const RasterBuffers& raster, std::size_t i) {
        const Eigen::Vector3f s = interpolate(shading, model, raster, i);
        return cv::Vec3f(albedo[0] * s.x(), albedo[1] * s.y(), albedo[2] * s.z());
    });
}

}  // namespace ideu
