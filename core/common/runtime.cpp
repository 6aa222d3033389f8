// Torch first (Qt's macros would break it; there is no Qt here anyway).
#include <torch/torch.h>

#include "common/runtime.h"

#include <opencv2/core/utility.hpp>

#include <thread>

#ifdef __linux__
#include <dlfcn.h>
#endif
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

namespace {
thread_local bool backgroundThread = false;
}  // namespace

bool isBackgroundThread() { return backgroundThread; }

void lowerCurrentThreadPriority() {
    backgroundThread = true;
#ifdef __linux__
    // Linux's nice value is per thread (PRIO_PROCESS with a thread id); failure only means
    // the thread keeps its priority.
    constexpr int kBackgroundNice = 10;
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    if (getpriority(PRIO_PROCESS, tid) < kBackgroundNice) (void)setpriority(PRIO_PROCESS, tid, kBackgroundNice);
#endif
}

void configureAllocator() {
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, 1);
    // Setting either threshold also stops glibc from moving the mmap threshold by itself.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest on 64-bit
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

bool cpuHasAvx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

bool cudaAvailable() { return torch::cuda::is_available(); }

std::string computeDeviceName() { return cudaAvailable() ? "CUDA" : "CPU"; }

std::string cpuKernels() {
    // OpenCV's widest dispatched instruction set, the last of its features line ("SSE SSE2
    // *SSE4.1 ... *AVX512-SKX": starred ones are dispatched at run time).
    std::string line = cv::getCPUFeaturesLine();
    const std::size_t last = line.find_last_of(' ');
    std::string opencv = last == std::string::npos ? line : line.substr(last + 1);
    if (!opencv.empty() && opencv[0] == '*') opencv.erase(0, 1);
    std::string blas = "none";
#ifdef __linux__
    // OpenBLAS (when it is the BLAS loaded) picks its kernels by CPU model.
    using CoreName = char* (*)();
    if (auto name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) blas = name();
#endif
    // The HOG scan's build (face/hog_kernel.h): dlib's 8-wide HOG features round differently.
#ifdef IDEU_HAVE_HOG_AVX2
    const std::string hog = cpuHasAvx2() ? "AVX2" : "portable";
#else
    const std::string hog = "portable";
#endif
    return "OpenCV " + opencv + ", OpenBLAS " + blas + ", HOG " + hog;
}

}  // namespace ideu
