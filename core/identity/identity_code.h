#pragma once
// The identity code z_id of Step I and its seeded perturbation z'_id = z_id + n,
// n ~ N(0, (k·scale)²) clipped at a few standard deviations. The code has a 3-D shape part α
// (the morphable model's identity coefficients) and an albedo part β (the learned appearance
// model's coefficients), both in N(0, 1) units; the perturbed code keeps of the photo's α and β
// only what the noise may not move: their age and gender coordinates (moved to those of the
// photo's apparent age and gender), β's beard areas' colour (moved to that of the bank
// faces of its apparent sex and age), and α's mirror-antisymmetric part (keptCode). Expression, pose, lighting
// and the skin-tone family are not part of it. Skin detail mixed from bank faces grows with
// the scale.
#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace ideu {

struct IdentityCode {
    Eigen::VectorXf shape;   // α
    Eigen::VectorXf albedo;  // β (β' = β_kept + albedoScale·albedoNoise when perturbed, see keptOnly)
    // The albedo part's noise per unit of scale (empty: none) and its scale: the albedo of β'
    // is made from β's and the noise's (AlbedoPca::perturbedValues).
    Eigen::VectorXf albedoNoise;
    float albedoScale = 0;
    // Strength of the bank skin detail in [0, 1] and the seed choosing its bank faces (0 = none).
    float detailMix = 0;
    std::uint64_t detailSeed = 0;
    // How far X_p goes from the photo's own appearance to what it keeps of it, in [0, 1]: its
    // broad field from X_f's to the light alone, and β from the whole code to its kept part
    // (keptCode). With the albedo noise, at full strength from the detail's full scale on (α
    // goes to its kept part at the same rate with the shape noise).
    float keptOnly = 0;
    // Moves of α and β along their age and gender directions after which the bank's
    // regressions read them as an average gallery face of the photo's apparent age and gender
    // (AttributeRegression::shiftTo; empty: none). The photo's own coordinates there are
    // partly its identity and read, through the regression, as a face nearer the bank's mean
    // age and sex than the photo looks; z'_id's kept part takes the move in with keptOnly.
    // β's move also sets its coordinates along the beard areas' directions to the mean of
    // the bank faces of its apparent sex and age band (AppearanceModel::areaShift).
    Eigen::VectorXf shapeAttributeShift, albedoAttributeShift;
};

struct NoiseSettings {
    // Noise standard deviation per unit of scale, for the shape and the albedo part.
    double shapeGain = 3.0;
    double albedoGain = 3.0;
    // Clip of the noise, in standard deviations, and of the perturbed shape code (a shape
    // far outside the model's range is not a face; the albedo is bounded by its colours).
    double noiseClip = 3.0;
    double codeClip = 3.0;
    // Scale at which the bank skin detail is at full strength.
    double detailFullScale = 0.2;
    // Components of the identity code that are perturbed (all by default; the privacy
    // benchmark switches them one at a time for its ablation table). None at all is the
    // albedo projection alone.
    bool shape = true;   // 3-D shape (and with it the head outline)
    bool albedo = true;  // the appearance model's code
    bool detail = true;  // skin detail from bank faces
};

// The component names used by NoiseSettings (for command lines and reports).
const std::vector<std::string>& identityComponentNames();
// The names of the components `settings` perturbs, in identityComponentNames() order.
std::vector<std::string> enabledIdentityComponents(const NoiseSettings& settings);
// Enables exactly the named components ("all" enables every one, "none" none). Throws
// std::invalid_argument.
void setIdentityComponents(NoiseSettings& settings, const std::vector<std::string>& names);

// β moved by its attribute shift (β itself without one): what z'_id keeps of β lies on it.
Eigen::VectorXf shiftedAlbedoCode(const IdentityCode& code);

// Directions of the code the noise must not move (orthonormal columns; empty: none): the
// ones along which the apparent age and gender change, so a new identity keeps them.
struct NoiseConstraints {
    // In α space: the attributes and the antisymmetric modes (what keptCode keeps of α).
    Eigen::MatrixXf shape;
    Eigen::MatrixXf albedo;  // in β space: the attributes and the beard areas' colour (what keptCode keeps of β)
    // What the albedo noise is kept off, when it is more than `albedo` (the model's
    // antisymmetric modes as well); empty: `albedo`.
    Eigen::MatrixXf albedoNoise;
    // Where α's dropped part goes: the average face as the fit sees faces (empty: α = 0, the
    // morphable model's mean). The attribute directions were regressed about it.
    Eigen::VectorXf shapeCentre;
};

// Seeded, bit-reproducible perturbation of the identity part only; scale 0 returns the code.
// Each part's noise is drawn from N(0, (gain·scale)²) per coefficient, clipped, and then
// projected off that part's constrained directions. Each part keeps of the photo's code only
// its part along those directions (moved by the code's attribute shifts), fully from the
// detail's full scale: the rest of β is the
// photo's own skin (a stain, a birthmark, its cheeks' colour), the rest of α its own
// proportions (eyes, nose, mouth, jaw), and the noise does not hide them.
IdentityCode perturbIdentity(const IdentityCode& code, double scale, std::uint64_t seed,
                             const NoiseSettings& settings = {}, const NoiseConstraints& constraints = {});

// What z'_id keeps of a part of the photo's code at `keptOnly` (0: all of it; 1: its part along
// the orthonormal `kept` columns about `centre` alone, c + K·Kᵀ·(code − c)):
// code − keptOnly·(I − K·Kᵀ)·(code − c). An empty centre is 0.
Eigen::VectorXf keptCode(const Eigen::VectorXf& code, float keptOnly, const Eigen::MatrixXf& kept,
                         const Eigen::VectorXf& centre = {});

}  // namespace ideu
