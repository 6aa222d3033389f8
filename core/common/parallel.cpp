#include "common/parallel.h"

#include <cblas.h>

#include <opencv2/core/utility.hpp>

#include "common/error.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace ideu {

void addProduct(Eigen::VectorXf& out, const Eigen::MatrixXf& matrix, const Eigen::VectorXf& vector) {
    if (matrix.rows() == 0 || matrix.cols() == 0) return;
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
