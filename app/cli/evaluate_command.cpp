#include "cli/cli_common.h"

#include "common/files.h"
#include "common/runtime.h"
#include "evaluation/privacy_eval.h"
#include "recognition/faceres.h"
#include "evaluation_plot.h"

#include <cstdio>
#include <unistd.h>
#include <stdexcept>
#include <filesystem>
#include <thread>

namespace ideu::cli {

int runEvaluate(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("FACES_DIR", "Folder with one sub-folder of photos per person.");
    parser.addOption({{"o", "output"}, "Report folder: evaluation.csv, evaluation.json, evaluation.png.", "REPORT_DIR"});
    parser.addOption({"scales", "Comma-separated noise scales (default 0,0.2,0.35,0.5,0.65,0.8).", "LIST",
                      "0,0.2,0.35,0.5,0.65,0.8"});
    parser.addOption({"seeds", "Seeds per photo and scale (default 1).", "N", "1"});
    parser.addOption({"jobs", "Photos processed in parallel (default: one per core).", "N", "0"});
    parser.addOption({"components", "Identity components to perturb: all, none (the albedo projection alone), or a list of "
                                    "shape,albedo,detail.",
                      "LIST", "all"});
    parser.addOption({"ablation", "Also evaluate each component alone (the ablation table), at the given scales."});
    parser.addOption({"shape-gain", "Shape noise per unit of scale (default 3).", "K", "3"});
    parser.addOption({"albedo-gain", "Albedo-code noise per unit of scale (default 3).", "K", "3"});
    addBackendOptions(parser);
    parser.addOption({"warp-falloff", "How far (x crop size) the shape warp reaches beyond the head (default 0.12).", "F", "0.12"});
    parser.addOption({"detail-scale", "Scale at which the bank skin detail is at full strength (default 0.2).", "S", "0.2"});
    if (!parseArguments(parser, args, "Privacy benchmark: anonymize every photo at each scale and measure "
                                      "recogniser distance, matches, re-identification, detection, PSNR/SSIM, "
                                      "landmark and pose change.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one FACES_DIR");
    if (!parser.isSet("output")) throw UsageError("-o REPORT_DIR is required");
    EvaluationOptions options;
    options.scales.clear();
    for (const QString& part : parser.value("scales").split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const double s = part.trimmed().toDouble(&ok);
        if (!ok || s < 0 || s > 1) throw UsageError("--scales takes numbers from 0 to 1, e.g. 0.1,0.2");
        options.scales.push_back(s);
    }
    if (options.scales.empty()) throw UsageError("--scales is empty");
    options.seeds = int(intOption(parser, "seeds", 1, 100));
    options.noise.shapeGain = doubleOption(parser, "shape-gain", 0, 20);
    options.noise.albedoGain = doubleOption(parser, "albedo-gain", 0, 20);
    options.noise.detailFullScale = doubleOption(parser, "detail-scale", 0.001, 10);
    options.warpFalloff = doubleOption(parser, "warp-falloff", 0.001, 1);
    {
        const Backends backends = backendsFrom(parser);
        if (backends.head) throw UsageError("evaluate does not fit HeadNeRF (use --head mesh)");
        options.parser = backends.parser;
        options.restorer = backends.restorer;
    }
    auto componentList = [](const QString& text) {
        std::vector<std::string> names;
        for (const QString& c : text.split(',', Qt::SkipEmptyParts)) names.push_back(c.trimmed().toStdString());
        return names;
    };
    try {
        setIdentityComponents(options.noise, componentList(parser.value("components")));
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string(e.what()) + " (use shape, albedo, detail, all or none)");
    }
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    options.jobs = int(intOption(parser, "jobs", 0, 64));
    if (options.jobs == 0) options.jobs = cores;
    configureThreads(std::max(1, cores / options.jobs));
    const std::filesystem::path dir(utf8(parser.value("output")));
    const std::string facesDir = utf8(parser.positionalArguments().front());

    const bool tty = isatty(fileno(stderr));
    const EvaluationReport report = evaluatePrivacy(facesDir, options, {}, [tty](int done, int total) {
        if (tty) std::fprintf(stderr, "\revaluated %d of %d photos", done, total);
        if (done == total) std::fprintf(stderr, "%sevaluated %d photos\n", tty ? "\r" : "", total);
    });
    writeTextAtomically((dir / "evaluation.csv").string(), reportCsv(report));
    writeTextAtomically((dir / "evaluation.json").string(), reportJson(report, options) + "\n");
    const QString plot = QString::fromStdString((dir / "evaluation.png").string());
    if (!ui::saveEvaluationPlot(report, plot)) throw Error("could not write the plot " + utf8(plot));

    std::printf("%d photos of %d people (%d without a face skipped); same-person pairs matching before anonymization: "
                "dlib ResNet %.1f %%, FaceRes %.1f %%\n",
                report.photos, report.people, report.skippedNoFace, 100 * report.baselineSameMatch, 100 * report.baselineSameMatch2);
    {
        std::string components;
        for (const std::string& c : enabledIdentityComponents(options.noise)) components += " " + c;
        std::printf("noise on:%s; shape gain %g, albedo gain %g; seeds 1-%d\n", components.empty() ? " nothing" : components.c_str(),
                    options.noise.shapeGain, options.noise.albedoGain, options.seeds);
    }
    std::printf("dlib ResNet (match < 0.6) and HSE FaceRes (match < %.4f); utility: crop/photo PSNR and SSIM, landmarks, pose, "
                "apparent age (|Δ| and signed Δ) and gender kept by FaceRes and by GEAR\n", kFaceResThreshold);
    std::printf("%6s %6s %6s %6s %7s %6s %6s %6s %7s %7s %7s %6s %7s %7s %7s %7s %7s %6s %6s %7s %6s %6s %6s\n", "scale", "DIS",
                "match%", "reid%", "rAny%", "DIS2", "match2", "reid2", "rAny2%", "detect%", "cPSNR", "cSSIM", "pPSNR", "pSSIM",
                "NME", "pose°", "|Δage|", "Δage", "gender", "|Δage2|", "Δage2", "gend2", "n");
    for (const SettingSummary& s : report.summary)
        std::printf("%6.2f %6.3f %6.1f %6.1f %7.1f %6.3f %6.1f %6.1f %7.1f %7.1f %7.2f %6.3f %7.2f %7.3f %7.4f %7.2f %7.2f %+6.1f "
                    "%6.1f %7.2f %+6.1f %6.1f %6d\n",
                    s.scale, s.meanDis, 100 * s.matchRate, 100 * s.reidRate, 100 * s.reidAnyRate, s.meanDis2,
                    100 * s.match2Rate, 100 * s.reid2Rate, 100 * s.reid2AnyRate, 100 * s.detectedRate, s.cropPsnr, s.cropSsim,
                    s.photoPsnr, s.photoSsim, s.landmarkNme, s.poseChangeDeg, s.ageChange, s.meanAgeShift,
                    100 * s.genderKeptRate, s.ageChange2, s.meanAgeShift2, 100 * s.genderKept2Rate, s.samples);
    if (parser.isSet("ablation")) {
        // Each component alone, then all together, at the same scales and seeds.
        // With the utility each component costs: pose, expression, apparent age and gender.
        std::string table = "| components | scale | DIS | match % | re-id % | DIS2 | match2 % | re-id2 % | crop PSNR | crop SSIM "
                            "| pose ° | expression | age change (y) | age shift (y) | gender kept % | age change 2 (y) | age shift 2 (y) "
                            "| gender kept 2 % |\n"
                            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
        nlohmann::json rows = nlohmann::json::array();
        // "none": nothing perturbed, the face re-rendered from its albedo projection alone.
        std::vector<std::string> runs = {"none"};
        for (const std::string& c : identityComponentNames()) runs.push_back(c);
        runs.push_back("all");
        for (const std::string& component : runs) {
            EvaluationOptions single = options;
            setIdentityComponents(single.noise, {component});
            const EvaluationReport r = component == "all" && parser.value("components") == "all"
                                           ? report
                                           : evaluatePrivacy(facesDir, single);
            for (const SettingSummary& s : r.summary) {
                char line[400];
                std::snprintf(line, sizeof line,
                              "| %s | %.2f | %.3f | %.1f | %.1f | %.3f | %.1f | %.1f | %.2f | %.3f | %.2f | %.3f | %.1f | %+.1f "
                              "| %.1f | %.1f | %+.1f | %.1f |\n",
                              component.c_str(), s.scale, s.meanDis, 100 * s.matchRate, 100 * s.reidRate, s.meanDis2,
                              100 * s.match2Rate, 100 * s.reid2Rate, s.cropPsnr, s.cropSsim, s.poseChangeDeg,
                              s.expressionChange, s.ageChange, s.meanAgeShift, 100 * s.genderKeptRate, s.ageChange2,
                              s.meanAgeShift2, 100 * s.genderKept2Rate);
                table += line;
                rows.push_back({{"components", component}, {"scale", s.scale}, {"dis_mean", s.meanDis},
                                {"match_rate", s.matchRate}, {"reid_pair_rate", s.reidRate}, {"dis2_mean", s.meanDis2},
                                {"match2_rate", s.match2Rate}, {"reid2_pair_rate", s.reid2Rate}, {"crop_psnr", s.cropPsnr},
                                {"crop_ssim", s.cropSsim}, {"photo_psnr", s.photoPsnr}, {"photo_ssim", s.photoSsim},
                                {"pose_change_deg", s.poseChangeDeg}, {"expression_change", s.expressionChange},
                                {"age_change_years", s.ageChange}, {"gender_kept_rate", s.genderKeptRate},
                                {"age_shift_years", s.meanAgeShift}, {"age_change2_years", s.ageChange2},
                                {"age_shift2_years", s.meanAgeShift2}, {"gender_kept2_rate", s.genderKept2Rate}});
            }
            std::fprintf(stderr, "ablation: %s done\n", component.c_str());
        }
        writeTextAtomically((dir / "ablation.md").string(), table);
        writeTextAtomically((dir / "ablation.json").string(), rows.dump(2) + "\n");
        std::printf("\nablation (each component alone):\n%s", table.c_str());
    }
    std::printf("report: %s\n", dir.string().c_str());
    return kOk;
}

}  // namespace ideu::cli
