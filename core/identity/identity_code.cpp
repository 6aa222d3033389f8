#include "identity/identity_code.h"

#include "identity/seeded_noise.h"

#include <algorithm>

namespace ideu {

const std::vector<std::string>& appearanceParameterNames() {
    static const std::vector<std::string> names = {
        "skin_lightness", "skin_redness",   "skin_yellowness", "tone_forehead",    "tone_cheeks",
        "tone_jaw",       "brow_height",    "brow_thickness",  "brow_arch",        "brow_tilt",
        "brow_darkness",  "eye_socket_shade", "under_eye_shade", "lip_redness",    "lip_lightness"};
    return names;
}

int appearanceParameterCount() { return int(appearanceParameterNames().size()); }

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
    perturb(out.shape, s.shapeGain, 1);
    perturb(out.appearance, s.appearanceGain, 2);
    out.detailMix = float(std::clamp(scale / s.detailFullScale, 0.0, 1.0));
    out.detailSeed = scale > 0 ? (seed ^ 0xA24BAED4963EE407ull) | 1 : 0;
    return out;
}

}  // namespace ideu
