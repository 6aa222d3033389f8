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

nlohmann::json toJson(const cv::Point2d& p) { return {p.x, p.y}; }
nlohmann::json toJson(const cv::Rect2d& r) { return {r.x, r.y, r.width, r.height}; }
nlohmann::json toJson(const cv::Matx23d& m) {
    return {{m(0, 0), m(0, 1), m(0, 2)}, {m(1, 0), m(1, 1), m(1, 2)}};
}

}  // namespace ideu::cli
