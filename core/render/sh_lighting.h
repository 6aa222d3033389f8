#pragma once
// Second-order spherical-harmonics illumination: 9 coefficients per colour channel (27
// numbers). Shading of a Lambertian surface with normal n is Σ_k L_k · b_k(n), where b_k are
// the real SH basis functions with the Lambertian convolution factors folded in.
#include <Eigen/Core>

#include <array>
#include <vector>

namespace ideu {

using ShCoefficients = Eigen::Matrix<float, 9, 3>;  // rows: basis, columns: B, G, R

std::array<float, 9> shBasis(const Eigen::Vector3f& normal);
Eigen::Vector3f shShade(const ShCoefficients& sh, const Eigen::Vector3f& normal);  // B, G, R
// Pure ambient light of the given level.
ShCoefficients ambientSh(float level = 1.f);

struct ShSample {
    Eigen::Vector3f normal;  // unit, in camera space
    Eigen::Vector3f colour;  // B, G, R (any linear scale)
};

// Robust least squares (Cauchy IRLS) for the 27 coefficients that best explain `colour`
// as shading of a constant albedo of 1; higher orders are damped by `ridge`.
ShCoefficients estimateSh(const std::vector<ShSample>& samples, float ridge = 1e-2f, int iterations = 4);

}  // namespace ideu
