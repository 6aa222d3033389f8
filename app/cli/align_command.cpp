#include "cli/cli_common.h"

#include "align/face_align.h"
#include "common/files.h"
#include "face/face_detector.h"
#include "io/image_io.h"

#include <cstdio>
#include <filesystem>

namespace ideu::cli {

int runAlign(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("IMAGE", "Photo to align.");
    parser.addOption({{"o", "output"}, "Folder for face_NN.png and alignment.json (created).", "DIR"});
    parser.addOption({"size", "Crop side in pixels (default 512).", "PX", "512"});
    parser.addOption({"min-face", "Smallest face side to find, in pixels (default 40).", "PX", "40"});
    if (!parseArguments(parser, args, "Write an FFHQ-style aligned crop per face and the transforms.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one IMAGE");
    if (!parser.isSet("output")) throw UsageError("-o DIR is required");
    const std::string path = utf8(parser.positionalArguments().front());
    const std::filesystem::path dir(utf8(parser.value("output")));
    const int size = int(intOption(parser, "size", 64, 4096));
    DetectionOptions detectOptions;
    detectOptions.minFaceSize = doubleOption(parser, "min-face", 10, 10000);

    const Image image = loadImage(path);
    const DetectionResult result = FaceDetector::shared()->detect(image.bgr, detectOptions);
    nlohmann::json faces = nlohmann::json::array();
    for (std::size_t i = 0; i < result.faces.size(); ++i) {
        const DetectedFace& f = result.faces[i];
        const FaceAlignment alignment = computeAlignment(f.landmarks, size);
        const AlignedCrop crop = alignFace(image.bgr, alignment);
        char name[32];
        std::snprintf(name, sizeof name, "face_%02zu.png", i);
        saveImage((dir / name).string(), crop.image, cv::Mat(), {95, {path}});
        nlohmann::json quad = nlohmann::json::array();
        for (const cv::Point2d& q : alignment.quad) quad.push_back(toJson(q));
        faces.push_back({{"index", i}, {"file", name}, {"box", toJson(f.box)}, {"score", f.score},
                         {"crop_from_image", toJson(alignment.cropFromImage)},
                         {"image_from_crop", toJson(alignment.imageFromCrop)}, {"quad", quad}});
    }
    const nlohmann::json out = {{"image", path}, {"width", image.bgr.cols}, {"height", image.bgr.rows},
                                {"size", size}, {"faces", faces}};
    writeTextAtomically((dir / "alignment.json").string(), out.dump(2) + "\n", {path});
    std::printf("%s: %zu face(s) aligned to %s\n", path.c_str(), result.faces.size(), dir.string().c_str());
    return kOk;
}

}  // namespace ideu::cli
