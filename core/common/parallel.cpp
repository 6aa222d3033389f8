#include "common/parallel.h"

#include <opencv2/core/utility.hpp>

#include <algorithm>

namespace ideu {

void addProductInRowBlocks(Eigen::VectorXf& out, const Eigen::MatrixXf& matrix, const Eigen::VectorXf& vector) {
    const Eigen::Index rows = matrix.rows();
    const int blocks = int(std::clamp<Eigen::Index>(rows / 4096, 1, std::max(1, cv::getNumThreads())));
    if (blocks == 1) {
        out.noalias() += matrix * vector;
        return;
    }
    cv::parallel_for_(cv::Range(0, blocks), [&](const cv::Range& range) {
        for (int b = range.start; b < range.end; ++b) {
            const Eigen::Index r0 = rows * b / blocks, r1 = rows * (b + 1) / blocks;
            out.segment(r0, r1 - r0).noalias() += matrix.middleRows(r0, r1 - r0) * vector;
        }
    }, blocks);
}

}  // namespace ideu
