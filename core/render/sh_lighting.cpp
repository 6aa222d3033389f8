#include "render/sh_lighting.h"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>

namespace ideu {
namespace {
constexpr float kPi = 3.14159265358979f;
// Y_lm constants times the Lambertian factors A0 = π, A1 = 2π/3, A2 = π/4, divided by π so that
// ambient light of level 1 shades to 1.
constexpr float kC0 = 0.2820948f * kPi / kPi;
constexpr float kC1 = 0.4886025f * (2 * kPi / 3) / kPi;
constexpr float kC2 = 1.0925484f * (kPi / 4) / kPi;
constexpr float kC20 = 0.3153916f * (kPi / 4) / kPi;
constexpr float kC22 = 0.5462742f * (kPi / 4) / kPi;
}  // namespace

std::array<float, 9> shBasis(const Eigen::Vector3f& n) {
    const float x = n.x(), y = n.y(), z = n.z();
    return {kC0, kC1 * y, kC1 * z, kC1 * x, kC2 * x * y, kC2 * y * z, kC20 * (3 * z * z - 1), kC2 * x * z,
            kC22 * (x * x - y * y)};
}

Eigen::Vector3f shShade(const ShCoefficients& sh, const Eigen::Vector3f& normal) {
    const auto b = shBasis(normal);
    return Eigen::Map<const Eigen::Matrix<float, 1, 9>>(b.data()) * sh;
}

ShCoefficients ambientSh(float level) {
    ShCoefficients sh = ShCoefficients::Zero();
    sh.row(0).setConstant(level / kC0);
    return sh;
}

ShCoefficients estimateSh(const std::vector<ShSample>& samples, float ridge, int iterations) {
    if (samples.size() < 9) return ambientSh(1.f);
    const Eigen::Index n = Eigen::Index(samples.size());
    Eigen::MatrixXd basis(n, 9);
    Eigen::MatrixXd colours(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto b = shBasis(samples[std::size_t(i)].normal);
        for (int k = 0; k < 9; ++k) basis(i, k) = b[std::size_t(k)];
        colours.row(i) = samples[std::size_t(i)].colour.cast<double>().transpose();
    }
    const double scale = std::max(1e-6, colours.cwiseAbs().mean());
    Eigen::VectorXd weights = Eigen::VectorXd::Ones(n);
    Eigen::Matrix<double, 9, 3> coeffs = Eigen::Matrix<double, 9, 3>::Zero();
    for (int it = 0; it < std::max(1, iterations); ++it) {
        Eigen::Matrix<double, 9, 9> ata = basis.transpose() * weights.asDiagonal() * basis;
        const Eigen::Matrix<double, 9, 3> atb = basis.transpose() * weights.asDiagonal() * colours;
        // Damp the 1st and 2nd order terms relative to the ambient one.
        const double damping = ridge * ata(0, 0);
        for (int k = 1; k < 9; ++k) ata(k, k) += damping * (k < 4 ? 1.0 : 4.0);
        coeffs = ata.ldlt().solve(atb);
        const Eigen::MatrixXd residual = basis * coeffs - colours;
        // Cauchy weights: brows, hair strands and specular spots get little say.
        double mad = 0;
        std::vector<double> norms(static_cast<std::size_t>(n));
        for (Eigen::Index i = 0; i < n; ++i) norms[std::size_t(i)] = residual.row(i).norm();
        std::vector<double> sorted = norms;
        std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
        mad = std::max(sorted[std::size_t(n / 2)], 0.02 * scale);
        for (Eigen::Index i = 0; i < n; ++i) {
            const double u = norms[std::size_t(i)] / (2.5 * mad);
            weights(i) = 1.0 / (1.0 + u * u);
        }
    }
    return coeffs.cast<float>();
}

}  // namespace ideu
