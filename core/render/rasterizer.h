#pragma once
// A z-buffered triangle rasterizer on the CPU (multi-threaded by image stripes). Per pixel it
// keeps the nearest triangle, its perspective-correct barycentrics and the camera depth;
// colour, coverage, normals and warps are derived from these.
#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <vector>

namespace ideu {

struct RasterBuffers {
    int width = 0, height = 0;
    std::vector<float> depth;         // camera z; +infinity where empty
    std::vector<std::int32_t> triangle;  // -1 where empty
    std::vector<float> bary;          // 3 per pixel (perspective-correct)

    void reset(int w, int h);
    bool covered(int x, int y) const { return triangle[std::size_t(y) * std::size_t(width) + std::size_t(x)] >= 0; }
    std::size_t index(int x, int y) const { return std::size_t(y) * std::size_t(width) + std::size_t(x); }
};

enum class Culling { None, Back };

struct RasterInput {
    // Per vertex: pixel x, pixel y, camera depth z (> 0). Pixel centres are integers.
    const Eigen::Matrix<float, 3, Eigen::Dynamic>* screen = nullptr;
    const std::vector<std::array<int, 3>>* triangles = nullptr;
    const std::vector<std::uint8_t>* enabled = nullptr;  // optional per-triangle switch
    Culling culling = Culling::Back;
    // A triangle is front-facing when its signed image-space area has this sign.
    // With the camera conventions of camera.h (image y down) and counter-clockwise model
    // triangles it is -1.
    int frontSign = -1;
};

// Rasterizes into `out` (resized to w x h). Shared edges are watertight.
void rasterize(const RasterInput& input, int width, int height, RasterBuffers& out, int threads = 0);

// Area-weighted vertex normals of a mesh given as 3N interleaved positions.
Eigen::Matrix<float, 3, Eigen::Dynamic> vertexNormals(const Eigen::VectorXf& vertices,
                                                      const std::vector<std::array<int, 3>>& triangles);

}  // namespace ideu
