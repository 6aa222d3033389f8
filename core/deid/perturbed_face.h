#pragma once
// Step I, the slider path: perturb the identity code, re-render the face with the new shape
// and appearance under the unchanged expression, pose and lighting (X_p).
#include "deid/fitted_face.h"

namespace ideu {

struct PerturbedFace {
    double scale = 0;
    std::uint64_t seed = 0;
    IdentityCode identity;   // z'_id
    FaceGeometry geometry;   // perturbed mesh, same pose and expression
    cv::Mat image;           // X_p: CV_32FC3 crop-sized render (eyes and mouth filled from the photo)
    cv::Mat mask;            // CV_8U, 255 where X_p has content
    cv::Mat visibility;      // CV_32F, 1 where X_p shows texture the photo saw (0: filled in)
    std::array<Eigen::Vector2d, 68> landmarks;  // projected landmarks of the perturbed mesh
    cv::Mat albedo;          // edited albedo (UV)
};

PerturbedFace perturbFace(const FaceModelContext& context, const FittedFace& face, double scale, std::uint64_t seed,
                          const NoiseSettings& settings = {});

// X_p as a picture: the render over mid-grey.
cv::Mat perturbedRender(const PerturbedFace& perturbed);

}  // namespace ideu
