#pragma once
// The mesh has no eyeballs and no mouth interior: those openings are filled from the photo,
// warped by the affine map that takes the opening's landmarks from their rendered position
// back to where they were fitted in the photo.
#include <Eigen/Core>
#include <opencv2/core.hpp>

#include <array>

namespace ideu {

// `image` (CV_32FC3) and `mask` (CV_8U) are the render; uncovered pixels inside the eye and
// inner-mouth polygons of `target` are filled from `crop` and added to the mask.
void fillHolesFromCrop(const cv::Mat& crop, const std::array<Eigen::Vector2d, 68>& source,
                       const std::array<Eigen::Vector2d, 68>& target, cv::Mat& image, cv::Mat& mask);

}  // namespace ideu
