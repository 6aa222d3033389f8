#pragma once
// Step II, part 2: restoring a photo-real face X' from the hybrid X_l. The default restorer
// blends X_p's face into the warped photo with a multi-band (Laplacian pyramid) blend and
// matches the photo's grain; a neural restorer (GFPGAN) can take its place.
#include "restoration/hybrid.h"

#include <cstdint>
#include <string>

namespace ideu {

struct RestoreInput {
    const FittedFace* face = nullptr;
    const PerturbedFace* perturbed = nullptr;
    const Hybrid* hybrid = nullptr;
    std::uint64_t seed = 0;  // for the grain
};

class Restorer {
public:
    virtual ~Restorer() = default;
    virtual std::string name() const = 0;
    // X' as CV_8UC3, crop-sized. Pixels away from the face mask equal hybrid->warped.
    virtual cv::Mat restore(const RestoreInput& input) const = 0;
};

class BlendRestorer : public Restorer {
public:
    std::string name() const override { return "blend"; }
    cv::Mat restore(const RestoreInput& input) const override;
};

// Multi-band blend of `foreground` over `background` (CV_32FC3) with a 0..1 mask (CV_32F).
cv::Mat multiBandBlend(const cv::Mat& foreground, const cv::Mat& background, const cv::Mat& mask, int levels);

// Standard deviation of the sensor noise in a region (Immerkaer's Laplacian estimator).
double estimateNoise(const cv::Mat& bgr8, const cv::Mat& mask);

}  // namespace ideu
