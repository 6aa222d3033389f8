#pragma once
// Step II, part 1: the hybrid X_l. X is warped by the 2-D motion the identity change gives
// the head (from the fitted to the perturbed mesh, faded out around it), so the original
// outline, jaw and ears move with the new shape and no remnant of the old outline stays;
// X_p's face is then put inside the face region, keeping X's hair and accessories on top.
#include "deid/perturbed_face.h"

#include <opencv2/core.hpp>

namespace ideu {

struct Hybrid {
    cv::Mat warped;      // CV_8UC3: X moved with the new head shape
    cv::Mat hybrid;      // CV_8UC3: X_l
    cv::Mat foreground;  // CV_32FC3: X_p where it has content, the warped X elsewhere
    cv::Mat faceMask;    // CV_8U: where X_l takes X_p (the head mask minus the styling mask)
    cv::Mat styling;     // CV_8U: X's occluders (hair, accessories) over the face, warped
    cv::Mat parsingX;    // labels of X
    cv::Mat parsingXp;   // labels of X_p
};

struct HybridOptions {
    double falloff = 0.12;  // the warp fades to zero this far (x crop size) outside the head
};

Hybrid buildHybrid(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                   const cv::Mat& parsingX, const cv::Mat& parsingXp, const HybridOptions& options = {});
// The same with the warp map already made (shapeWarpMap of the same faces and falloff).
Hybrid buildHybrid(const FittedFace& face, const PerturbedFace& perturbed, const cv::Mat& parsingX, const cv::Mat& parsingXp,
                   const cv::Mat& warpMap);

// The backward map (CV_32FC2 absolute source positions) taking the crop to the perturbed shape.
// Each pixel of the perturbed head fetches where its surface point lies in the fitted head, where
// the photo shows that point; surface the fitted head hides takes the motion of its neighbours.
// (FittedFace::headRaster tells which.)
cv::Mat shapeWarpMap(const FaceModelContext& context, const FittedFace& face, const PerturbedFace& perturbed,
                     double falloff);

}  // namespace ideu
