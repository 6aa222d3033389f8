#pragma once
// Appearance from the photo: SH lighting estimated on the visible skin, and an albedo texture
// in the model's UV space sampled from the photo with the shading divided out. Only texels
// whose surface point is visible (z-buffer test) sample the photo; the rest are filled from
// the mirrored side of the face or from their neighbours.
#include "render/face_renderer.h"

#include <opencv2/core.hpp>

namespace ideu {

struct PhotoTexture {
    cv::Mat albedo;      // CV_32FC3 UV image: the photo's colour (BGR 0..255, filled on the whole face area) / fitted shading
    cv::Mat visibility;  // CV_32F UV image: 1 where the photo saw the texel, 0 where it was filled
    cv::Mat shading;     // CV_32FC3 UV image: the fitted shading divided out (albedo = colour / shading)
};

// `crop` is the aligned photo (CV_8UC3), `valid` marks crop pixels inside the photo.
// `skinColour` receives the median colour of the visible skin (BGR).
ShCoefficients estimateLighting(const FaceModelContext& context, const cv::Mat& crop, const cv::Mat& valid,
                                const FaceGeometry& geometry, const RasterBuffers& raster, cv::Vec3f* skinColour);

PhotoTexture samplePhotoTexture(const FaceModelContext& context, const cv::Mat& crop, const cv::Mat& valid,
                                const FaceGeometry& geometry, const RasterBuffers& raster, const Camera& camera,
                                const ShCoefficients& sh);

// Fills pixels with weight 0 from their surroundings with a push-pull pyramid; pixels with
// weight 1 are kept, weights in between are blended. CV_32FC(n) image, CV_32F weight.
cv::Mat pushPullFill(const cv::Mat& image, const cv::Mat& weight);

// UV label of a covered pixel of a raster.
std::uint8_t regionAt(const FaceModelContext& context, const RasterBuffers& raster, std::size_t pixel);

}  // namespace ideu
