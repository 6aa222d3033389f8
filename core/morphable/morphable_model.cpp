#include "morphable/morphable_model.h"

#include "common/array_pack.h"
#include "common/error.h"
#include "common/files.h"
#include "common/parallel.h"
#include "common/sha256.h"
#include "models/model_store.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace fs = std::filesystem;

namespace ideu {
namespace {

BasisMatrix basisFrom(const std::vector<float>& data, int components, int vertices) {
    // Stored [K, N, 3] row-major: component k is a contiguous 3N vector = column k.
    return Eigen::Map<const BasisMatrix>(data.data(), 3 * vertices, components);
}

}  // namespace

Eigen::VectorXf MorphableModel::shape(const Eigen::VectorXf& identity, const Eigen::VectorXf& expression) const {
    Eigen::VectorXf s = mean;
    if (identity.size()) addProduct(s, identityBasis, identity);
    if (expression.size()) addProduct(s, expressionBasis, expression);
    return s;
}

MorphableModel loadMorphableModel(const std::string& jsonPath) {
    nlohmann::json header;
    try {
        std::ifstream in(jsonPath);
        if (!in) throw ModelError("cannot open model pack header '" + jsonPath + "'");
        header = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("model pack header '" + jsonPath + "' is not valid JSON: " + e.what());
    }
    try {
        if (header.value("format", "") != "ideu-3dmm-pack")
            throw ModelError("'" + jsonPath + "' is not an ideu-3dmm-pack header");
        if (header.value("byte_order", "little") != "little")
            throw ModelError("model pack '" + jsonPath + "': only little-endian packs are supported");
        const int n = header.at("vertices");
        const int kId = header.at("identity_components");
        const int kExp = header.at("expression_components");
        const int t = header.at("triangles");
        if (n <= 0 || kId <= 0 || kExp < 0 || t <= 0) throw ModelError("model pack '" + jsonPath + "': bad counts");

        const fs::path binPath = fs::path(jsonPath).replace_extension(".bin");
        std::vector<std::uint8_t> bin;
        try {
            bin = readFileBytes(binPath.string(), std::uint64_t(4) << 30);
        } catch (const Error& e) {
            throw ModelError(std::string("model pack binary: ") + e.what());
        }
        MorphableModel model;
        model.sha256 = sha256Hex(bin.data(), bin.size());
        const std::string expected = header.value("sha256", "");
        if (!expected.empty() && expected != model.sha256)
            throw ModelError("model pack '" + binPath.string() + "' is corrupt (SHA-256 differs from its header)");

        model.vertexCount = n;
        const PackReader pack(header, bin, jsonPath);
        const auto mean = pack.read<float>("mean", "float32", {n, 3});
        model.mean = Eigen::Map<const Eigen::VectorXf>(mean.data(), 3 * n);
        model.identityBasis = basisFrom(pack.read<float>("identity_basis", "float32", {kId, n, 3}), kId, n);
        model.expressionBasis =
            basisFrom(pack.read<float>("expression_basis", "float32", {kExp, n, 3}), kExp, n);
        const auto tris = pack.read<std::int32_t>("triangles", "int32", {t, 3});
        model.triangles.resize(std::size_t(t));
        for (int i = 0; i < t; ++i)
            for (int c = 0; c < 3; ++c) {
                const int v = tris[std::size_t(3 * i + c)];
                if (v < 0 || v >= n) throw ModelError("model pack '" + jsonPath + "': triangle index out of range");
                model.triangles[std::size_t(i)][std::size_t(c)] = v;
            }
        const auto uv = pack.read<float>("uv", "float32", {n, 2});
        model.uv.resize(std::size_t(n));
        for (int i = 0; i < n; ++i) model.uv[std::size_t(i)] = {uv[std::size_t(2 * i)], uv[std::size_t(2 * i + 1)]};
        const auto landmarks = pack.read<std::int32_t>("landmarks68", "int32", {68});
        for (int i = 0; i < 68; ++i) {
            if (landmarks[std::size_t(i)] < 0 || landmarks[std::size_t(i)] >= n)
                throw ModelError("model pack '" + jsonPath + "': landmark index out of range");
            model.landmarks[std::size_t(i)] = landmarks[std::size_t(i)];
        }
        model.expressionNames = header.value("expression_names", std::vector<std::string>{});
        if (!model.expressionNames.empty() && int(model.expressionNames.size()) != kExp)
            throw ModelError("model pack '" + jsonPath + "': expression names do not match the count");
        return model;
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("model pack header '" + jsonPath + "' is incomplete: " + e.what());
    }
}

const MorphableModel& sharedFaceModel() {
    static std::once_flag once;
    static MorphableModel model;
    std::call_once(once, [] {
        ModelStore& store = ModelStore::instance();
        store.require("ict-face-light");  // verifies the binary's hash against the manifest
        model = loadMorphableModel(store.require("ict-face-light-header"));
    });
    return model;
}

void writeMorphableModel(const MorphableModel& model, const std::string& jsonPath, const nlohmann::json& source) {
    const int n = model.vertexCount;
    PackWriter pack;
    auto append = [&](const std::string& name, const std::string& dtype, std::vector<std::int64_t> shape,
                      const void* data, std::size_t bytes) { pack.add(name, dtype, shape, data, bytes); };
    append("mean", "float32", {n, 3}, model.mean.data(), sizeof(float) * 3 * std::size_t(n));
    append("identity_basis", "float32", {model.identityCount(), n, 3}, model.identityBasis.data(),
           sizeof(float) * std::size_t(model.identityBasis.size()));
    append("expression_basis", "float32", {model.expressionCount(), n, 3}, model.expressionBasis.data(),
           sizeof(float) * std::size_t(model.expressionBasis.size()));
    std::vector<std::int32_t> tris;
    for (const auto& t : model.triangles) tris.insert(tris.end(), t.begin(), t.end());
    append("triangles", "int32", {std::int64_t(model.triangles.size()), 3}, tris.data(), sizeof(std::int32_t) * tris.size());
    std::vector<float> uv;
    for (const auto& u : model.uv) uv.insert(uv.end(), {u.x(), u.y()});
    append("uv", "float32", {n, 2}, uv.data(), sizeof(float) * uv.size());
    append("landmarks68", "int32", {68}, model.landmarks.data(), sizeof(std::int32_t) * 68);

    nlohmann::json header = {
        {"format", "ideu-3dmm-pack"}, {"version", 1}, {"byte_order", "little"},
        {"layout", "C order (row-major), no padding"}, {"units", "centimetres"},
        {"coordinate_system", "right-handed: +x subject's left, +y up, +z out of the face"},
        {"vertices", n}, {"identity_components", model.identityCount()},
        {"expression_components", model.expressionCount()}, {"triangles", model.triangles.size()},
        {"expression_names", model.expressionNames}, {"arrays", pack.arrays()}, {"source", source},
        {"sha256", pack.sha256()}};
    const fs::path binPath = fs::path(jsonPath).replace_extension(".bin");
    writeFileAtomically(binPath.string(), pack.binary());
    writeTextAtomically(jsonPath, header.dump(4) + "\n");
}

}  // namespace ideu
