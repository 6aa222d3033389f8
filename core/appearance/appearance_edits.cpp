#include "appearance/appearance_edits.h"

#include <opencv2/imgproc.hpp>

namespace ideu {

cv::Mat applyAppearanceEdits(const FaceModelContext& context, const cv::Mat& albedo, const cv::Vec3f& skinColour,
                             const IdentityCode& code) {
    cv::Mat out = albedo.clone();
    if (code.appearance.size() < 3) return out;
    // Skin tone within the same family: lightness +-6 % per unit, redness and yellowness as
    // small opposite shifts of the colour channels.
    const float l = 1.f + 0.06f * code.appearance(0);
    const float red = 0.03f * code.appearance(1), yellow = 0.03f * code.appearance(2);
    const cv::Scalar gain(l * (1 - yellow), l * (1 - 0.5f * red + 0.3f * yellow), l * (1 + red));
    cv::multiply(out, gain, out);
    return out;
}

}  // namespace ideu
