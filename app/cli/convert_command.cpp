#include "cli/cli_common.h"

#include "morphable/ict_converter.h"

#include <cstdio>
#include <filesystem>

namespace ideu::cli {

int runConvertIct(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("FACEXMODEL_DIR", "ICT-FaceKit's FaceXModel folder (OBJ files + vertex_indices.json).");
    parser.addOption({{"o", "output"}, "Folder for ict_face_light.json + .bin (created).", "DIR"});
    if (!parseArguments(parser, args, "Build the ICT-FaceKit light face-area model pack from the upstream OBJ files.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one FACEXMODEL_DIR");
    if (!parser.isSet("output")) throw UsageError("-o DIR is required");
    const std::string input = utf8(parser.positionalArguments().front());
    const std::filesystem::path out(utf8(parser.value("output")));
    const IctConversionResult result = convertIctFaceKit(input);
    const nlohmann::json source = {
        {"project", "ICT-FaceKit (ICT-VGL), FaceXModel, light version"},
        {"derived", "face area only: vertices 0..9408 and quads 0..9229 of generic_neutral_mesh.obj, quads split into "
                    "2 triangles (v0,v1,v2),(v0,v2,v3); bases are target minus generic_neutral_mesh for "
                    "identity000..identity099 and the 53 expression OBJs in vertex_indices.json order"},
        {"converted_from", input},
        {"licence", "MIT"}};
    writeMorphableModel(result.model, (out / "ict_face_light.json").string(), source);
    std::printf("wrote %s (%d vertices, %d identity and %d expression components)\n",
                (out / "ict_face_light.json").string().c_str(), result.model.vertexCount, result.model.identityCount(),
                result.model.expressionCount());
    return kOk;
}

}  // namespace ideu::cli
