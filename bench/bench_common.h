#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace ideu::bench {

double median(std::vector<double> values);
double percentile(std::vector<double> values, double p);
// Photos given on the command line (files or folders), else ../shared/faces.
std::vector<std::string> collectImages(const std::vector<std::string>& args);

class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }

private:
    std::chrono::steady_clock::time_point start_;
};

int benchDetect(const std::vector<std::string>& args);
int benchRecall(const std::vector<std::string>& args);
int benchFit(const std::vector<std::string>& args);
int benchProbe(const std::vector<std::string>& args);
int benchNets(const std::vector<std::string>& args);
int benchRender(const std::vector<std::string>& args);
int benchRecognise(const std::vector<std::string>& args);
int benchScreen(const std::vector<std::string>& args);
int benchAppearance(const std::vector<std::string>& args);

}  // namespace ideu::bench
