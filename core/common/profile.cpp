#include "common/profile.h"

#include <atomic>
#include <chrono>

namespace ideu {
namespace {

std::atomic<bool> on{false};
thread_local std::map<std::string, double> totals;

long long now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void StageProfile::enable(bool enable) { on.store(enable, std::memory_order_relaxed); }
bool StageProfile::enabled() { return on.load(std::memory_order_relaxed); }

std::map<std::string, double> StageProfile::take() {
    std::map<std::string, double> out;
    out.swap(totals);
    return out;
}

ScopedStage::ScopedStage(const char* name) : name_(name) {
    if (on.load(std::memory_order_relaxed)) start_ = now();
}

ScopedStage::~ScopedStage() {
    if (start_) totals[name_] += double(now() - start_) / 1e6;
}

}  // namespace ideu
