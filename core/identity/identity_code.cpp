#include "identity/identity_code.h"

#include "identity/seeded_noise.h"

#include <algorithm>
#include <stdexcept>

namespace ideu {

const std::vector<std::string>& appearanceParameterNames() {
    static const std::vector<std::string> names = {
        "skin_lightness", "skin_redness",   "skin_yellowness", "tone_forehead",    "tone_cheeks",
        "tone_jaw",       "brow_height",    "brow_thickness",  "brow_arch",        "brow_tilt",
        "brow_darkness",  "eye_socket_shade", "under_eye_shade", "lip_redness",    "lip_lightness"};
    return names;
}

int appearanceParameterCount() { return int(appearanceParameterNames().size()); }

const std::vector<std::string>& identityComponentNames() {
    static const std::vector<std::string> names = {"shape", "relief", "tone", "brows", "eyes", "lips"};
    return names;
}

void setIdentityComponents(NoiseSettings& s, const std::vector<std::string>& names) {
    s.shape = s.relief = s.tone = s.brows = s.eyes = s.lips = false;
    for (const std::string& n : names) {
        if (n == "all") s.shape = s.relief = s.tone = s.brows = s.eyes = s.lips = true;
        else if (n == "shape") s.shape = true;
        else if (n == "relief") s.relief = true;
        else if (n == "tone") s.tone = true;
        else if (n == "brows") s.brows = true;
        else if (n == "eyes") s.eyes = true;
        else if (n == "lips") s.lips = true;
        else throw std::invalid_argument("unknown identity component '" + n + "'");
    }
}

namespace {
// Which component an appearance parameter belongs to.
bool appearanceEnabled(const std::string& name, const NoiseSettings& s) {
    if (name.rfind("skin_", 0) == 0 || name.rfind("tone_", 0) == 0) return s.tone;
    if (name.rfind("brow_", 0) == 0) return s.brows;
    if (name.rfind("lip_", 0) == 0) return s.lips;
    return s.eyes;  // eye_socket_shade, under_eye_shade
}
}  // namespace

IdentityCode perturbIdentity(const IdentityCode& code, double scale, std::uint64_t seed, const NoiseSettings& s) {
    IdentityCode out = code;
    scale = std::max(0.0, scale);
    auto perturb = [&](Eigen::VectorXf& values, double gain, std::uint64_t stream) {
        const std::vector<double> n = normalSamples(seed, stream, int(values.size()));
        for (Eigen::Index i = 0; i < values.size(); ++i) {
            const double noise = std::clamp(n[std::size_t(i)], -s.noiseClip, s.noiseClip) * gain * scale;
            values(i) = float(std::clamp(double(values(i)) + noise, -s.codeClip, s.codeClip));
        }
    };
    if (s.shape) perturb(out.shape, s.shapeGain, 1);
    // The appearance noise is always drawn for every parameter (so switching a component off
    // does not change the others), then applied to the enabled ones.
    Eigen::VectorXf appearance = out.appearance;
    perturb(appearance, s.appearanceGain, 2);
    const auto& names = appearanceParameterNames();
    for (Eigen::Index i = 0; i < out.appearance.size() && std::size_t(i) < names.size(); ++i)
        if (appearanceEnabled(names[std::size_t(i)], s)) out.appearance(i) = appearance(i);
    if (s.relief) {
        out.detailMix = float(std::clamp(scale / s.detailFullScale, 0.0, 1.0));
        out.detailSeed = scale > 0 ? (seed ^ 0xA24BAED4963EE407ull) | 1 : 0;
    }
    return out;
}

}  // namespace ideu
