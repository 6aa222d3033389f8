#pragma once
// The identity code z_id of Step I and its seeded perturbation z'_id = z_id + n,
// n ~ N(0, (k·scale)²), clipped. The code has a 3-D shape part (the morphable model's
// identity coefficients) and an appearance part (identity-bearing cues edited in UV space,
// see appearance_edits.h). Expression, pose and lighting are not part of it.
#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace ideu {

// Names of the appearance-identity parameters, in code order. Each is in "between-person
// standard deviations": 0 is the photo's own appearance.
const std::vector<std::string>& appearanceParameterNames();
int appearanceParameterCount();

struct IdentityCode {
    Eigen::VectorXf shape;       // α, N(0,1) units
    Eigen::VectorXf appearance;  // see appearanceParameterNames()
    // Strength of the skin-detail re-synthesis in [0,1] and its pattern seed (0 = none).
    float detailMix = 0;
    std::uint64_t detailSeed = 0;
};

struct NoiseSettings {
    // Noise standard deviation per unit of scale, for the shape and the appearance part.
    double shapeGain = 3.0;
    double appearanceGain = 3.0;
    // Clip of the noise and of the perturbed code, in standard deviations.
    double noiseClip = 3.0;
    double codeClip = 3.0;
    // Scale at which skin detail is fully re-synthesised.
    double detailFullScale = 0.2;
    // Components of the identity code that are perturbed (all by default; the privacy
    // benchmark switches them one at a time for its ablation table).
    bool shape = true;   // 3-D shape (and with it the re-shading)
    bool relief = true;  // skin relief replaced by seeded detail
    bool tone = true;    // skin tone and regional tone
    bool brows = true;   // brow shape and darkness
    bool eyes = true;    // eye-socket and under-eye shading
    bool lips = true;    // lip colour
};

// The component names used by NoiseSettings (for command lines and reports).
const std::vector<std::string>& identityComponentNames();
// Enables exactly the named components ("all" enables every one). Throws std::invalid_argument.
void setIdentityComponents(NoiseSettings& settings, const std::vector<std::string>& names);

// Seeded, bit-reproducible perturbation of the identity part only.
IdentityCode perturbIdentity(const IdentityCode& code, double scale, std::uint64_t seed,
                             const NoiseSettings& settings = {});

}  // namespace ideu
