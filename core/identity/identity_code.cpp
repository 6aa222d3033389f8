#include "identity/identity_code.h"

#include "identity/seeded_noise.h"

#include <algorithm>
#include <stdexcept>

namespace ideu {

const std::vector<std::string>& identityComponentNames() {
    static const std::vector<std::string> names = {"shape", "albedo", "detail"};
    return names;
}

void setIdentityComponents(NoiseSettings& s, const std::vector<std::string>& names) {
    s.shape = s.albedo = s.detail = false;
    for (const std::string& n : names) {
        if (n == "all") s.shape = s.albedo = s.detail = true;
        else if (n == "none") continue;
        else if (n == "shape") s.shape = true;
        else if (n == "albedo") s.albedo = true;
        else if (n == "detail") s.detail = true;
        else throw std::invalid_argument("unknown identity component '" + n + "'");
    }
}

IdentityCode perturbIdentity(const IdentityCode& code, double scale, std::uint64_t seed, const NoiseSettings& s,
                             const NoiseConstraints& constraints) {
    IdentityCode out = code;
    if (!(scale > 0)) return out;
    auto perturb = [&](Eigen::VectorXf& values, double gain, std::uint64_t stream, double codeClip, const Eigen::MatrixXf& fixed) {
        const std::vector<double> n = normalSamples(seed, stream, int(values.size()));
        Eigen::VectorXf noise(values.size());
        for (Eigen::Index i = 0; i < values.size(); ++i)
            noise(i) = float(std::clamp(n[std::size_t(i)], -s.noiseClip, s.noiseClip) * gain * scale);
        if (fixed.rows() == noise.size() && fixed.cols() > 0) noise -= fixed * (fixed.transpose() * noise);
        for (Eigen::Index i = 0; i < values.size(); ++i) values(i) = float(std::clamp(double(values(i) + noise(i)), -codeClip, codeClip));
    };
    if (s.shape) perturb(out.shape, s.shapeGain, 1, s.codeClip, constraints.shape);
    if (s.albedo) {
        perturb(out.albedo, s.albedoGain, 2, 1e30, constraints.albedo);
        out.lightOnly = float(std::clamp(scale / s.detailFullScale, 0.0, 1.0));
    }
    if (s.detail) {
        out.detailMix = float(std::clamp(scale / s.detailFullScale, 0.0, 1.0));
        out.detailSeed = (seed ^ 0xA24BAED4963EE407ull) | 1;
    }
    return out;
}

}  // namespace ideu
