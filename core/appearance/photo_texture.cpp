#include "appearance/photo_texture.h"

#include "common/profile.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <functional>
#include <optional>

#include <algorithm>
#include <cmath>

namespace ideu {

std::uint8_t regionAt(const FaceModelContext& context, const RasterBuffers& raster, std::size_t pixel) {
    const MorphableModel& model = context.model();
    const auto& t = model.triangles[std::size_t(raster.triangle[pixel])];
    const float* b = &raster.bary[3 * pixel];
    const Eigen::Vector2f uv =
        b[0] * model.uv[std::size_t(t[0])] + b[1] * model.uv[std::size_t(t[1])] + b[2] * model.uv[std::size_t(t[2])];
    const cv::Point2f p = context.uvToPixel(uv);
    const int x = std::clamp(cvRound(p.x), 0, context.uvSize() - 1), y = std::clamp(cvRound(p.y), 0, context.uvSize() - 1);
    return context.regions().at<std::uint8_t>(y, x);
}

ShCoefficients estimateLighting(const FaceModelContext& context, const cv::Mat& crop, const cv::Mat& valid,
                                const FaceGeometry& geometry, const RasterBuffers& raster, cv::Vec3f* skinColour) {
    const MorphableModel& model = context.model();
    std::vector<ShSample> samples;
    std::vector<float> channel[3];
    for (int y = 0; y < raster.height; y += 2)
        for (int x = 0; x < raster.width; x += 2) {
            const std::size_t i = raster.index(x, y);
            if (raster.triangle[i] < 0 || !valid.at<std::uint8_t>(y, x)) continue;
            if (regionAt(context, raster, i) != kUvSkin) continue;
            const cv::Vec3b c = crop.at<cv::Vec3b>(y, x);
            const Eigen::Vector3f n = interpolate(geometry.normals, model, raster, i).normalized();
            samples.push_back({n, Eigen::Vector3f(c[0], c[1], c[2])});
            for (int k = 0; k < 3; ++k) channel[k].push_back(c[k]);
        }
    cv::Vec3f skin(180, 180, 180);
    if (!samples.empty())
        for (int k = 0; k < 3; ++k) {
            auto mid = channel[k].begin() + std::ptrdiff_t(channel[k].size() / 2);
            std::nth_element(channel[k].begin(), mid, channel[k].end());
            skin[k] = std::max(*mid, 8.f);
        }
    if (skinColour) *skinColour = skin;
    // Shading is estimated relative to the median skin colour, so the albedo of typical skin
    // comes out as that colour and the shading near 1.
    for (ShSample& s : samples) s.colour = s.colour.cwiseQuotient(Eigen::Vector3f(skin[0], skin[1], skin[2]));
    return estimateSh(samples);
}

cv::Mat pushPullFill(const cv::Mat& image, const cv::Mat& weight) {
    CV_Assert(image.depth() == CV_32F && weight.type() == CV_32F && image.size() == weight.size());
    if (image.cols <= 1 || image.rows <= 1) return image.clone();
    const int channels = image.channels();
    // Each level's per-pixel arithmetic in one pass over its rows (no level-sized temporaries).
    auto eachRow = [](int rows, const std::function<void(int)>& body) {
        cv::parallel_for_(cv::Range(0, rows), [&](const cv::Range& r) {
            for (int y = r.start; y < r.end; ++y) body(y);
        });
    };
    // Pull: weighted average down the pyramid; push: fill the gaps from the coarser level.
    cv::Mat premultiplied(image.size(), image.type());
    eachRow(image.rows, [&](int y) {
        const float* in = image.ptr<float>(y);
        const float* w = weight.ptr<float>(y);
        float* out = premultiplied.ptr<float>(y);
        for (int x = 0; x < image.cols; ++x)
            for (int c = 0; c < channels; ++c) out[x * channels + c] = in[x * channels + c] * w[x];
    });
    cv::Mat smallImage, smallWeight;
    cv::resize(premultiplied, smallImage, cv::Size((image.cols + 1) / 2, (image.rows + 1) / 2), 0, 0, cv::INTER_AREA);
    cv::resize(weight, smallWeight, smallImage.size(), 0, 0, cv::INTER_AREA);
    cv::Mat normalized(smallImage.size(), smallImage.type()), clipped(smallWeight.size(), CV_32F);
    eachRow(smallImage.rows, [&](int y) {
        const float* in = smallImage.ptr<float>(y);
        const float* w = smallWeight.ptr<float>(y);
        float* out = normalized.ptr<float>(y);
        float* clip = clipped.ptr<float>(y);
        for (int x = 0; x < smallImage.cols; ++x) {
            const float denominator = std::max(w[x], 1e-6f);
            for (int c = 0; c < channels; ++c) out[x * channels + c] = in[x * channels + c] / denominator;
            clip[x] = std::min(w[x] * 4.f, 1.f);
        }
    });
    const cv::Mat coarse = pushPullFill(normalized, clipped);
    cv::Mat up;
    cv::resize(coarse, up, image.size(), 0, 0, cv::INTER_LINEAR);
    cv::Mat filled(image.size(), image.type());
    eachRow(image.rows, [&](int y) {
        const float* in = image.ptr<float>(y);
        const float* u = up.ptr<float>(y);
        const float* w = weight.ptr<float>(y);
        float* out = filled.ptr<float>(y);
        for (int x = 0; x < image.cols; ++x) {
            const float keep = std::min(w[x], 1.f);
            for (int c = 0; c < channels; ++c) {
                const int i = x * channels + c;
                out[i] = in[i] * keep + u[i] * (1.f - keep);
            }
        }
    });
    return filled;
}

PhotoTexture samplePhotoTexture(const FaceModelContext& context, const cv::Mat& crop, const cv::Mat& valid,
                                const FaceGeometry& geometry, const RasterBuffers& raster, const Camera& camera,
                                const ShCoefficients& sh) {
    const MorphableModel& model = context.model();
    const UvAtlas& atlas = context.atlas();
    const int size = atlas.size;
    PhotoTexture tex;
    std::optional<ScopedStage> sub(std::in_place, "fit: texture: sample");
    cv::Mat colour = cv::Mat::zeros(size, size, CV_32FC3);  // atlas-sized buffers: about 12 MB each
    tex.visibility = cv::Mat::zeros(size, size, CV_32F);
    cv::Mat normals = cv::Mat::zeros(size, size, CV_32FC3);
    cv::Mat cropF;
    crop.convertTo(cropF, CV_32FC3);

    // Camera-space vertex positions, recovered from the screen positions.
    Eigen::Matrix<float, 3, Eigen::Dynamic> cam(3, geometry.screen.cols());
    for (Eigen::Index v = 0; v < geometry.screen.cols(); ++v) {
        const float z = geometry.screen(2, v);
        cam.col(v) << (geometry.screen(0, v) - float(camera.cx)) * z / float(camera.focal),
            (geometry.screen(1, v) - float(camera.cy)) * z / float(camera.focal), z;
    }
    const auto& enabled = context.faceTriangles();
    cv::parallel_for_(cv::Range(0, size), [&](const cv::Range& rows) {
        for (int ty = rows.start; ty < rows.end; ++ty) {
            cv::Vec3f* colourRow = colour.ptr<cv::Vec3f>(ty);
            cv::Vec3f* normalRow = normals.ptr<cv::Vec3f>(ty);
            float* visRow = tex.visibility.ptr<float>(ty);
            for (int tx = 0; tx < size; ++tx) {
                const std::size_t i = atlas.texels.index(tx, ty);
                const int tri = atlas.texels.triangle[i];
                if (tri < 0 || !enabled[std::size_t(tri)]) continue;
                const auto& t = model.triangles[std::size_t(tri)];
                const float* b = &atlas.texels.bary[3 * i];
                const Eigen::Vector3f p = b[0] * cam.col(t[0]) + b[1] * cam.col(t[1]) + b[2] * cam.col(t[2]);
                const Eigen::Vector3f n =
                    (b[0] * geometry.normals.col(t[0]) + b[1] * geometry.normals.col(t[1]) + b[2] * geometry.normals.col(t[2]))
                        .normalized();
                normalRow[tx] = cv::Vec3f(n.x(), n.y(), n.z());
                const float x = float(camera.cx) + float(camera.focal) * p.x() / p.z();
                const float y = float(camera.cy) + float(camera.focal) * p.y() / p.z();
                const int px = cvRound(x), py = cvRound(y);
                if (px < 0 || py < 0 || px >= camera.width || py >= camera.height) continue;
                if (!valid.at<std::uint8_t>(py, px)) continue;
                const float facing = -n.dot(p.normalized());  // cosine towards the camera
                if (facing <= 0.05f) continue;
                // Visible when the pixel shows this triangle or one sharing a vertex with it (a
                // depth tolerance alone lets texels inside folds, such as the nostril wings,
                // take the colour of the surface in front of them).
                const int shown = raster.triangle[raster.index(px, py)];
                if (shown < 0) continue;
                if (shown != tri) {
                    const auto& u = model.triangles[std::size_t(shown)];
                    bool shares = false;
                    for (int a : t)
                        for (int b : u) shares = shares || a == b;
                    if (!shares) continue;
                }
                colourRow[tx] = sampleBilinear(cropF, x, y);
                // Grazing views stretch the photo: trust them less.
                visRow[tx] = std::min(1.f, (facing - 0.05f) / 0.3f);
            }
        }
    });

    // Fill what the photo did not see: first from the mirrored texel (the UV layout is
    // symmetric, u -> 1 - u), then from the neighbours.
    sub.reset();
    sub.emplace("fit: texture: mirror");
    cv::Mat mirroredColour, mirroredVis;
    cv::flip(colour, mirroredColour, 1);
    cv::flip(tex.visibility, mirroredVis, 1);
    cv::Mat weight = tex.visibility.clone();
    cv::parallel_for_(cv::Range(0, size), [&](const cv::Range& rows) {
        for (int ty = rows.start; ty < rows.end; ++ty) {
            float* weightRow = weight.ptr<float>(ty);
            const float* mirroredWeight = mirroredVis.ptr<float>(ty);
            cv::Vec3f* colourRow = colour.ptr<cv::Vec3f>(ty);
            const cv::Vec3f* mirroredRow = mirroredColour.ptr<cv::Vec3f>(ty);
            for (int tx = 0; tx < size; ++tx) {
                const float w = weightRow[tx], wm = mirroredWeight[tx];
                if (w >= 1.f || wm <= w) continue;
                const float mix = (wm - w);  // how much the mirror adds
                colourRow[tx] = (colourRow[tx] * w + mirroredRow[tx] * mix) / (w + mix);
                weightRow[tx] = std::min(1.f, w + mix);
            }
        }
    });
    sub.reset();
    sub.emplace("fit: texture: push-pull fill");
    mirroredColour.release();
    mirroredVis.release();
    colour = pushPullFill(colour, weight);
    weight.release();
    sub.reset();
    sub.emplace("fit: texture: albedo and shading");

    tex.albedo = cv::Mat::zeros(size, size, CV_32FC3);
    // Neutral off the mesh in every channel (Mat::ones would set only the first): the
    // renderer's bilinear lookup mixes these texels into those at the mesh's edge, where the
    // shading bounds the re-shading.
    tex.shading = cv::Mat(size, size, CV_32FC3, cv::Scalar::all(1));
    cv::parallel_for_(cv::Range(0, size), [&](const cv::Range& rows) {
        for (int ty = rows.start; ty < rows.end; ++ty) {
            const cv::Vec3f* c = colour.ptr<cv::Vec3f>(ty);
            const cv::Vec3f* nr = normals.ptr<cv::Vec3f>(ty);
            cv::Vec3f* a = tex.albedo.ptr<cv::Vec3f>(ty);
            cv::Vec3f* sr = tex.shading.ptr<cv::Vec3f>(ty);
            for (int tx = 0; tx < size; ++tx) {
                const Eigen::Vector3f n(nr[tx][0], nr[tx][1], nr[tx][2]);
                if (n.squaredNorm() < 0.5f) continue;
                const Eigen::Vector3f s = shShade(sh, n).cwiseMax(0.05f);
                sr[tx] = cv::Vec3f(s.x(), s.y(), s.z());
                a[tx] = cv::Vec3f(c[tx][0] / s.x(), c[tx][1] / s.y(), c[tx][2] / s.z());
            }
        }
    });
    return tex;
}

}  // namespace ideu
