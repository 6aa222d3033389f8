#include "render/rasterizer.h"

#include <Eigen/Geometry>  // cross (vertexNormals)
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

// One edge of a triangle, kept so that its edge function at a pixel is
// sign x ((to - from).x x (py - from.y) - (to - from).y x (px - from.x)), evaluated the same way
// for both triangles that share the edge (from the lower vertex index), so shared edges have no
// cracks.
struct Edge {
    double fromX, fromY, dx, dy;
    double sign;   // +1 or -1: orientation relative to the canonical order
    bool topLeft;  // owns pixels exactly on it
};

// What a triangle's pixels need, made once per triangle (not once per stripe).
struct PreparedTriangle {
    Edge e[3];  // edge k is opposite vertex k
    double z[3];
    double invArea;
    int xa, xb;  // columns of its box within the frame
};

// The triangle's setup; false when it shows no pixel (disabled, behind the camera, degenerate,
// culled or outside the frame). rows: its box's first and last row within the frame.
bool prepare(const RasterInput& input, std::size_t t, int width, int height, PreparedTriangle& out, int& firstRow,
             int& lastRow) {
    if (input.enabled && !(*input.enabled)[t]) return false;
    const auto& screen = *input.screen;
    const auto& tri = (*input.triangles)[t];
    double px[3], py[3];
    for (int k = 0; k < 3; ++k) {
        const auto v = screen.col(tri[std::size_t(k)]);
        px[k] = double(v.x());
        py[k] = double(v.y());
        out.z[k] = double(v.z());
        if (!(out.z[k] > 1e-6 && std::isfinite(px[k]) && std::isfinite(py[k]))) return false;
    }
    // Signed area (positive = counter-clockwise on screen with y down, i.e. clockwise visually).
    const double area = (px[1] - px[0]) * (py[2] - py[0]) - (py[1] - py[0]) * (px[2] - px[0]);
    if (area == 0) return false;
    const double orientation = area > 0 ? 1 : -1;
    if (input.culling == Culling::Back && orientation != input.frontSign) return false;
    // The box, clamped to the frame in floating point (a far vertex may lie beyond int's range).
    const double top = std::max(0.0, std::ceil(std::min({py[0], py[1], py[2]})));
    const double bottom = std::min(double(height - 1), std::floor(std::max({py[0], py[1], py[2]})));
    const double left = std::max(0.0, std::ceil(std::min({px[0], px[1], px[2]})));
    const double right = std::min(double(width - 1), std::floor(std::max({px[0], px[1], px[2]})));
    if (top > bottom || left > right) return false;
    firstRow = int(top), lastRow = int(bottom);
    out.xa = int(left), out.xb = int(right);
    for (int k = 0; k < 3; ++k) {
        const int i = (k + 1) % 3, j = (k + 2) % 3;
        const bool forward = tri[std::size_t(i)] < tri[std::size_t(j)];
        const int from = forward ? i : j, to = forward ? j : i;
        Edge& e = out.e[k];
        e.fromX = px[from], e.fromY = py[from];
        e.dx = px[to] - px[from], e.dy = py[to] - py[from];
        e.sign = (forward ? 1.0 : -1.0) * orientation;
        // Top-left rule in the triangle's own winding (made positive by `orientation`).
        const double wx = (px[j] - px[i]) * orientation, wy = (py[j] - py[i]) * orientation;
        e.topLeft = (wy < 0) || (wy == 0 && wx > 0);
    }
    out.invArea = 1.0 / std::abs(area);
    return true;
}

}  // namespace

void rasterize(const RasterInput& input, int width, int height, RasterBuffers& out, int threads) {
    out.reset(width, height);
    const std::size_t count = input.triangles->size();
    const int stripes = threads > 0 ? threads : std::max(1, cv::getNumThreads());
    // Each triangle is set up once; a stripe then skips by its rows alone those that miss it.
    // Kept per thread and reused: a face mesh's setups take a few MB.
    // (The workers reach the caller's buffers through these references.)
    thread_local std::vector<PreparedTriangle> preparedKept;
    thread_local std::vector<std::array<int, 2>> rowsKept;
    std::vector<PreparedTriangle>& prepared = preparedKept;
    std::vector<std::array<int, 2>>& rows = rowsKept;  // first, last; first > last when none
    prepared.resize(count);
    rows.resize(count);
    cv::parallel_for_(cv::Range(0, int(count)), [&](const cv::Range& range) {
        for (int t = range.start; t < range.end; ++t) {
            std::array<int, 2>& r = rows[std::size_t(t)];
            if (!prepare(input, std::size_t(t), width, height, prepared[std::size_t(t)], r[0], r[1])) r = {1, 0};
        }
    }, stripes);
    cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& range) {
        for (int s = range.start; s < range.end; ++s) {
            const int y0 = height * s / stripes, y1 = height * (s + 1) / stripes;
            for (std::size_t t = 0; t < count; ++t) {
                const int ya = std::max(y0, rows[t][0]), yb = std::min(y1 - 1, rows[t][1]);
                if (ya > yb) continue;
                const PreparedTriangle& p = prepared[t];
                const Edge* e = p.e;
                for (int y = ya; y <= yb; ++y) {
                    const double py = y;
                    const double rowTerm[3] = {e[0].dx * (py - e[0].fromY), e[1].dx * (py - e[1].fromY), e[2].dx * (py - e[2].fromY)};
                    bool entered = false;
                    for (int x = p.xa; x <= p.xb; ++x) {
                        const double px = x;
                        double w[3];
                        bool inside = true;
                        for (int k = 0; k < 3 && inside; ++k) {
                            w[k] = e[k].sign * (rowTerm[k] - e[k].dy * (px - e[k].fromX));
                            inside = w[k] > 0 || (w[k] == 0 && e[k].topLeft);
                        }
                        // A triangle's pixels on a row are one run (each edge function is
                        // monotonic along the row, in floating point too).
                        if (!inside) {
                            if (entered) break;
                            continue;
                        }
                        entered = true;
                        // Perspective-correct barycentrics.
                        const double b0 = w[0] * p.invArea / p.z[0], b1 = w[1] * p.invArea / p.z[1],
                                     b2 = w[2] * p.invArea / p.z[2];
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
