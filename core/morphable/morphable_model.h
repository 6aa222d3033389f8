#pragma once
// A linear 3-D face model: shape = mean + identity_basis·α + expression_basis·δ.
// Loaded from the "ideu-3dmm-pack" format (JSON header + little-endian binary arrays).
#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <string>
#include <vector>

namespace ideu {

using Matrix3Xf = Eigen::Matrix<float, 3, Eigen::Dynamic>;
// Column-major: column k holds basis vector k as x0 y0 z0 x1 y1 z1 ...
using BasisMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

struct MorphableModel {
    int vertexCount = 0;
    Eigen::VectorXf mean;        // 3N
    BasisMatrix identityBasis;   // 3N x K_id, one standard deviation per column
    BasisMatrix expressionBasis; // 3N x K_exp, blendshape deltas for weight 1
    std::vector<std::array<int, 3>> triangles;  // counter-clockwise seen from outside
    std::vector<Eigen::Vector2f> uv;            // per vertex, [0,1]^2, v up
    std::array<int, 68> landmarks{};            // iBUG-68 vertex indices
    std::vector<std::string> expressionNames;
    std::string sha256;  // of the binary arrays

    int identityCount() const { return int(identityBasis.cols()); }
    int expressionCount() const { return int(expressionBasis.cols()); }

    // Vertices (3N, x y z interleaved) for the given coefficients; empty vectors mean zeros.
    Eigen::VectorXf shape(const Eigen::VectorXf& identity, const Eigen::VectorXf& expression) const;
    Eigen::Vector3f vertex(const Eigen::VectorXf& shape3n, int index) const {
        return shape3n.segment<3>(3 * index);
    }
};

// Reads `<stem>.json` + the binary it names. Validates the format, every array's dtype,
// shape, offset and size, index ranges, and the SHA-256 of the binary. Throws ModelError.
MorphableModel loadMorphableModel(const std::string& jsonPath);
// The ICT-FaceKit light pack from the model store.
const MorphableModel& sharedFaceModel();

// Writes a pack (JSON header + binary) atomically; used by the ICT converter.
// The binary goes beside the header with the same stem and the extension .bin.
void writeMorphableModel(const MorphableModel& model, const std::string& jsonPath, const nlohmann::json& source);

}  // namespace ideu
