#pragma once
// Work split over OpenCV's threads without changing a single bit of the result.
#include "common/cancel.h"
#include "common/runtime.h"

#include <Eigen/Core>
#include <opencv2/core/utility.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <type_traits>

namespace ideu {

// out += matrix * vector by BLAS (OpenBLAS: kernels chosen by the CPU at run time), on the
// calling thread alone (each row is summed in the same order whatever the thread count). The
// albedo basis (88k x 120) and the shape bases are far faster so than in Eigen's portable
// kernels.
void addProduct(Eigen::VectorXf& out, const Eigen::MatrixXf& matrix, const Eigen::VectorXf& vector);

// While alive, the calling thread's OpenMP parallel regions (OpenBLAS's OpenMP build and
// Torch open them, sized by the thread's OpenMP setting) run on this thread alone. A region's
// idle workers spin (libgomp's default) on the cores the other work needs: for a small
// product, or on a thread that already shares the cores with another, a region costs more
// than it gives. A no-op where no OpenMP runtime is loaded.
class SingleOpenMpThread {
public:
    SingleOpenMpThread();
    ~SingleOpenMpThread();
    SingleOpenMpThread(const SingleOpenMpThread&) = delete;
    SingleOpenMpThread& operator=(const SingleOpenMpThread&) = delete;

private:
    int before_ = 0;
};

// The result of work started beside the caller. Like std::async's future, it waits for the
// work when dropped unread (the work may use the caller's locals), unless the work was
// deferred and never started.
template <typename T>
class BesideResult {
public:
    BesideResult() = default;
    explicit BesideResult(std::future<T> future) : future_(std::move(future)) {}
    BesideResult(BesideResult&&) noexcept = default;
    BesideResult& operator=(BesideResult&& other) noexcept {
        finish();
        future_ = std::move(other.future_);
        return *this;
    }
    ~BesideResult() { finish(); }
    bool valid() const { return future_.valid(); }
    bool deferred() const { return future_.valid() && future_.wait_for(std::chrono::seconds(0)) == std::future_status::deferred; }
    // Whether the work has finished (false for deferred work, which has not started).
    bool ready() const { return future_.valid() && future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
    void wait() const { future_.wait(); }
    T get() { return future_.get(); }

private:
    void finish() noexcept {
        if (future_.valid() && !deferred()) future_.wait();
    }
    std::future<T> future_;
};

namespace detail {
// Runs `task` on a long-lived thread (one is started when no waiting one is free). Threads
// are kept because LibTorch initialises a thread at its first operation: on a new thread each
// time that took 6.6 ms, set the thread's OpenMP team size back to two and emptied oneDNN's
// primitive cache, which every thread shares.
void runOnBesideThread(std::function<void()> task);
}  // namespace detail

// Starts `work` beside the caller: on another thread when OpenCV is given more than one (a
// second core), else deferred, so that it runs in the caller at get() or wait(). The work
// shares the cores with the caller, so it opens no OpenMP regions of its own. A background
// thread (isBackgroundThread) defers too: its work beside (the SSD beside the HOG passes of
// the editor's readout check) took the cores from the GUI thread, whose longest event-loop
// gap during a slider drag grew from about 11 to 24-44 ms.
template <typename Work>
auto startBeside(Work&& work) {
    using Result = std::invoke_result_t<Work&>;
    auto alone = [work = std::forward<Work>(work)]() mutable {
        const SingleOpenMpThread single;
        return work();
    };
    if (cv::getNumThreads() <= 1 || isBackgroundThread()) return BesideResult<Result>(std::async(std::launch::deferred, std::move(alone)));
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(alone));
    BesideResult<Result> result(task->get_future());
    detail::runOnBesideThread([task] { (*task)(); });
    return result;
}

// Runs item(k) for k in [0, count) on `workers` threads (the calling one included), each taking
// the next item when done, `progress(done, count)` after each. An item that throws does not
// stop the others; after all, the first failure is thrown as ideu::Error "name(k): what". A
// cancelled token stops taking items (and throws CancelledError after the join).
void forEachOnWorkers(std::size_t count, int workers, const std::function<void(std::size_t)>& item,
                      const std::function<std::string(std::size_t)>& name,
                      const std::function<void(int done, int total)>& progress = {}, const CancelToken& cancel = {});

}  // namespace ideu
