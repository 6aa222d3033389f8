#include "render/rasterizer.h"

#include <Eigen/Geometry>
#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ideu {

void RasterBuffers::reset(int w, int h) {
    width = w;
    height = h;
    const std::size_t n = std::size_t(w) * std::size_t(h);
    depth.assign(n, std::numeric_limits<float>::infinity());
    triangle.assign(n, -1);
    bary.assign(3 * n, 0.f);
}

namespace {

// Edge function of the directed edge a->b at p, evaluated the same way for both triangles
// that share the edge (from the lower vertex index), so shared edges have no cracks.
inline double edge(const Eigen::Vector2d& a, const Eigen::Vector2d& b, double px, double py) {
    return (b.x() - a.x()) * (py - a.y()) - (b.y() - a.y()) * (px - a.x());
}

struct Edge {
    Eigen::Vector2d from, to;
    double sign;   // +1 or -1: orientation relative to the canonical order
    bool topLeft;  // owns pixels exactly on it
};

}  // namespace

void rasterize(const RasterInput& input, int width, int height, RasterBuffers& out, int threads) {
    out.reset(width, height);
    const auto& screen = *input.screen;
    const auto& tris = *input.triangles;
    const int stripes = threads > 0 ? threads : std::max(1, cv::getNumThreads());
    cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& range) {
        for (int s = range.start; s < range.end; ++s) {
            const int y0 = height * s / stripes, y1 = height * (s + 1) / stripes;
            for (std::size_t t = 0; t < tris.size(); ++t) {
                if (input.enabled && !(*input.enabled)[t]) continue;
                const auto& tri = tris[t];
                Eigen::Vector2d p[3];
                double z[3];
                bool valid = true;
                for (int k = 0; k < 3; ++k) {
                    const auto v = screen.col(tri[std::size_t(k)]);
                    p[k] = {double(v.x()), double(v.y())};
                    z[k] = double(v.z());
                    valid = valid && z[k] > 1e-6 && std::isfinite(p[k].x()) && std::isfinite(p[k].y());
                }
                if (!valid) continue;
                // Signed area (positive = counter-clockwise on screen with y down, i.e. clockwise visually).
                const double area = edge(p[0], p[1], p[2].x(), p[2].y());
                if (area == 0) continue;
                const double orientation = area > 0 ? 1 : -1;
                if (input.culling == Culling::Back && orientation != input.frontSign) continue;

                const double minY = std::min({p[0].y(), p[1].y(), p[2].y()});
                const double maxY = std::max({p[0].y(), p[1].y(), p[2].y()});
                const int ya = std::max(y0, int(std::ceil(minY)));
                const int yb = std::min(y1 - 1, int(std::floor(maxY)));
                if (ya > yb) continue;
                const int xa = std::max(0, int(std::ceil(std::min({p[0].x(), p[1].x(), p[2].x()}))));
                const int xb = std::min(width - 1, int(std::floor(std::max({p[0].x(), p[1].x(), p[2].x()}))));
                if (xa > xb) continue;

                // Edge k is opposite vertex k; canonical direction from the lower vertex id.
                Edge e[3];
                for (int k = 0; k < 3; ++k) {
                    const int i = (k + 1) % 3, j = (k + 2) % 3;
                    const bool forward = tri[std::size_t(i)] < tri[std::size_t(j)];
                    e[k].from = forward ? p[i] : p[j];
                    e[k].to = forward ? p[j] : p[i];
                    e[k].sign = (forward ? 1.0 : -1.0) * orientation;
                    // Top-left rule in the triangle's own winding (made positive by `orientation`).
                    const Eigen::Vector2d d = (p[j] - p[i]) * orientation;
                    e[k].topLeft = (d.y() < 0) || (d.y() == 0 && d.x() > 0);
                }
                const double invArea = 1.0 / std::abs(area);
                for (int y = ya; y <= yb; ++y) {
                    for (int x = xa; x <= xb; ++x) {
                        double w[3];
                        bool inside = true;
                        for (int k = 0; k < 3 && inside; ++k) {
                            w[k] = e[k].sign * edge(e[k].from, e[k].to, x, y);
                            inside = w[k] > 0 || (w[k] == 0 && e[k].topLeft);
                        }
                        if (!inside) continue;
                        // Perspective-correct barycentrics.
                        const double b0 = w[0] * invArea / z[0], b1 = w[1] * invArea / z[1], b2 = w[2] * invArea / z[2];
                        const double sum = b0 + b1 + b2;
                        const double depth = 1.0 / sum;
                        const std::size_t idx = out.index(x, y);
                        if (depth >= out.depth[idx]) continue;
                        out.depth[idx] = float(depth);
                        out.triangle[idx] = std::int32_t(t);
                        out.bary[3 * idx] = float(b0 / sum);
                        out.bary[3 * idx + 1] = float(b1 / sum);
                        out.bary[3 * idx + 2] = float(b2 / sum);
                    }
                }
            }
        }
    }, stripes);
}

Eigen::Matrix<float, 3, Eigen::Dynamic> vertexNormals(const Eigen::VectorXf& vertices,
                                                      const std::vector<std::array<int, 3>>& triangles) {
    const Eigen::Index n = vertices.size() / 3;
    Eigen::Matrix<float, 3, Eigen::Dynamic> normals = Eigen::Matrix<float, 3, Eigen::Dynamic>::Zero(3, n);
    for (const auto& t : triangles) {
        const Eigen::Vector3f a = vertices.segment<3>(3 * t[0]);
        const Eigen::Vector3f b = vertices.segment<3>(3 * t[1]);
        const Eigen::Vector3f c = vertices.segment<3>(3 * t[2]);
        const Eigen::Vector3f face = (b - a).cross(c - a);  // length = 2 x area: area weighting
        for (int k = 0; k < 3; ++k) normals.col(t[std::size_t(k)]) += face;
    }
    for (Eigen::Index i = 0; i < n; ++i) {
        const float len = normals.col(i).norm();
        if (len > 0) normals.col(i) /= len;
    }
    return normals;
}

}  // namespace ideu
