#pragma once
// Builds the ICT-FaceKit light pack from the upstream FaceXModel OBJ files, so users with
// internet access can make the model themselves (packaging/setup.sh does when no mirror
// is configured).
#include "morphable/morphable_model.h"

#include <string>
#include <vector>

namespace ideu {

struct IctConversionOptions {
    int faceVertices = 9409;  // vertices 0..9408 form the face area
    int faceQuads = 9230;     // quads 0..9229 of generic_neutral_mesh.obj
    int identityCount = 100;  // identity000 .. identity099
    // With allowMissing, absent identity/expression OBJs give zero basis columns and are
    // listed in `missing` (used to test on a subset of the files).
    bool allowMissing = false;
};

struct IctConversionResult {
    MorphableModel model;
    std::vector<std::string> missing;
};

// `dir` holds generic_neutral_mesh.obj, identityNNN.obj, the expression OBJs and
// vertex_indices.json. Throws ModelError naming the file on any problem.
IctConversionResult convertIctFaceKit(const std::string& dir, const IctConversionOptions& options = {});

struct ObjMesh {
    std::vector<float> positions;  // x y z per vertex
    std::vector<float> texcoords;  // u v per texture vertex
    std::vector<std::vector<std::pair<int, int>>> faces;  // (vertex, texcoord) per corner, 0-based
};
ObjMesh readObj(const std::string& path, bool withFaces);

}  // namespace ideu
