#include "morphable/ict_converter.h"

#include "common/error.h"
#include "common/files.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace ideu {

ObjMesh readObj(const std::string& path, bool withFaces) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(path, std::uint64_t(1) << 30);
    } catch (const Error& e) {
        throw ModelError(e.what());
    }
    bytes.push_back('\0');
    ObjMesh mesh;
    const char* p = reinterpret_cast<const char*>(bytes.data());
    int line = 1;
    auto fail = [&](const char* what) { throw ModelError("'" + path + "' line " + std::to_string(line) + ": " + what); };
    while (*p) {
        while (*p == ' ' || *p == '\t') ++p;
        if (p[0] == 'v' && (p[1] == ' ' || p[1] == '\t')) {
            p += 2;
            for (int i = 0; i < 3; ++i) {
                char* end = nullptr;
                mesh.positions.push_back(std::strtof(p, &end));
                if (end == p) fail("bad vertex");
                p = end;
            }
        } else if (p[0] == 'v' && p[1] == 't' && (p[2] == ' ' || p[2] == '\t')) {
            p += 3;
            for (int i = 0; i < 2; ++i) {
                char* end = nullptr;
                mesh.texcoords.push_back(std::strtof(p, &end));
                if (end == p) fail("bad texture coordinate");
                p = end;
            }
        } else if (withFaces && p[0] == 'f' && (p[1] == ' ' || p[1] == '\t')) {
            p += 2;
            std::vector<std::pair<int, int>> corners;
            while (*p && *p != '\n' && *p != '\r') {
                while (*p == ' ' || *p == '\t') ++p;
                if (!*p || *p == '\n' || *p == '\r') break;
                char* end = nullptr;
                const long v = std::strtol(p, &end, 10);
                if (end == p || v <= 0) fail("bad face (only positive indices are supported)");
                p = end;
                long t = 0;
                if (*p == '/') {
                    ++p;
                    if (*p != '/') {
                        t = std::strtol(p, &end, 10);
                        p = end;
                    }
                    if (*p == '/') {  // skip normal index
                        ++p;
                        std::strtol(p, &end, 10);
                        p = end;
                    }
                }
                corners.emplace_back(int(v - 1), int(t - 1));
            }
            if (corners.size() < 3) fail("face with fewer than 3 corners");
            mesh.faces.push_back(std::move(corners));
        }
        while (*p && *p != '\n') ++p;
        if (*p == '\n') ++p, ++line;
    }
    return mesh;
}

IctConversionResult convertIctFaceKit(const std::string& dir, const IctConversionOptions& options) {
    const fs::path root(dir);
    const int n = options.faceVertices;
    nlohmann::json indices;
    {
        const fs::path path = root / "vertex_indices.json";
        std::ifstream in(path);
        if (!in) throw ModelError("'" + path.string() + "' not found (is this ICT-FaceKit's FaceXModel folder?)");
        try {
            indices = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw ModelError("'" + path.string() + "': " + e.what());
        }
    }
    IctConversionResult result;
    MorphableModel& model = result.model;
    model.vertexCount = n;

    const ObjMesh neutral = readObj((root / "generic_neutral_mesh.obj").string(), true);
    if (int(neutral.positions.size() / 3) < n) throw ModelError("generic_neutral_mesh.obj has too few vertices");
    if (int(neutral.faces.size()) < options.faceQuads) throw ModelError("generic_neutral_mesh.obj has too few faces");
    model.mean = Eigen::Map<const Eigen::VectorXf>(neutral.positions.data(), 3 * n);

    // Quads split into (v0,v1,v2) and (v0,v2,v3); per-vertex UV from the face corners.
    model.uv.assign(std::size_t(n), Eigen::Vector2f::Zero());
    for (int f = 0; f < options.faceQuads; ++f) {
        const auto& c = neutral.faces[std::size_t(f)];
        if (c.size() != 4) throw ModelError("generic_neutral_mesh.obj: face " + std::to_string(f) + " is not a quad");
        for (const auto& [v, t] : c) {
            if (v >= n) throw ModelError("generic_neutral_mesh.obj: face-area quad uses a vertex outside the face area");
            if (t < 0 || 2 * std::size_t(t) + 1 >= neutral.texcoords.size())
                throw ModelError("generic_neutral_mesh.obj: quad without texture coordinates");
            model.uv[std::size_t(v)] = {neutral.texcoords[2 * std::size_t(t)], neutral.texcoords[2 * std::size_t(t) + 1]};
        }
        model.triangles.push_back({c[0].first, c[1].first, c[2].first});
        model.triangles.push_back({c[0].first, c[2].first, c[3].first});
    }

    auto delta = [&](const std::string& name, Eigen::Ref<Eigen::VectorXf> column) {
        const fs::path path = root / (name + ".obj");
        if (!fs::exists(path)) {
            if (!options.allowMissing) throw ModelError("'" + path.string() + "' not found");
            result.missing.push_back(name);
            column.setZero();
            return;
        }
        const ObjMesh target = readObj(path.string(), false);
        if (int(target.positions.size() / 3) < n) throw ModelError("'" + path.string() + "' has too few vertices");
        column = Eigen::Map<const Eigen::VectorXf>(target.positions.data(), 3 * n) - model.mean;
    };

    model.identityBasis.resize(3 * n, options.identityCount);
    for (int k = 0; k < options.identityCount; ++k) {
        char name[32];
        std::snprintf(name, sizeof name, "identity%03d", k);
        delta(name, model.identityBasis.col(k));
    }
    model.expressionNames = indices.at("expressions").get<std::vector<std::string>>();
    model.expressionBasis.resize(3 * n, int(model.expressionNames.size()));
    for (std::size_t j = 0; j < model.expressionNames.size(); ++j)
        delta(model.expressionNames[j], model.expressionBasis.col(int(j)));

    const auto landmarks = indices.at("idx_to_landmark_verts").get<std::vector<int>>();
    if (landmarks.size() != 68) throw ModelError("vertex_indices.json: expected 68 landmark vertices");
    for (int i = 0; i < 68; ++i) {
        if (landmarks[std::size_t(i)] < 0 || landmarks[std::size_t(i)] >= n)
            throw ModelError("vertex_indices.json: landmark vertex outside the face area");
        model.landmarks[std::size_t(i)] = landmarks[std::size_t(i)];
    }
    return result;
}

}  // namespace ideu
