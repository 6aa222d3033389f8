#include "common/profile.h"

#include <atomic>
#include <chrono>
#include <mutex>

namespace ideu {
namespace {

std::atomic<bool> on{false};
std::mutex mutex;
std::map<std::string, double> totals;

long long now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void StageProfile::enable(bool enable) { on.store(enable, std::memory_order_relaxed); }
bool StageProfile::enabled() { return on.load(std::memory_order_relaxed); }

std::map<std::string, double> StageProfile::take() {
    std::map<std::string, double> out;
    std::lock_guard<std::mutex> lock(mutex);
    out.swap(totals);
    return out;
}

ScopedStage::ScopedStage(const char* name) : name_(name) {
    if (on.load(std::memory_order_relaxed)) start_ = now();
}

ScopedStage::~ScopedStage() {
    if (!start_) return;
    const double ms = double(now() - start_) / 1e6;
    std::lock_guard<std::mutex> lock(mutex);
    totals[name_] += ms;
}

}  // namespace ideu
