#pragma once
// Shared pieces of the command-line tool: exit codes, option parsing, JSON helpers.
#include <QCommandLineParser>
#include <QStringList>

#include "pipeline/deid_pipeline.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <memory>
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

// The paper's neural stages, chosen per run (--parser, --restorer, --head).
struct Backends {
    std::shared_ptr<const ideu::FaceParser> parser;      // null: mesh
    std::shared_ptr<const ideu::Restorer> restorer;      // null: blend
    std::shared_ptr<const ideu::HeadNerfHead> head;      // null: mesh
    int headSteps = 300;
    std::string description() const;
};
void addBackendOptions(QCommandLineParser& parser);
Backends backendsFrom(const QCommandLineParser& parser);  // ModelError when weights are missing
// Sets the backends on a photo's pipeline; with HeadNeRF, fits its codes to every face.
void applyBackends(ideu::DeidPipeline& pipeline, const Backends& backends, bool verbose);

int runDetect(const QStringList& args);
int runAlign(const QStringList& args);
int runFit(const QStringList& args);
int runAnonymize(const QStringList& args);
int runEvaluate(const QStringList& args);
int runCalibrate(const QStringList& args);
int runBuildAppearanceModel(const QStringList& args);
int runBench(const QStringList& args);
int runConvertIct(const QStringList& args);

}  // namespace ideu::cli
