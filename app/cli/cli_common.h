#pragma once
// Shared pieces of the command-line tool: exit codes, option parsing, JSON helpers.
#include <QCommandLineParser>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <stdexcept>
#include <string>

namespace ideu::cli {

enum ExitCode { kOk = 0, kProcessingError = 1, kUsageError = 2, kNoFace = 3 };

// Bad arguments: printed with a hint to --help, exit code 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses `args` (args[0] is "ideudemon-cli COMMAND"). Returns false when --help was shown.
bool parseArguments(QCommandLineParser& parser, const QStringList& args, const QString& description);
std::string utf8(const QString& text);
double doubleOption(const QCommandLineParser& parser, const QString& name, double low, double high);
long long intOption(const QCommandLineParser& parser, const QString& name, long long low, long long high);

nlohmann::json toJson(const cv::Point2d& p);
nlohmann::json toJson(const cv::Rect2d& r);
nlohmann::json toJson(const cv::Matx23d& m);

int runDetect(const QStringList& args);
int runAlign(const QStringList& args);
int runFit(const QStringList& args);
int runAnonymize(const QStringList& args);
int runEvaluate(const QStringList& args);
int runBench(const QStringList& args);
int runConvertIct(const QStringList& args);

}  // namespace ideu::cli
