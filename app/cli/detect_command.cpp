#include "cli/cli_common.h"

#include "face/face_detector.h"
#include "io/image_io.h"

#include <chrono>
#include <cstdio>

namespace ideu::cli {

int runDetect(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("IMAGE", "Photo to search (JPEG, PNG, TIFF, WebP, BMP).");
    parser.addOption({"json", "Print the result as JSON."});
    parser.addOption({"min-face", "Smallest face side to find, in pixels (default 40).", "PX", "40"});
    parser.addOption({"max-pixels", "Refuse images above this many megapixels (default 100).", "MP", "100"});
    if (!parseArguments(parser, args, "Find faces and their 68 landmarks.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one IMAGE");
    const std::string path = utf8(parser.positionalArguments().front());

    ImageLoadOptions loadOptions;
    loadOptions.maxPixels = std::uint64_t(doubleOption(parser, "max-pixels", 0.01, 10000) * 1e6);
    DetectionOptions detectOptions;
    detectOptions.minFaceSize = doubleOption(parser, "min-face", 20, 10000);

    const Image image = loadImage(path, loadOptions);
    const auto start = std::chrono::steady_clock::now();
    const DetectionResult result = FaceDetector::shared()->detect(image.bgr, detectOptions);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (parser.isSet("json")) {
        nlohmann::json faces = nlohmann::json::array();
        for (const DetectedFace& f : result.faces) {
            nlohmann::json points = nlohmann::json::array();
            for (const cv::Point2d& p : f.landmarks) points.push_back(toJson(p));
            faces.push_back({{"box", toJson(f.box)}, {"score", f.score}, {"ssd_score", f.ssdScore}, {"turned", f.turned},
                             {"roll", f.roll}, {"landmarks", points}});
        }
        nlohmann::json rejected = nlohmann::json::array();
        for (const RejectedCandidate& r : result.rejected)
            rejected.push_back({{"box", toJson(r.box)}, {"score", r.score}, {"ssd_score", r.ssdScore}, {"reason", r.reason}});
        const nlohmann::json out = {{"image", path}, {"width", image.bgr.cols}, {"height", image.bgr.rows},
                                    {"min_face", result.minFaceSize}, {"faces", faces}, {"rejected", rejected}};
        std::printf("%s\n", out.dump(2).c_str());
        return kOk;
    }
    std::printf("%s: %dx%d, %zu face(s) (smallest findable side %.0f px, %.2f s)\n", path.c_str(), image.bgr.cols,
                image.bgr.rows, result.faces.size(), result.minFaceSize, seconds);
    for (std::size_t i = 0; i < result.faces.size(); ++i) {
        const DetectedFace& f = result.faces[i];
        char rolled[48] = "";
        if (f.roll != 0) std::snprintf(rolled, sizeof rolled, " (rolled %+d°: found turned upright)", f.roll);
        std::printf("  face %zu: box x=%.0f y=%.0f w=%.0f h=%.0f, HOG score %.2f, SSD score %.2f%s%s, eyes (%.1f, %.1f) (%.1f, %.1f)\n", i,
                    f.box.x, f.box.y, f.box.width, f.box.height, f.score, f.ssdScore, f.turned ? " (turned: profile detector only)" : "", rolled,
                    lm::rightEyeCentre(f.landmarks).x, lm::rightEyeCentre(f.landmarks).y, lm::leftEyeCentre(f.landmarks).x,
                    lm::leftEyeCentre(f.landmarks).y);
    }
    for (const RejectedCandidate& r : result.rejected)
        std::printf("  rejected: box x=%.0f y=%.0f w=%.0f h=%.0f: %s\n", r.box.x, r.box.y, r.box.width, r.box.height, r.reason.c_str());
    return kOk;
}

}  // namespace ideu::cli
