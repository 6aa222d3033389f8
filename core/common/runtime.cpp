// Torch first (Qt's macros would break it; there is no Qt here anyway).
#include <torch/torch.h>

#include "common/runtime.h"

#include <opencv2/core/utility.hpp>

#include <thread>

namespace ideu {

void configureThreads(int threads) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    cv::setNumThreads(threads);
    at::set_num_threads(threads);
}

bool cudaAvailable() { return torch::cuda::is_available(); }

std::string computeDeviceName() { return cudaAvailable() ? "CUDA" : "CPU"; }

}  // namespace ideu
