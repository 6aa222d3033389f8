#include "cli/cli_common.h"

#include "common/files.h"
#include "evaluation/calibration.h"

#include <cstdio>

namespace ideu::cli {
namespace {

nlohmann::json rocJson(const RocSummary& r) {
    return {{"same_pairs", r.samePairs},         {"different_pairs", r.differentPairs}, {"eer", r.eer},
            {"eer_threshold", r.eerThreshold},   {"auc", r.auc},                       {"threshold", r.threshold},
            {"true_match_rate", r.trueMatchRate}, {"false_match_rate", r.falseMatchRate},
            {"same_min", r.sameMin},             {"same_max", r.sameMax},               {"different_min", r.differentMin}};
}

void printRoc(const char* name, const RocSummary& r) {
    std::printf("%-12s EER %.2f %% at distance %.4f; AUC %.4f; at the product's threshold %.4f: %.1f %% of same-person "
                "pairs match, %.2f %% of different-person pairs match; same-person distances %.3f-%.3f, "
                "closest different people %.3f\n",
                name, 100 * r.eer, r.eerThreshold, r.auc, r.threshold, 100 * r.trueMatchRate, 100 * r.falseMatchRate,
                r.sameMin, r.sameMax, r.differentMin);
}

}  // namespace

int runCalibrate(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("FACES_DIR", "Folder with one sub-folder of photos per person.");
    parser.addOption({"json", "Also write the figures to FILE.", "FILE"});
    if (!parseArguments(parser, args,
                        "Recogniser calibration: ROC of both recognisers over every same-person and different-person "
                        "pair of the original photos, equal-error rate and the threshold there.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one FACES_DIR");
    const QString facesDir = parser.positionalArguments().front();
    const CalibrationReport report = calibrateRecognisers(utf8(facesDir));
    // Without both kinds of pair there is no ROC: say so rather than print zeros.
    if (report.dlib.samePairs == 0 || report.dlib.differentPairs == 0)
        throw Error(utf8(facesDir) + ": " + std::to_string(report.photos) + " photo(s) with a face, " +
                    std::to_string(report.dlib.samePairs) + " same-person and " + std::to_string(report.dlib.differentPairs) +
                    " different-person pairs; calibration needs both (at least one person with two photos, and two "
                    "people)");
    std::printf("%d photos of %d people (%d without a face skipped); %d same-person and %d different-person pairs\n",
                report.photos, report.people, report.skippedNoFace, report.dlib.samePairs, report.dlib.differentPairs);
    printRoc("dlib ResNet", report.dlib);
    printRoc("FaceRes", report.faceres);
    if (parser.isSet("json")) {
        const nlohmann::json j = {{"photos", report.photos}, {"people", report.people},
                                  {"dlib", rocJson(report.dlib)}, {"faceres", rocJson(report.faceres)}};
        writeTextAtomically(utf8(parser.value("json")), j.dump(2) + "\n");
    }
    return kOk;
}

}  // namespace ideu::cli
