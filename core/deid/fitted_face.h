#pragma once
// Step I, per face, computed once and cached: the aligned crop, the 3DMM fit (shape,
// expression, pose, SH lighting and the albedo code of the learned appearance model), and
// the fitted render X_f. Everything the slider path needs is here.
#include "align/face_align.h"
#include "appearance/model_albedo.h"
#include "appearance/photo_texture.h"
#include "face/face_detector.h"
#include "fitting/landmark_fitter.h"
#include "identity/identity_code.h"
#include "render/face_renderer.h"

#include <opencv2/core.hpp>

#include <optional>

namespace ideu {

struct FittedFace {
    DetectedFace detection;        // in photo coordinates
    AlignedCrop crop;              // X: the aligned 512² face crop and its transform
    Landmarks68 landmarks;         // detected landmarks in crop coordinates
    FaceFit fit;                   // pose, identity shape, expression
    FaceGeometry geometry;         // fitted mesh under the fitted pose
    RasterBuffers raster;          // its z-buffer, while the fit runs (fitAppearanceCode hands it to X_f's render)
    // The whole fitted head at half resolution (rasterizeHeadAtHalfResolution): which surface
    // the photo shows, for the outline warp (1.3 MB).
    RasterBuffers headRaster;
    cv::Mat faceArea;              // CV_8U, 255 where the fitted mesh covers the crop
    bool glasses = false;          // the glasses screen fired (face_screening.h): frames are not skin
    ShCoefficients lighting;       // 27 SH numbers
    cv::Vec3f skinColour;          // median visible skin colour (BGR)
    PhotoTexture texture;          // the photo's texture in UV: fitFace keeps only its shading (detail grid)
    AppearanceFit appearance;      // β, the skin-tone family, relief sharpness, bank neighbours and peers
    IdentityCode identity;         // z_id = (α, β)
    Eigen::VectorXf albedoValues;      // β's model values (pca.reconstruct): X_f's
    Eigen::VectorXf keptValues;        // those of β's part along the kept directions (what X_p keeps, AppearanceModel::albedoKept)
    std::array<Eigen::Vector2d, 68> fittedLandmarks;  // projected model landmarks
    cv::Mat fittedImage;           // X_f: CV_32FC3, the model render (eye and mouth openings from the photo)
    cv::Mat fittedMask;            // CV_8U, 255 where X_f has content
};

// The geometric fit and the photo's texture (what the appearance model's builder needs).
// Throws ideu::Error on degenerate input. `cropSize` is the aligned crop's side.
FittedFace fitFaceGeometry(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection,
                           int cropSize = 512);
// fitFaceGeometry in two steps. The first, the crop and the landmark fit (shape, expression,
// pose), runs on the calling thread alone, so other work can have the second core meanwhile.
FittedFace fitFaceShape(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection,
                        int cropSize = 512);
// The second: the fitted mesh's raster, the SH lighting and the photo's texture in UV.
FittedFace addPhotoTexture(const FaceModelContext& context, FittedFace face);
// The whole Step I fit: geometry, the albedo code in `model`, X_f. `attributes`: the face's
// apparent age and gender when known (they choose the bank faces its skin detail comes from).
FittedFace fitFace(const FaceModelContext& context, const AppearanceModel& model, const cv::Mat& photo,
                   const DetectedFace& detection, const std::optional<ApparentAttributes>& attributes = {},
                   int cropSize = 512);
// fitFace's second half: the albedo code of a geometric fit (fitFaceGeometry's), and X_f.
FittedFace fitAppearanceCode(const FaceModelContext& context, const AppearanceModel& model, FittedFace face,
                             const std::optional<ApparentAttributes>& attributes = {});

// The face's mesh rendered with an albedo (CV_32FC3 UV image of any size) under its fitted
// lighting and camera, the eye and mouth openings filled from the photo (warped from where the
// fitted landmarks were to `landmarks`). X_f and X_p are both made here.
struct FaceRender {
    cv::Mat image;  // CV_32FC3
    cv::Mat mask;   // CV_8U
};
FaceRender renderFace(const FaceModelContext& context, const FittedFace& face, const FaceGeometry& geometry,
                      const std::array<Eigen::Vector2d, 68>& landmarks, const cv::Mat& albedo, RasterBuffers raster = {});

// The stage images of a fitted face (all crop-sized CV_8UC3):
cv::Mat landmarkOverlay(const FittedFace& face);   // X with detected (green) and fitted (red) landmarks
cv::Mat fitOverlay(const FaceModelContext& context, const FittedFace& face);  // X with the 3DMM fit blended in, and its mesh
cv::Mat fittedRender(const FittedFace& face);      // X_f on grey
// A render (CV_32FC3) where `mask` is set, over mid-grey (CV_8UC3).
cv::Mat onMidGrey(const cv::Mat& render, const cv::Mat& mask);

}  // namespace ideu
