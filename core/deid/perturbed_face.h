#pragma once
// Step I, the slider path: perturb the identity code z_id = (α, β), re-render the face with
// the new shape and the model albedo of the new code (plus skin detail from bank faces) under
// the unchanged expression, pose and lighting (X_p).
#include "deid/fitted_face.h"

namespace ideu {

// The identity noise changes the face's proportions and also, as a side effect of the model's
// modes, its overall size and its place on the head (one seed moved a chin about 45 px up a 1-MP
// portrait, showing a strip of neck the photo never had). Neither is identity that a photo
// shows, since recognisers align faces by their landmarks, so the perturbed mesh is scaled
// and moved back onto the fitted face's centroid and spread (over the face-area vertices).
// Written so that equal shapes give the identity to the bit: scale 0 keeps X_p = X_f.
struct SizeAndPlace {
    float scaleChange = 0;  // s - 1
    Eigen::Vector3f fittedCentre = Eigen::Vector3f::Zero(), perturbedCentre = Eigen::Vector3f::Zero();
    template <typename T>
    Eigen::Matrix<T, 3, 1> apply(const Eigen::Matrix<T, 3, 1>& p) const {
        const Eigen::Matrix<T, 3, 1> from = perturbedCentre.cast<T>(), to = fittedCentre.cast<T>();
        return p + (T(scaleChange) * (p - from) + (to - from));
    }
};

struct PerturbedFace {
    double scale = 0;
    std::uint64_t seed = 0;
    IdentityCode identity;   // z'_id
    FaceGeometry geometry;   // perturbed mesh, same pose and expression
    cv::Mat image;           // X_p: CV_32FC3 crop-sized render (eyes and mouth filled from the photo)
    cv::Mat mask;            // CV_8U, 255 where X_p has content
    std::array<Eigen::Vector2d, 68> landmarks;  // projected landmarks of the perturbed mesh
    SizeAndPlace sizeAndPlace;  // what took the model's mesh of z'_id onto the fitted face's size and place
    cv::Mat albedo;          // the albedo X_p was rendered with (UV, the detail grid)
};

// What the identity noise keeps off (see perturbIdentity): in the shape code, the apparent
// age and gender directions and the model's antisymmetric modes; in the albedo code, its
// attribute directions (which z'_id keeps of the photo) and its antisymmetric modes. A face
// is nearly mirror-symmetric: noise there would bend it to one side or light it from one side.
NoiseConstraints identityNoiseConstraints(const FaceModelContext& context, const AppearanceModel& model);

// Scale 0 gives X_p = X_f exactly.
PerturbedFace perturbFace(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                          double scale, std::uint64_t seed, const NoiseSettings& settings = {});

// The transform taking `perturbed` (3N, model space) onto the centroid and spread of `fitted`.
SizeAndPlace sizeAndPlace(const FaceModelContext& context, const Eigen::VectorXf& fitted, const Eigen::VectorXf& perturbed);

// perturbFace in two steps (the pipeline moves X around the new shape while X_p renders):
// z'_id, the perturbed mesh and its landmarks (no image yet) ...
PerturbedFace perturbShape(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                           double scale, std::uint64_t seed, const NoiseSettings& settings = {});
// ... then the albedo of z'_id ...
// (its model values: those of the kept part of β, keptCode, plus the noise's)
Eigen::VectorXf perturbedAlbedoValues(const AppearanceModel& model, const FittedFace& face, const IdentityCode& perturbed);
// Keeps X_p's albedo values inside the range the gallery's central faces span at each value
// (AppearanceModel::albedoLow/High), widened to the photo's own fit `fitted` so that scale 0
// still gives X_f. Unchanged when the model has no range (a model being built).
void keepInGalleryRange(const AppearanceModel& model, const Eigen::VectorXf& fitted, Eigen::VectorXf& values);
void synthesizePerturbedAlbedo(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                               PerturbedFace& perturbed);
// ... and X_p rendered with it on that mesh (`raster`: the mesh's rasterizeFace when already made).
void renderPerturbed(const FaceModelContext& context, const FittedFace& face, PerturbedFace& perturbed,
                     RasterBuffers raster = {});

// X_p as a picture: the render over mid-grey.
cv::Mat perturbedRender(const PerturbedFace& perturbed);

}  // namespace ideu
