#include "cli/cli_common.h"

#include "common/files.h"
#include "deid/fitted_face.h"
#include "deid/perturbed_face.h"
#include "face/face_detector.h"
#include "pipeline/deid_pipeline.h"
#include "io/image_io.h"

#include <cstdio>
#include <stdexcept>
#include <limits>
#include <filesystem>

namespace ideu::cli {

int runFit(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("IMAGE", "Photo whose faces are fitted.");
    parser.addOption({"stages", "Folder for the stage images and codes (created).", "DIR"});
    parser.addOption({"scale", QString("Identity noise scale for X_p, 0-%1 (default %2).").arg(kMaxScale).arg(kDefaultScale), "S",
                      QString::number(kDefaultScale)});
    parser.addOption({"seed", "Noise seed for X_p (default 1).", "N", "1"});
    parser.addOption({"components", "Identity components perturbed in X_p: all, none, or a list of shape,albedo,detail.", "LIST",
                      "all"});
    parser.addOption({"json", "Print the fitted codes as JSON."});
    if (!parseArguments(parser, args, "Fit the 3-D face model to every face (Step I) and write its stages.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one IMAGE");
    if (!parser.isSet("stages")) throw UsageError("--stages DIR is required");
    const std::string path = utf8(parser.positionalArguments().front());
    const std::filesystem::path dir(utf8(parser.value("stages")));
    const double scale = doubleOption(parser, "scale", 0.0, 1.0);
    const auto seed = std::uint64_t(intOption(parser, "seed", 0, std::numeric_limits<long long>::max()));
    NoiseSettings noise;
    try {
        std::vector<std::string> names;
        for (const QString& c : parser.value("components").split(',', Qt::SkipEmptyParts)) names.push_back(c.trimmed().toStdString());
        setIdentityComponents(noise, names);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string(e.what()) + " (use shape, albedo, detail, all or none)");
    }

    const Image image = loadImage(path);
    const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
    const FaceModelContext& context = FaceModelContext::shared();
    const auto& expressionNames = context.model().expressionNames;
    nlohmann::json out = {{"image", path}, {"faces", nlohmann::json::array()}};
    for (std::size_t i = 0; i < faces.size(); ++i) {
        const AppearanceModel& model = sharedAppearanceModel();
        const FittedFace face = fitFace(context, model, image.bgr, faces[i]);
        const PerturbedFace perturbed = perturbFace(context, model, face, scale, seed, noise);
        char prefix[32];
        std::snprintf(prefix, sizeof prefix, "face_%02zu_", i);
        const std::vector<std::pair<std::string, cv::Mat>> stages = {
            {"X", face.crop.image},
            {"landmarks", landmarkOverlay(face)},
            {"fit", fitOverlay(context, face)},
            {"X_f", fittedRender(face)},
            {"X_p", perturbedRender(perturbed)},
        };
        nlohmann::json stagePaths;
        for (const auto& [name, picture] : stages) {
            const std::string file = (dir / (prefix + name + ".png")).string();
            saveImage(file, picture, cv::Mat(), {95, {path}});
            stagePaths[name] = file;
        }
        const Eigen::Vector3d angles = face.fit.pose.anglesDegrees();
        nlohmann::json identity = nlohmann::json::array();
        for (Eigen::Index k = 0; k < face.identity.shape.size(); ++k) identity.push_back(face.identity.shape(k));
        for (Eigen::Index k = 0; k < face.identity.albedo.size(); ++k) identity.push_back(face.identity.albedo(k));
        nlohmann::json expression = nlohmann::json::array(), expressionByName;
        for (Eigen::Index k = 0; k < face.fit.expression.size(); ++k) {
            expression.push_back(face.fit.expression(k));
            if (face.fit.expression(k) > 0.01f) expressionByName[expressionNames[std::size_t(k)]] = face.fit.expression(k);
        }
        nlohmann::json sh = nlohmann::json::array();
        for (int c = 0; c < 3; ++c)
            for (int k = 0; k < 9; ++k) sh.push_back(face.lighting(k, 2 - c));  // R, G, B blocks of 9
        const auto centre = [](const Eigen::Vector3f& c) { return nlohmann::json{c.x(), c.y(), c.z()}; };
        nlohmann::json perturbedIdentity = nlohmann::json::array();
        for (Eigen::Index k = 0; k < perturbed.identity.shape.size(); ++k) perturbedIdentity.push_back(perturbed.identity.shape(k));
        for (Eigen::Index k = 0; k < perturbed.identity.albedo.size(); ++k) perturbedIdentity.push_back(perturbed.identity.albedo(k));
        const nlohmann::json codes = {
            {"landmark_error", face.fit.nmeInner},
            {"identity", identity},
            {"identity_layout", {{"shape", face.identity.shape.size()}, {"albedo", face.identity.albedo.size()}}},
            {"skin_tone_bgr", {face.appearance.tone[0], face.appearance.tone[1], face.appearance.tone[2]}},
            {"expression", expression},
            {"expression_active", expressionByName},
            {"sh", sh},
            {"sh_layout", "9 coefficients per channel, R then G then B; shading relative to the median skin colour"},
            {"pose", {{"yaw_deg", angles.x()}, {"pitch_deg", angles.y()}, {"roll_deg", angles.z()},
                      {"translation_cm", {face.fit.pose.translation.x(), face.fit.pose.translation.y(), face.fit.pose.translation.z()}},
                      {"focal_px", face.fit.camera.focal}}},
            {"perturbed",
             {{"scale", scale},
              {"seed", seed},
              {"identity", perturbedIdentity},
              {"size_and_place",
               {{"scale", 1.0 + double(perturbed.sizeAndPlace.scaleChange)},
                {"from_centre_cm", centre(perturbed.sizeAndPlace.perturbedCentre)},
                {"to_centre_cm", centre(perturbed.sizeAndPlace.fittedCentre)},
                {"meaning", "the mesh of X_p is to + scale * (v - from) for each model-space vertex v of the identity code"}}}}},
            {"stages", stagePaths},
        };
        writeTextAtomically((dir / (std::string(prefix) + "codes.json")).string(), codes.dump(2) + "\n", {path});
        out["faces"].push_back(codes);
    }
    if (parser.isSet("json")) {
        std::printf("%s\n", out.dump(2).c_str());
    } else {
        std::printf("%s: %zu face(s) fitted, stages in %s\n", path.c_str(), faces.size(), dir.string().c_str());
        for (std::size_t i = 0; i < out["faces"].size(); ++i)
            std::printf("  face %zu: landmark error %.4f (NME, 51 inner points), yaw %.1f deg\n", i,
                        out["faces"][i]["landmark_error"].get<double>(), out["faces"][i]["pose"]["yaw_deg"].get<double>());
    }
    return kOk;
}

}  // namespace ideu::cli
