#pragma once
// Utility metrics: PSNR and SSIM (Wang et al. 2004, Gaussian window sigma 1.5, on luma).
#include <opencv2/core.hpp>

namespace ideu {

double psnr(const cv::Mat& a, const cv::Mat& b);  // 8-bit images, dB (inf when equal -> 99)
double ssim(const cv::Mat& a, const cv::Mat& b);  // 8-bit images, luma

}  // namespace ideu
