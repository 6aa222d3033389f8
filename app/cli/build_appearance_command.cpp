#include "cli/cli_common.h"

#include "appearance/appearance_builder.h"
#include "common/runtime.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>
#include <unistd.h>

namespace ideu::cli {

int runBuildAppearanceModel(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("GALLERY_DIR", "Folder of frontal face photos of nobody (for example synthetic faces).");
    parser.addOption({{"o", "output"}, "The pack's header, PACK.json (the binary PACK.bin goes beside it).", "PACK"});
    parser.addOption({"components", "PCA modes (default: as many as explain 98 % of the variance, at most 120).", "K", "0"});
    parser.addOption({"jobs", "Photos fitted in parallel (default: one per core).", "N", "0"});
    if (!parseArguments(parser, args,
                        "Build the appearance (albedo) model of Step I from a gallery of faces: fits every photo, skips "
                        "and reports those that do not fit, learns a PCA albedo model and a bank of skin detail.")) return kOk;
    if (parser.positionalArguments().size() != 1) throw UsageError("expected exactly one GALLERY_DIR");
    if (!parser.isSet("output")) throw UsageError("-o PACK is required");
    const std::string pack = utf8(parser.value("output"));
    if (pack.size() < 5 || pack.substr(pack.size() - 5) != ".json") throw UsageError("PACK must end in .json (the header)");
    AppearanceBuildOptions options;
    options.components = int(intOption(parser, "components", 0, kMaxAppearanceComponents));
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    options.jobs = int(intOption(parser, "jobs", 0, 64));
    if (options.jobs == 0) options.jobs = cores;
    configureThreads(std::max(1, cores / options.jobs));

    const auto start = std::chrono::steady_clock::now();
    const bool tty = isatty(fileno(stderr));
    const AppearanceBuildResult result =
        buildAppearanceModel(utf8(parser.positionalArguments().front()), options, [tty](int done, int total) {
            if (tty) std::fprintf(stderr, "\rfitted %d of %d gallery photos", done, total);
            else if (done == total || done % 100 == 0) std::fprintf(stderr, "fitted %d of %d gallery photos\n", done, total);
            if (tty && done == total) std::fprintf(stderr, "\n");
        });
    const std::string sha = writeAppearanceModel(result.model, pack, result.info);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::map<std::string, int> reasons;
    for (const GalleryVerdict& v : result.verdicts)
        if (!v.reason.empty()) {
            ++reasons[v.reason.substr(0, v.reason.find(" ("))];
            std::printf("skipped %s: %s\n", v.file.c_str(), v.reason.c_str());
        }
    std::printf("%zu gallery photos: %zu used", result.verdicts.size(), result.model.bank.size());
    for (const auto& [reason, count] : reasons) std::printf(", %d %s", count, reason.c_str());
    std::printf("\nalbedo model: %d modes explain %.1f %% of the variance (%d texels at %d², residual variance %.2e); "
                "detail bank %d faces at %d²\n",
                result.model.pca.components(), 100 * result.model.varianceExplained, result.model.pca.texelCount(),
                result.model.pca.uvSize, double(result.model.pca.residualVariance), int(result.model.bank.size()),
                result.model.detailUvSize);
    std::printf("wrote %s (binary SHA-256 %s); build time %.0f s\n", pack.c_str(), sha.c_str(), seconds);
    return kOk;
}

}  // namespace ideu::cli
