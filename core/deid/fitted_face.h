#pragma once
// Step I, per face, computed once and cached: the aligned crop, the 3DMM fit, lighting and
// the photo's albedo texture. Everything the slider path needs is here.
#include "align/face_align.h"
#include "appearance/appearance_edits.h"
#include "appearance/photo_texture.h"
#include "face/face_detector.h"
#include "fitting/landmark_fitter.h"
#include "identity/identity_code.h"
#include "render/face_renderer.h"

#include <opencv2/core.hpp>

namespace ideu {

struct FittedFace {
    DetectedFace detection;        // in photo coordinates
    AlignedCrop crop;              // X: the aligned 512² face crop and its transform
    Landmarks68 landmarks;         // detected landmarks in crop coordinates
    FaceFit fit;                   // pose, identity, expression
    FaceGeometry geometry;         // fitted mesh under the fitted pose
    RasterBuffers raster;          // its z-buffer
    cv::Mat faceArea;              // CV_8U, 255 where the fitted mesh covers the crop
    ShCoefficients lighting;       // 27 SH numbers
    cv::Vec3f skinColour;          // median visible skin colour (BGR)
    PhotoTexture texture;          // albedo in UV space
    AppearanceLayers appearance;   // the albedo split for fast appearance edits
    IdentityCode identity;         // z_id of this face (appearance part 0 = as photographed)
    std::array<Eigen::Vector2d, 68> fittedLandmarks;  // projected model landmarks
};

// Throws ideu::Error on degenerate input. `cropSize` is the aligned crop's side.
FittedFace fitFace(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection,
                   int cropSize = 512);

// The stage images of a fitted face (all crop-sized CV_8UC3):
cv::Mat landmarkOverlay(const FittedFace& face);   // X with detected (green) and fitted (red) landmarks
cv::Mat fitOverlay(const FaceModelContext& context, const FittedFace& face);  // X with the shaded 3DMM mesh blended in
cv::Mat fittedRender(const FaceModelContext& context, const FittedFace& face);  // X_f: albedo x shading, on grey

}  // namespace ideu
