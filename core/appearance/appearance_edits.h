#pragma once
// The appearance part of the identity code, applied to the albedo texture in UV space, so it
// is independent of pose, expression and lighting.
//
// Measured with the recogniser (ideudemon-bench probe, see README "Privacy"): most of the
// identity a recogniser reads from skin is in the mid-frequency relief baked into the photo's
// texture (folds, creases, blemishes, the shading of cheekbones and eye sockets), and in the
// brows. So the appearance code (1) replaces that relief by the new geometry's shading plus a
// seeded fine skin texture, (2) reshapes and re-tones the brows from their own hair texture,
// (3) shifts skin tone within its family, regional tone, eye-area shading and lip colour,
// (4) evens out the left-right asymmetries of the remaining relief (moles, creases, lid and lip
// detail on one side are person-specific; a symmetrised relief stays natural).
#include "identity/identity_code.h"
#include "morphable/face_model_context.h"

#include <opencv2/core.hpp>

namespace ideu {

// Per-face decomposition of the albedo, computed once at fit time (the slider path only
// recombines it).
struct AppearanceLayers {
    cv::Rect roi;          // UV bounding box of the face area; everything below is ROI-sized
    cv::Mat fullAlbedo;    // CV_32FC3, the whole UV albedo (shared, not copied)
    cv::Mat albedo;        // CV_32FC3, the photo's albedo
    cv::Mat low;           // CV_32FC3, smooth skin colour field (features excluded)
    cv::Mat lowSmooth;     // CV_32FC3, the same, much smoother (no broad relief)
    cv::Mat mid;           // CV_32FC3, relative mid-frequency relief: (blur_2 - low) / low
    cv::Mat high;          // CV_32FC3, relative fine detail: (albedo - blur_2) / low
    cv::Mat midMirrored;   // CV_32FC3, `mid` and `high` of the mirrored texel (the UV layout is
    cv::Mat highMirrored;  //   left-right symmetric); zero where there is none (no weight there)
    cv::Mat symmetryWeight;  // CV_32F 0..1: where both the texel and its mirror were seen
    cv::Mat skinWeight;    // CV_32F 0..1: where the skin relief is replaced
    cv::Mat browWeight;    // CV_32F 0..1: the brows (both)
    cv::Mat lipWeight;     // CV_32F 0..1
    cv::Mat socketWeight;  // CV_32F 0..1: upper lids and eye sockets
    cv::Mat underEyeWeight;
    cv::Mat lidClean;      // CV_32FC3, relative change that removes thin dark strands from the
                           // lids: closed luminance in the skin's colour, minus albedo, over low
    cv::Mat regional[3];   // CV_32F smooth fields: forehead, cheeks, jaw/chin
    cv::Vec3f skinColour;
    float browHalfHeight = 10;  // UV pixels
    float fineSd = 0;           // standard deviation of `high` on the face
};

// `visibility` (CV_32F UV, 1 where the photo saw the texel) limits the symmetrisation to
// texels seen on both sides; empty means all were seen.
AppearanceLayers decomposeAppearance(const FaceModelContext& context, const cv::Mat& albedo, const cv::Vec3f& skinColour,
                                     const cv::Mat& visibility = cv::Mat());

// The edited albedo (CV_32FC3, full UV size). A zero appearance code with detailMix 0 gives
// back the input albedo exactly.
cv::Mat applyAppearanceEdits(const FaceModelContext& context, const AppearanceLayers& layers, const IdentityCode& code);

// Index of a named appearance parameter (see appearanceParameterNames()); -1 if unknown.
int appearanceParameterIndex(const std::string& name);

}  // namespace ideu
