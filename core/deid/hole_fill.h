#pragma once
// The mesh has no eyeballs and no mouth interior: those openings are filled from the photo,
// warped by the affine map that takes the opening's landmarks from their rendered position
// back to where they were fitted in the photo.
#include <Eigen/Core>
#include <opencv2/core.hpp>

#include <array>

namespace ideu {

// `image` (CV_32FC3) and `mask` (CV_8U) are the render; uncovered pixels inside the eye and
// inner-mouth polygons of `target` are filled from `crop` and added to the mask (the mouth's
// as fillMouth says), and the mesh's hard, aliased edge round each opening is softened by
// about a pixel (a Gaussian of sigma 1 of the render, normalised by its coverage).
void fillHolesFromCrop(const cv::Mat& crop, const std::array<Eigen::Vector2d, 68>& source,
                       const std::array<Eigen::Vector2d, 68>& target, cv::Mat& image, cv::Mat& mask);

// How far round the mouth's gap the render's lips are compared with the photo's (px), and the
// largest tone ratio (log) the gap's fill takes from them.
constexpr int kMouthRimPx = 3;
constexpr float kMouthLogRatioLimit = 0.7f;
// How far (8-bit levels, RGB distance) a pixel of the photo's opening may be from the photo's
// lips round it and still be taken for lip: the ratio falls off as a Gaussian of that distance.
constexpr double kMouthLipColourSd = 60.0;

// Fills the uncovered pixels of the inner-mouth polygon of `target` from `cropF` (CV_32FC3), by
// the affine map of the mouth's landmarks from `target` to `source`, times the ratio of the
// render's lips to the photo's around the gap (on a rim of kMouthRimPx, a plane in log ratio
// fitted there by least squares, so the upper and lower lips may differ): the photo's opening
// relative to its own lips, on the new lips; the ratio is applied as far as a pixel's colour is
// that of the photo's lips (kMouthLipColourSd), so teeth and the mouth's dark inside keep theirs.
// The mesh's aliased edge round the gap is then softened by about a pixel. Where the
// model opens a mouth the photo keeps closed, the "opening" is the photo's lips, and without
// the ratio it showed as a flat slot of another tone between the new lips.
void fillMouth(const cv::Mat& cropF, const std::array<Eigen::Vector2d, 68>& source,
               const std::array<Eigen::Vector2d, 68>& target, cv::Mat& image, cv::Mat& mask);

}  // namespace ideu
