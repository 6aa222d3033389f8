// ideudemon-cli: every pipeline stage from the command line.
#include "cli/cli_common.h"
#include "common/error.h"
#include "common/runtime.h"

#include <QApplication>
#include <QCoreApplication>

#include <memory>

#include <cstdio>
#include <cstring>

namespace {

struct CommandInfo {
    const char* name;
    const char* summary;
    int (*run)(const QStringList&);
};

const CommandInfo kCommands[] = {
    {"anonymize", "de-identify every face of photos or folders (the main job)", ideu::cli::runAnonymize},
    {"detect", "find faces and their 68 landmarks", ideu::cli::runDetect},
    {"align", "write a 512x512 aligned crop per face plus the transforms", ideu::cli::runAlign},
    {"fit", "fit the 3-D face model (Step I) and write its stages and codes", ideu::cli::runFit},
    {"evaluate", "privacy benchmark over a folder of people (CSV, JSON, plot)", ideu::cli::runEvaluate},
    {"calibrate", "ROC and equal-error threshold of both recognisers over a folder of people", ideu::cli::runCalibrate},
    {"bench", "speed benchmark: fit, slider path, whole photo, throughput, memory", ideu::cli::runBench},
    {"build-appearance-model", "build the albedo model and skin-detail bank from a gallery of faces of nobody", ideu::cli::runBuildAppearanceModel},
    {"convert-ict", "build the 3-D face model pack from ICT-FaceKit's OBJ files", ideu::cli::runConvertIct},
};

void printUsage(std::FILE* out) {
    std::fprintf(out, "Usage: ideudemon-cli COMMAND [options]\n\nFace de-identification (IDEudemon).\n\nCommands:\n");
    for (const CommandInfo& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    std::fprintf(out, "\n'ideudemon-cli COMMAND --help' shows a command's options.\n"
                      "Exit codes: 0 ok, 1 processing error, 2 usage error, 3 a photo had no face.\n");
}

}  // namespace

int main(int argc, char** argv) {
    ideu::configureAllocator();
    // Plots (QCustomPlot) need a GUI application; every other command runs without one.
    const bool needsGui = argc > 1 && std::strcmp(argv[1], "evaluate") == 0;
    if (needsGui && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QCoreApplication> application;
    if (needsGui) application = std::make_unique<QApplication>(argc, argv);
    else application = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName("ideudemon-cli");
    QCoreApplication::setApplicationVersion(IDEU_VERSION);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        printUsage(stderr);
        return ideu::cli::kUsageError;
    }
    const QString command = args.at(1);
    if (command == "--help" || command == "-h" || command == "help") {
        printUsage(stdout);
        return ideu::cli::kOk;
    }
    if (command == "--version") {
        std::printf("ideudemon-cli %s\n", IDEU_VERSION);
        return ideu::cli::kOk;
    }
    for (const CommandInfo& c : kCommands) {
        if (command != c.name) continue;
        QStringList rest = args.mid(2);
        rest.prepend(QStringLiteral("ideudemon-cli ") + command);
        try {
            return c.run(rest);
        } catch (const ideu::cli::UsageError& e) {
            std::fprintf(stderr, "ideudemon-cli %s: %s (see --help)\n", c.name, e.what());
            return ideu::cli::kUsageError;
        } catch (const ideu::CancelledError&) {
            std::fprintf(stderr, "ideudemon-cli %s: cancelled\n", c.name);
            return ideu::cli::kProcessingError;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ideudemon-cli %s: error: %s\n", c.name, e.what());
            return ideu::cli::kProcessingError;
        }
    }
    std::fprintf(stderr, "ideudemon-cli: unknown command '%s' (see --help)\n", command.toUtf8().constData());
    return ideu::cli::kUsageError;
}
