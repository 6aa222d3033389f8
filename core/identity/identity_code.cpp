#include "identity/identity_code.h"

#include "identity/seeded_noise.h"

#include <algorithm>
#include <array>
#include <utility>
#include <stdexcept>

namespace ideu {

namespace {
// Each component's name and its switch in NoiseSettings: the one table the names, the
// enabled list and the parser read.
constexpr std::array<std::pair<const char*, bool NoiseSettings::*>, 3> kComponents{
    {{"shape", &NoiseSettings::shape}, {"albedo", &NoiseSettings::albedo}, {"detail", &NoiseSettings::detail}}};
}  // namespace

const std::vector<std::string>& identityComponentNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> all;
        for (const auto& [name, flag] : kComponents) all.emplace_back(name);
        return all;
    }();
    return names;
}

std::vector<std::string> enabledIdentityComponents(const NoiseSettings& s) {
    std::vector<std::string> names;
    for (const auto& [name, flag] : kComponents)
        if (s.*flag) names.emplace_back(name);
    return names;
}

void setIdentityComponents(NoiseSettings& s, const std::vector<std::string>& names) {
    for (const auto& [name, flag] : kComponents) s.*flag = false;
    for (const std::string& n : names) {
        if (n == "none") continue;
        bool known = false;
        for (const auto& [name, flag] : kComponents)
            if (n == "all" || n == name) {
                s.*flag = true;
                known = true;
            }
        if (!known) throw std::invalid_argument("unknown identity component '" + n + "'");
    }
}

Eigen::VectorXf keptCode(const Eigen::VectorXf& code, float keptOnly, const Eigen::MatrixXf& kept,
                         const Eigen::VectorXf& centre) {
    if (!(keptOnly > 0)) return code;
    const bool centred = centre.size() == code.size();
    const Eigen::VectorXf fromCentre = centred ? Eigen::VectorXf(code - centre) : code;
    Eigen::VectorXf keptPart = Eigen::VectorXf::Zero(code.size());
    if (kept.rows() == code.size() && kept.cols() > 0) keptPart = kept * (kept.transpose() * fromCentre);
    // Written so that at full strength nothing of the dropped part is left, not even rounding.
    Eigen::VectorXf out = keptPart + (1 - keptOnly) * (fromCentre - keptPart);
    if (centred) out += centre;
    return out;
}

namespace {

// A code part moved by `amount` of its attribute shift (the part itself without one).
Eigen::VectorXf shiftedBy(const Eigen::VectorXf& part, const Eigen::VectorXf& shift, float amount) {
    return shift.size() == part.size() ? Eigen::VectorXf(part + amount * shift) : part;
}

}  // namespace

Eigen::VectorXf shiftedAlbedoCode(const IdentityCode& code) { return shiftedBy(code.albedo, code.albedoAttributeShift, 1.f); }

IdentityCode perturbIdentity(const IdentityCode& code, double scale, std::uint64_t seed, const NoiseSettings& s,
                             const NoiseConstraints& constraints) {
    IdentityCode out = code;
    if (!(scale > 0)) return out;
    // The noise per unit of scale u (clipped draws, off the constrained directions); the code
    // moves by scale·u, so a scale change keeps the direction (the albedo's product with the
    // model basis is reused, AlbedoPca::perturbedValues).
    auto unitNoise = [&](Eigen::Index size, double gain, std::uint64_t stream, const Eigen::MatrixXf& fixed) {
        const std::vector<double> n = normalSamples(seed, stream, int(size));
        Eigen::VectorXf unit(size);
        for (Eigen::Index i = 0; i < size; ++i) unit(i) = float(std::clamp(n[std::size_t(i)], -s.noiseClip, s.noiseClip) * gain);
        if (fixed.rows() == size && fixed.cols() > 0) unit -= fixed * (fixed.transpose() * unit);
        return unit;
    };
    const float step = float(scale);
    // The photo's own appearance fades out (and the bank detail in) up to the detail's full scale.
    const float ramp = float(std::clamp(scale / s.detailFullScale, 0.0, 1.0));
    // The kept part's age and gender coordinates move with the ramp too (their directions are
    // among the kept ones, so keptCode keeps the move whole).
    if (s.shape) {
        const Eigen::VectorXf unit = unitNoise(out.shape.size(), s.shapeGain, 1, constraints.shape);
        // α' = α_kept + scale·u, clipped.
        out.shape = (keptCode(shiftedBy(code.shape, code.shapeAttributeShift, ramp), ramp, constraints.shape, constraints.shapeCentre) + step * unit).cwiseMax(float(-s.codeClip)).cwiseMin(float(s.codeClip));
    }
    if (s.albedo) {
        // Unclipped (the albedo is bounded by its colours): β' = β_kept + scale·u.
        out.albedoNoise = unitNoise(out.albedo.size(), s.albedoGain, 2,
                                    constraints.albedoNoise.cols() ? constraints.albedoNoise : constraints.albedo);
        out.albedoScale = step;
        out.keptOnly = ramp;
        out.albedo = keptCode(shiftedBy(code.albedo, code.albedoAttributeShift, ramp), out.keptOnly, constraints.albedo) + step * out.albedoNoise;
    }
    if (s.detail) {
        out.detailMix = ramp;
        out.detailSeed = (seed ^ 0xA24BAED4963EE407ull) | 1;
    }
    return out;
}

}  // namespace ideu
