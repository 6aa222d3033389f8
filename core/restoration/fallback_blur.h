#pragma once
// The protection of a face the 3-D pipeline cannot anonymize (turned beyond the fitter's range,
// a fit that does not match its landmarks, a fit that failed): the head is blurred so strongly
// that no recogniser can read it (the face box is reduced to about 6 x 6 values), inside a soft
// ellipse over face, hair line and ears, with grain matching the photo's so the area does not
// look pasted. Such a face is never passed through unchanged.
#include <opencv2/core.hpp>

#include <cstdint>

namespace ideu {

// The region blurred for a face whose detector box is `box`: an ellipse 1.5 x the box wide and
// 1.8 x its height, centred a little above the box centre (the forehead and hair line).
cv::RotatedRect fallbackRegion(const cv::Rect2d& box);
// The same region mapped through an affine map (photo -> crop).
cv::RotatedRect fallbackRegion(const cv::Rect2d& box, const cv::Matx23d& map);

// Blurs `region` of `bgr` (CV_8UC3) in place; the grain is seeded (same seed, same bytes).
void blurFaceRegion(cv::Mat& bgr, const cv::RotatedRect& region, std::uint64_t seed);

}  // namespace ideu
