#pragma once
// Thread counts for OpenCV and LibTorch, set deliberately once, and the compute device.
#include <string>

namespace ideu {

// 0 = one thread per core. Sets OpenCV's and LibTorch's intra-op thread pools.
void configureThreads(int threads);
// "CUDA (<name>)" when LibTorch sees a GPU, else "CPU".
std::string computeDeviceName();
bool cudaAvailable();

}  // namespace ideu
