#pragma once
// The appearance part of the identity code, applied to the albedo texture in UV space, so it
// is independent of pose, expression and lighting.
#include "identity/identity_code.h"
#include "morphable/face_model_context.h"

#include <opencv2/core.hpp>

namespace ideu {

// Returns the edited albedo (CV_32FC3, UV space). `skinColour` is the face's median skin
// colour; `code.appearance` all zeros and detailMix 0 return the albedo unchanged.
cv::Mat applyAppearanceEdits(const FaceModelContext& context, const cv::Mat& albedo, const cv::Vec3f& skinColour,
                             const IdentityCode& code);

}  // namespace ideu
