#pragma once
// Work split over OpenCV's threads without changing a single bit of the result.
#include "common/cancel.h"

#include <Eigen/Core>
#include <opencv2/core/utility.hpp>

#include <cstddef>
#include <functional>
#include <future>
#include <string>

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

// Starts `work` beside the caller: on its own thread when OpenCV is given more than one (a
// second core), else deferred, so that it runs in the caller at the future's get() or wait().
// The work shares the cores with the caller, so it opens no OpenMP regions of its own.
template <typename Work>
auto startBeside(Work&& work) {
    return std::async(cv::getNumThreads() > 1 ? std::launch::async : std::launch::deferred,
                      [work = std::forward<Work>(work)]() mutable {
                          const SingleOpenMpThread single;
                          return work();
                      });
}

// Runs item(k) for k in [0, count) on `workers` threads (the calling one included), each taking
// the next item when done, `progress(done, count)` after each. An item that throws does not
// stop the others; after all, the first failure is thrown as ideu::Error "name(k): what". A
// cancelled token stops taking items (and throws CancelledError after the join).
void forEachOnWorkers(std::size_t count, int workers, const std::function<void(std::size_t)>& item,
                      const std::function<std::string(std::size_t)>& name,
                      const std::function<void(int done, int total)>& progress = {}, const CancelToken& cancel = {});

}  // namespace ideu
