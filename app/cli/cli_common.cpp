#include "cli/cli_common.h"

#include <cmath>
#include <cstdio>

namespace ideu::cli {

bool parseArguments(QCommandLineParser& parser, const QStringList& args, const QString& description) {
    parser.setApplicationDescription(description);
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    const QCommandLineOption help({"h", "help"}, "Show this help.");
    parser.addOption(help);
    if (!parser.parse(args)) throw UsageError(utf8(parser.errorText()));
    if (parser.isSet(help)) {
        std::fputs(utf8(parser.helpText()).c_str(), stdout);
        return false;
    }
    return true;
}

std::string utf8(const QString& text) { return text.toUtf8().toStdString(); }

double doubleOption(const QCommandLineParser& parser, const QString& name, double low, double high) {
    bool ok = false;
    const double v = parser.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < low || v > high)
        throw UsageError("--" + utf8(name) + " must be a number from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", got '" + utf8(parser.value(name)) + "'");
    return v;
}

long long intOption(const QCommandLineParser& parser, const QString& name, long long low, long long high) {
    bool ok = false;
    const long long v = parser.value(name).toLongLong(&ok);
    if (!ok || v < low || v > high)
        throw UsageError("--" + utf8(name) + " must be an integer from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", got '" + utf8(parser.value(name)) + "'");
    return v;
}

void addBackendOptions(QCommandLineParser& parser) {
    parser.addOption({"parser", "Face parser for X: mesh (default) or bisenet (your converted weights).", "NAME", "mesh"});
    parser.addOption({"restorer", "Step II restorer: blend (default) or gfpgan (your converted weights).", "NAME", "blend"});
    parser.addOption({"head", "Step I head: mesh (default, the 3DMM) or headnerf (your converted weights; slow).", "NAME", "mesh"});
    parser.addOption({"headnerf-steps", "HeadNeRF fitting steps per face (default 300).", "N", "300"});
}

std::string Backends::description() const {
    return std::string("parser ") + (parser ? parser->name() : "mesh") + ", restorer " + (restorer ? restorer->name() : "blend") +
           ", head " + (head ? "headnerf" : "mesh");
}

Backends backendsFrom(const QCommandLineParser& parser) {
    Backends b;
    const QString p = parser.value("parser"), r = parser.value("restorer"), h = parser.value("head");
    if (p != "mesh" && p != "bisenet") throw UsageError("--parser is mesh or bisenet");
    if (r != "blend" && r != "gfpgan") throw UsageError("--restorer is blend or gfpgan");
    if (h != "mesh" && h != "headnerf") throw UsageError("--head is mesh or headnerf");
    b.headSteps = int(intOption(parser, "headnerf-steps", 1, 100000));
    auto announce = [](const char* name, const std::string& licence) {
        std::fprintf(stderr, "note: %s enabled; licence: %s\n", name, licence.c_str());
    };
    if (p == "bisenet") {
        b.parser = ideu::makeBiSeNetParser();
        announce("BiSeNet", ideu::bisenetAvailability().licence);
    }
    if (r == "gfpgan") {
        b.restorer = ideu::makeGfpganRestorer();
        announce("GFPGAN", ideu::gfpganAvailability().licence);
    }
    if (h == "headnerf") {
        b.head = ideu::HeadNerfHead::fromModelStore();
        announce("HeadNeRF", ideu::headnerfAvailability().licence);
    }
    return b;
}

void applyBackends(ideu::DeidPipeline& pipeline, const Backends& b, bool verbose) {
    if (b.parser) pipeline.setParser(b.parser);
    if (b.restorer) pipeline.setRestorer(b.restorer);
    if (!b.head) return;
    pipeline.setHead(b.head);
    for (int i = 0; i < int(pipeline.faces().size()); ++i) {
        pipeline.fitHead(i, b.headSteps, [&](int step, double loss) {
            if (verbose && (step % 25 == 0 || step == b.headSteps))
                std::fprintf(stderr, "HeadNeRF fit, face %d: step %d of %d, loss %.5f\n", i, step, b.headSteps, loss);
            return true;
        });
    }
}

nlohmann::json toJson(const cv::Point2d& p) { return {p.x, p.y}; }
nlohmann::json toJson(const cv::Rect2d& r) { return {r.x, r.y, r.width, r.height}; }
nlohmann::json toJson(const cv::Matx23d& m) {
    return {{m(0, 0), m(0, 1), m(0, 2)}, {m(1, 0), m(1, 1), m(1, 2)}};
}

}  // namespace ideu::cli
