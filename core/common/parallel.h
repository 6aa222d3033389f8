#pragma once
// Work split over OpenCV's threads without changing a single bit of the result.
#include <Eigen/Core>

namespace ideu {

// out += matrix * vector, the rows in blocks on OpenCV's threads. Each row's sum is the one a
// single product computes (Eigen sums a row's terms in the same order whatever the block),
// so the result is bit-identical to `out.noalias() += matrix * vector`. The slider path's
// products (the 88k x 120 albedo basis, the shape bases) are memory-bound: two cores read
// them almost twice as fast.
void addProductInRowBlocks(Eigen::VectorXf& out, const Eigen::MatrixXf& matrix, const Eigen::VectorXf& vector);

}  // namespace ideu
