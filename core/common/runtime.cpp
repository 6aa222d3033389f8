// Torch first (Qt's macros would break it; there is no Qt here anyway).
#include <torch/torch.h>

#include "common/runtime.h"

#include <opencv2/core/utility.hpp>

#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ideu {

void configureThreads(int threads) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    cv::setNumThreads(threads);
    at::set_num_threads(threads);
}

void lowerCurrentThreadPriority() {
#ifdef __linux__
    // Linux's nice value is per thread (PRIO_PROCESS with a thread id); failure only means
    // the thread keeps its priority.
    constexpr int kBackgroundNice = 10;
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    if (getpriority(PRIO_PROCESS, tid) < kBackgroundNice) (void)setpriority(PRIO_PROCESS, tid, kBackgroundNice);
#endif
}

void limitAllocatorArenas() {
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, 2);
#endif
}

bool cudaAvailable() { return torch::cuda::is_available(); }

std::string computeDeviceName() { return cudaAvailable() ? "CUDA" : "CPU"; }

}  // namespace ideu
