#pragma once
// Thread counts for OpenCV and LibTorch, set deliberately once, thread priority, and the
// compute device.
#include <string>

namespace ideu {

// 0 = one thread per core. Sets OpenCV's and LibTorch's intra-op thread pools.
void configureThreads(int threads);
// "CUDA (<name>)" when LibTorch sees a GPU, else "CPU".
std::string computeDeviceName();
bool cudaAvailable();
// Whether the CPU (and the OS) can run AVX2 code.
bool cpuHasAvx2();
// Which vector kernels the numeric libraries chose on this CPU at run time, e.g. "OpenCV
// AVX512-SKX, OpenBLAS Cooperlake, HOG AVX2": outputs are bit-identical only between machines with the
// same kernels (OpenCV, Torch and OpenBLAS dispatch by the CPU's vector units and model).
std::string cpuKernels();
// Gives the calling thread (and the threads it starts later, e.g. its OpenMP team) a lower
// CPU priority than interactive work: nice 10 on Linux (about a tenth of a busy core's time
// against normal work, so it still progresses on a loaded machine). Stays for the thread's
// life: an unprivileged thread cannot raise its priority again.
void lowerCurrentThreadPriority();
// Whether the calling thread lowered its priority (lowerCurrentThreadPriority): such a thread
// runs the work it would start beside itself in itself (see startBeside).
bool isBackgroundThread();
// The allocator, set once, first in main() (glibc; elsewhere nothing):
// - one arena for every thread (glibc otherwise gives busy threads their own, up to 8 per
//   core, and each keeps what its largest burst of images freed): with the slider, the readout
//   check and the privacy sweep on three threads, two arenas instead of glibc's many took the
//   editor's peak RSS with a 4-face photo down by about 120 MB, and one instead of two by about
//   90 MB more (bench's by about 70 MB), at no measured cost in speed;
// - image buffers up to 32 MB (a 512² crop is 0.75–3 MB, a 1-MP photo 3 MB) come from the heap,
//   and the heap keeps up to 128 MB that was freed instead of handing it back to the kernel.
//   glibc otherwise maps many such buffers afresh and unmaps them when freed, so each new image
//   page faults on every first touch: on this project's virtual machines that was about a
//   third of `bench`'s CPU time (README, Speed). Smaller thresholds were measured: with 4 MB
//   photo-sized buffers fault again, with a 64 MB trim threshold most of the faults come back,
//   with 256 MB the editor's peak RSS with a 4-face photo grows by about 60 MB.
void configureAllocator();

}  // namespace ideu
