#include "common/parallel.h"

#include <ATen/Parallel.h>
#include <cblas.h>

#ifdef __linux__
#include <dlfcn.h>
#endif

#include <opencv2/core/utility.hpp>

#include "common/error.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ideu {

namespace {

// The OpenMP runtime's thread-count calls, looked up where one is loaded (Torch and OpenBLAS
// bring libgomp; the project itself is not built with OpenMP).
struct OpenMpCalls {
    void (*setThreads)(int) = nullptr;
    int (*maxThreads)() = nullptr;
    OpenMpCalls() {
#ifdef __linux__
        setThreads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        maxThreads = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
        if (!setThreads || !maxThreads) setThreads = nullptr, maxThreads = nullptr;
#endif
    }
};

const OpenMpCalls& openMp() {
    static const OpenMpCalls calls;
    return calls;
}

}  // namespace

SingleOpenMpThread::SingleOpenMpThread() {
    if (!openMp().setThreads) return;
    before_ = openMp().maxThreads();
    openMp().setThreads(1);
}

SingleOpenMpThread::~SingleOpenMpThread() {
    if (before_ > 0) openMp().setThreads(before_);
}

namespace detail {
namespace {

// Threads waiting for tasks. Every queued task has a waiting thread or a thread starting for
// it: a task never waits behind another (the caller may be waiting for both).
class BesideThreads {
public:
    void run(std::function<void()> task) {
        std::unique_lock<std::mutex> lock(mutex_);
        tasks_.push_back(std::move(task));
        const bool start = tasks_.size() > waiting_ + starting_;
        if (start) ++starting_;
        lock.unlock();
        wake_.notify_one();
        if (start) std::thread([this] { serve(); }).detach();
    }

private:
    void serve() {
        // Torch's per-thread initialisation, once, before any task limits the thread's teams.
        (void)at::get_num_threads();
        std::unique_lock<std::mutex> lock(mutex_);
        --starting_;
        for (;;) {
            ++waiting_;
            wake_.wait(lock, [this] { return !tasks_.empty(); });
            --waiting_;
            std::function<void()> task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();  // a packaged task: its exceptions go to its future
            task = nullptr;
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    std::size_t waiting_ = 0, starting_ = 0;
};

}  // namespace

void runOnBesideThread(std::function<void()> task) {
    // Never destroyed: detached threads may still wait on it while the process exits.
    static auto* threads = new BesideThreads();
    threads->run(std::move(task));
}

}  // namespace detail

void addProduct(Eigen::VectorXf& out, const Eigen::MatrixXf& matrix, const Eigen::VectorXf& vector) {
    if (matrix.rows() == 0 || matrix.cols() == 0) return;
    const SingleOpenMpThread single;
    cblas_sgemv(CblasColMajor, CblasNoTrans, int(matrix.rows()), int(matrix.cols()), 1.f, matrix.data(), int(matrix.rows()),
                vector.data(), 1, 1.f, out.data(), 1);
}

void forEachOnWorkers(std::size_t count, int workers, const std::function<void(std::size_t)>& item,
                      const std::function<std::string(std::size_t)>& name,
                      const std::function<void(int, int)>& progress, const CancelToken& cancel) {
    std::atomic<std::size_t> next{0};
    std::atomic<int> done{0};
    std::mutex errorMutex;
    std::string firstError;
    auto work = [&] {
        for (std::size_t k = next++; k < count; k = next++) {
            if (cancel.cancelled()) return;
            try {
                item(k);
            } catch (const CancelledError&) {
                return;
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (firstError.empty()) firstError = name(k) + ": " + e.what();
            }
            const int d = ++done;
            if (progress) progress(d, int(count));
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < std::max(1, workers); ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    cancel.check();
    if (!firstError.empty()) throw Error(firstError);
}

}  // namespace ideu
