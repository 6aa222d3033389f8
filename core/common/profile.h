#pragma once
// Named stage timings for the benchmarks (`ideudemon-cli bench` prints them). Off by default:
// a ScopedStage then costs one relaxed atomic load. When on, all threads add to one set of
// totals (stages that run side by side on two cores both count their whole time), which the
// benchmark takes after each measured run; it measures one run at a time.
#include <map>
#include <string>

namespace ideu {

class StageProfile {
public:
    static void enable(bool on);
    static bool enabled();
    // The totals since the last take(), in milliseconds per stage; cleared.
    static std::map<std::string, double> take();
};

class ScopedStage {
public:
    explicit ScopedStage(const char* name);
    ~ScopedStage();
    ScopedStage(const ScopedStage&) = delete;
    ScopedStage& operator=(const ScopedStage&) = delete;

private:
    const char* name_;
    long long start_ = 0;  // steady-clock nanoseconds; 0 when profiling is off
};

}  // namespace ideu
