#include "appearance/appearance_edits.h"

#include "appearance/photo_texture.h"
#include "identity/seeded_noise.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <tuple>

#include <opencv2/core/utility.hpp>

namespace ideu {
namespace {

// Effect of one unit (one between-person standard deviation) of each parameter.
// Tone stays within the skin's family (the neck and ears keep the photo's colour); measured,
// tone buys almost no recogniser distance, so it is kept subtle.
constexpr float kSkinLightness = 0.03f;
constexpr float kSkinRedness = 0.015f;
constexpr float kSkinYellowness = 0.015f;
constexpr float kRegionalTone = 0.03f;
constexpr float kBrowShift = 0.5f;       // x brow half-height
constexpr float kBrowThickness = 0.2f;   // relative
constexpr float kBrowArch = 0.45f;       // x brow half-height
constexpr float kBrowTilt = 0.45f;       // x brow half-height
// Brow darkness is kept subtle (at most about ±25 % contrast at the code's clip): measured, a
// four-times stronger darkening bought no recogniser distance (0.573 either way at scale
// 0.35) and turned grey brows black.
constexpr float kBrowContrast = 0.08f;
constexpr float kSocketShade = 0.06f;
constexpr float kUnderEyeShade = 0.05f;
constexpr float kLipRedness = 0.06f;
constexpr float kLipLightness = 0.07f;
// Share of the photo's skin relief replaced at full detail mix, and the synthetic texture's
// strength relative to the photo's own fine detail.
constexpr float kReliefReplaced = 1.0f;
constexpr float kSyntheticTexture = 0.35f;
// Lids: the photo's lashes lie over the lids, so the lid texture carries them; on a new lid
// shape they would be stretched into a ghost fan above the real ones. A grey closing (size in
// brow half-heights) removes such thin dark strands and keeps the lid's broad shading; it is
// applied with the relief mix where the socket weight (times the gain, saturated) is.
constexpr float kLidCleanSize = 1.2f;
constexpr float kLidCleanGain = 4.0f;
// Share of the relief's left-right asymmetry removed at full detail mix (0.5 = the relief of a
// texel and its mirror averaged, where the photo saw both). Measured at scale 0.35 over 6
// seeds: DIS 0.549 -> 0.564, match to the original 72 % -> 67 %, re-id 33 % -> 29 %, crop PSNR
// -0.1 dB; the photo's own low-frequency colour and shading stay, so side lighting is kept.
constexpr float kSymmetry = 0.5f;
// Share of the broad relief (the skin colour field's own shading: cheekbones, sockets,
// temples) flattened at full detail mix; the renderer's SH shading of the new geometry
// takes its place.
constexpr float kBroadReliefReplaced = 0.6f;

cv::Mat labelMask(const cv::Mat& regions, std::initializer_list<int> labels) {
    cv::Mat m = cv::Mat::zeros(regions.size(), CV_8U);
    for (int l : labels) m |= (regions == l);
    return m;
}

cv::Mat grow(const cv::Mat& mask, int radius) {
    cv::Mat out;
    if (radius <= 0) return mask.clone();
    cv::dilate(mask, out, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1)));
    return out;
}

// Gaussian blur; wide kernels run on a downsampled copy (a sigma-100 kernel at full
// resolution costs most of a second, the result is smooth anyway).
cv::Mat fastGaussian(const cv::Mat& src, double sigma) {
    cv::Mat out;
    if (sigma <= 6) {
        cv::GaussianBlur(src, out, cv::Size(0, 0), sigma);
        return out;
    }
    const double factor = std::floor(sigma / 3);
    cv::Mat small;
    cv::resize(src, small, cv::Size(std::max(1, int(src.cols / factor)), std::max(1, int(src.rows / factor))), 0, 0,
               cv::INTER_AREA);
    cv::GaussianBlur(small, small, cv::Size(0, 0), sigma / factor);
    cv::resize(small, out, src.size(), 0, 0, cv::INTER_LINEAR);
    return out;
}

cv::Mat soft(const cv::Mat& mask, double sigma) {
    cv::Mat f;
    mask.convertTo(f, CV_32F, 1.0 / 255.0);
    if (sigma > 0) f = fastGaussian(f, sigma);
    return f;
}

// Weighted Gaussian average (normalised convolution), for colour fields that must ignore
// features such as brows and beards.
cv::Mat weightedBlur(const cv::Mat& image, const cv::Mat& weight, double sigma) {
    cv::Mat w3, den;
    cv::merge(std::vector<cv::Mat>{weight, weight, weight}, w3);
    const cv::Mat num = fastGaussian(image.mul(w3), sigma);
    den = fastGaussian(w3, sigma);
    cv::Mat out;
    cv::divide(num, cv::max(den, 1e-4), out);
    return out;
}

cv::Mat gaussianBlob(const cv::Size& size, cv::Point2f centre, cv::Point2f sigma) {
    cv::Mat out(size, CV_32F);
    for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) {
            const float dx = (x - centre.x) / sigma.x, dy = (y - centre.y) / sigma.y;
            out.at<float>(y, x) = std::exp(-0.5f * (dx * dx + dy * dy));
        }
    return out;
}

float param(const IdentityCode& code, const char* name) {
    const int i = appearanceParameterIndex(name);
    return i >= 0 && i < code.appearance.size() ? code.appearance(i) : 0.f;
}

// Seeded skin texture: band-passed noise (sigma lo..hi texels), unit standard deviation,
// tiled over the ROI. The tile is periodic, so it tiles without seams.
cv::Mat syntheticTexture(std::uint64_t seed, const cv::Size& size, double lo, double hi) {
    constexpr int kTile = 256;
    cv::Mat noise(kTile, kTile, CV_32F);
    SeededRandom random(seed);
    for (int y = 0; y < kTile; ++y)
        for (int x = 0; x < kTile; ++x) noise.at<float>(y, x) = float(random.uniform() - 0.5);
    const int pad = int(std::ceil(4 * hi));
    cv::Mat padded, fine, coarse;
    cv::copyMakeBorder(noise, padded, pad, pad, pad, pad, cv::BORDER_WRAP);
    cv::GaussianBlur(padded, fine, cv::Size(0, 0), lo);
    cv::GaussianBlur(padded, coarse, cv::Size(0, 0), hi);
    cv::Mat band = cv::Mat(fine - coarse)(cv::Rect(pad, pad, kTile, kTile)).clone();
    cv::Scalar mean, stddev;
    cv::meanStdDev(band, mean, stddev);
    band = (band - mean[0]) / std::max(1e-6, stddev[0]);
    cv::Mat out(size, CV_32F);
    for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x) out.at<float>(y, x) = band.at<float>(y % kTile, x % kTile);
    return out;
}

// y of a polyline (sorted or reverse-sorted in x) at x; the end values beyond its ends.
float polylineY(const std::vector<cv::Point2f>& line, float x) {
    for (std::size_t k = 0; k + 1 < line.size(); ++k) {
        const float a = line[k].x, b = line[k + 1].x;
        if (a != b && (x - a) * (x - b) <= 0) return line[k].y + (line[k + 1].y - line[k].y) * (x - a) / (b - a);
    }
    return std::abs(x - line.front().x) < std::abs(x - line.back().x) ? line.front().y : line.back().y;
}

}  // namespace

int appearanceParameterIndex(const std::string& name) {
    const auto& names = appearanceParameterNames();
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : int(it - names.begin());
}

AppearanceLayers decomposeAppearance(const FaceModelContext& context, const cv::Mat& albedo, const cv::Vec3f& skinColour,
                                     const cv::Mat& visibility) {
    AppearanceLayers layers;
    const cv::Mat& faceMask = context.faceMask();
    const cv::Rect bounds = cv::boundingRect(faceMask);
    layers.roi = cv::Rect(bounds.x - 16, bounds.y - 16, bounds.width + 32, bounds.height + 32) &
                 cv::Rect(0, 0, albedo.cols, albedo.rows);
    const cv::Rect roi = layers.roi;
    layers.fullAlbedo = albedo;
    layers.albedo = albedo(roi).clone();
    layers.skinColour = skinColour;
    const cv::Mat regions = context.regions()(roi);
    const cv::Point2f offset(float(roi.x), float(roi.y));
    auto uv = [&](int landmark) { return context.landmarkUv(landmark) - offset; };

    const float eyeY = (uv(37).y + uv(44).y) * 0.5f;
    const float browY = (uv(19).y + uv(24).y) * 0.5f;
    layers.browHalfHeight = 0.22f * (eyeY - browY);

    // Features the skin colour field must not see.
    const int featureGrow = int(std::lround(layers.browHalfHeight));
    cv::Mat features = grow(labelMask(regions, {kUvBrowLeft, kUvBrowRight, kUvEyeLeft, kUvEyeRight, kUvLips, kUvMouth}),
                            featureGrow);
    cv::Mat nostrils = cv::Mat::zeros(regions.size(), CV_8U);
    {
        std::vector<cv::Point> pts;
        const cv::Point2f tip = uv(33);
        for (int i : {31, 32, 33, 34, 35}) {
            const cv::Point2f p = tip + (uv(i) - tip) * 1.5f;
            pts.emplace_back(cvRound(p.x), cvRound(p.y));
        }
        pts.emplace_back(cvRound(uv(30).x), cvRound(uv(30).y));
        cv::fillConvexPoly(nostrils, pts, cv::Scalar(255));
    }
    features |= nostrils;
    const cv::Mat face = faceMask(roi) > 0;
    cv::Mat skin = face & ~features;

    // Smooth skin colour: weighted blur, then a second pass that down-weights pixels far
    // from it (beard, moles, hair strands), then filled over the features.
    cv::Mat weight = soft(skin, 0);
    cv::Mat low = weightedBlur(layers.albedo, weight, 12);
    {
        cv::Mat diff;
        cv::absdiff(layers.albedo, low, diff);
        std::vector<cv::Mat> d;
        cv::split(diff, d);
        cv::Mat dev = (d[0] + d[1] + d[2]) / (3.0 * std::max(20.f, (skinColour[0] + skinColour[1] + skinColour[2]) / 3.f));
        cv::Mat robust;
        cv::divide(1.0, 1.0 + dev.mul(dev) * 25.0, robust);
        weight = weight.mul(robust);
    }
    low = weightedBlur(layers.albedo, weight, 40);
    cv::Mat lowFilled = pushPullFill(low, soft(skin, 0));
    layers.low = cv::max(lowFilled, 1.0);
    layers.lowSmooth = weightedBlur(layers.low, soft(face, 0), 100);
    cv::Mat fine;
    cv::GaussianBlur(layers.albedo, fine, cv::Size(0, 0), 2.0);
    cv::divide(fine - layers.low, layers.low, layers.mid);
    cv::divide(layers.albedo - fine, layers.low, layers.high);
    {
        std::vector<cv::Mat> h;
        cv::split(layers.high, h);
        cv::Scalar mean, sd;
        cv::meanStdDev((h[0] + h[1] + h[2]) / 3, mean, sd, faceMask(roi) > 0);
        layers.fineSd = float(sd[0]);
    }

    // Where the relief is replaced: the skin, fading out at the features and the face edge.
    cv::Mat inner;
    cv::erode(face, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(9, 9)));
    layers.skinWeight = soft(inner & ~grow(features, featureGrow / 2), layers.browHalfHeight * 0.6);
    layers.browWeight = soft(labelMask(regions, {kUvBrowLeft, kUvBrowRight}), layers.browHalfHeight * 0.3);
    layers.lipWeight = soft(labelMask(regions, {kUvLips}), 2.0);

    // Upper lids and sockets: between the brow band and the eye; under-eye: below the eye.
    const cv::Size size = regions.size();
    const float eyeBrow = eyeY - browY;
    layers.socketWeight = cv::Mat::zeros(size, CV_32F);
    layers.underEyeWeight = cv::Mat::zeros(size, CV_32F);
    for (const auto& [first, last] : {std::pair{36, 39}, std::pair{42, 45}}) {
        const cv::Point2f c = (uv(first) + uv(last)) * 0.5f;
        const float width = cv::norm(uv(last) - uv(first));
        layers.socketWeight += gaussianBlob(size, c - cv::Point2f(0, 0.45f * eyeBrow), {0.75f * width, 0.28f * eyeBrow});
        layers.underEyeWeight += gaussianBlob(size, c + cv::Point2f(0, 0.45f * eyeBrow), {0.6f * width, 0.22f * eyeBrow});
    }
    const cv::Mat notEyes = 1.0 - soft(grow(labelMask(regions, {kUvEyeLeft, kUvEyeRight}), 2), 2);
    layers.socketWeight = layers.socketWeight.mul(notEyes).mul(1.0 - layers.browWeight);
    {
        const int k = std::max(3, int(std::lround(kLidCleanSize * layers.browHalfHeight)) | 1);
        // On the luminance, with the skin's own colour: a per-channel closing, or a gain on
        // a dark lash pixel, would invent colours.
        cv::Mat grey, closed, lowGrey, shade;
        cv::cvtColor(layers.albedo, grey, cv::COLOR_BGR2GRAY);
        cv::cvtColor(layers.low, lowGrey, cv::COLOR_BGR2GRAY);
        cv::morphologyEx(grey, closed, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(k, k)));
        cv::divide(closed, cv::max(lowGrey, 1.0), shade);
        cv::Mat shade3, relative;
        cv::merge(std::vector<cv::Mat>{shade, shade, shade}, shade3);
        cv::divide(layers.albedo, layers.low, relative);
        layers.lidClean = shade3 - relative;
    }
    layers.underEyeWeight = layers.underEyeWeight.mul(notEyes);

    // Mirror partners: the UV layout is symmetric about its centre column, so ROI column x
    // pairs with column (uvSize - 1 - 2 roi.x) - x; a partner outside the ROI has none.
    {
        const int pairSum = albedo.cols - 1 - 2 * roi.x;
        cv::Mat mapX(roi.size(), CV_32F), mapY(roi.size(), CV_32F);
        for (int y = 0; y < roi.height; ++y)
            for (int x = 0; x < roi.width; ++x) mapX.at<float>(y, x) = float(pairSum - x), mapY.at<float>(y, x) = float(y);
        auto mirrored = [&](const cv::Mat& m) {
            cv::Mat out;
            cv::remap(m, out, mapX, mapY, cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar::all(0));
            return out;
        };
        layers.midMirrored = mirrored(layers.mid);
        layers.highMirrored = mirrored(layers.high);
        cv::Mat both = visibility.empty() ? cv::Mat(roi.size(), CV_32F, cv::Scalar(1)) : visibility(roi).clone();
        cv::min(both, mirrored(both), both);  // 0 where the partner is outside the ROI
        both.setTo(0, face == 0);
        cv::erode(both, both, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
        layers.symmetryWeight = fastGaussian(both, 3.0);
    }

    const float faceWidth = cv::norm(uv(16) - uv(0));
    const cv::Point2f midBrow = (uv(21) + uv(22)) * 0.5f;
    layers.regional[0] = gaussianBlob(size, midBrow - cv::Point2f(0, 0.8f * eyeBrow), {0.35f * faceWidth, 0.9f * eyeBrow});
    layers.regional[1] = gaussianBlob(size, (uv(2) + uv(31)) * 0.5f, {0.14f * faceWidth, 0.14f * faceWidth}) +
                         gaussianBlob(size, (uv(14) + uv(35)) * 0.5f, {0.14f * faceWidth, 0.14f * faceWidth});
    layers.regional[2] = gaussianBlob(size, (uv(57) + uv(8)) * 0.5f, {0.22f * faceWidth, 0.12f * faceWidth});
    return layers;
}

namespace {

// The seeded skin texture for the ROI, cached for the last seeds (the slider re-runs with
// the same seed many times). Made outside the lock, so a low-priority sweep making it does
// not hold up the slider's re-run; racing callers make the same texture.
cv::Mat cachedSyntheticTexture(std::uint64_t seed, const cv::Size& size) {
    static std::mutex mutex;
    static std::vector<std::tuple<std::uint64_t, cv::Size, cv::Mat>> cache;
    const auto find = [&]() -> cv::Mat {
        for (const auto& [s, z, m] : cache)
            if (s == seed && z == size) return m;
        return {};
    };
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (cv::Mat m = find(); !m.empty()) return m;
    }
    cv::Mat texture = syntheticTexture(seed, size, 1.0, 3.0);
    std::lock_guard<std::mutex> lock(mutex);
    if (cv::Mat m = find(); !m.empty()) return m;
    cache.emplace_back(seed, size, texture);
    if (cache.size() > 4) cache.erase(cache.begin());
    return texture;
}

}  // namespace

cv::Mat applyAppearanceEdits(const FaceModelContext& context, const AppearanceLayers& layers, const IdentityCode& code) {
    const bool neutral = code.detailMix <= 0.f && (code.appearance.size() == 0 || code.appearance.isZero(0.f));
    if (neutral) return layers.fullAlbedo;  // shared, read-only
    const cv::Rect roi = layers.roi;

    // Tone: global gains within the skin's family (colour shifts scale with the skin's own
    // saturation, so a black-and-white photo stays grey), regional lightness, eye shading.
    const cv::Vec3f& sc = layers.skinColour;
    const float maxc = std::max({sc[0], sc[1], sc[2]}), minc = std::min({sc[0], sc[1], sc[2]});
    const float chroma = std::clamp((maxc - minc) / std::max(maxc, 1.f) / 0.15f, 0.f, 1.f);
    const float l = 1.f + kSkinLightness * param(code, "skin_lightness");
    const float red = chroma * kSkinRedness * param(code, "skin_redness");
    const float yellow = chroma * kSkinYellowness * param(code, "skin_yellowness");
    const cv::Vec3f gain(l * (1 - yellow), l * (1 - 0.5f * red + 0.25f * yellow), l * (1 + red));
    const float regional[3] = {kRegionalTone * param(code, "tone_forehead"), kRegionalTone * param(code, "tone_cheeks"),
                               kRegionalTone * param(code, "tone_jaw")};
    const float socket = kSocketShade * param(code, "eye_socket_shade");
    const float underEye = kUnderEyeShade * param(code, "under_eye_shade");
    const float lr = chroma * kLipRedness * param(code, "lip_redness");
    const float ll = 1.f + kLipLightness * param(code, "lip_lightness");
    const cv::Vec3f lipGain(ll * (1 - 0.5f * lr), ll * (1 - 0.5f * lr), ll * (1 + lr));

    // Relief: the photo's mid-frequency skin relief is replaced by a seeded fine texture and
    // its broad relief flattened; the new geometry's shading comes from the renderer.
    const float mix = std::clamp(code.detailMix, 0.f, 1.f);
    const cv::Mat synthetic = mix > 0 && code.detailSeed != 0 ? cachedSyntheticTexture(code.detailSeed, roi.size()) : cv::Mat();
    const float syntheticAmount = kSyntheticTexture * mix * layers.fineSd;

    cv::Mat base(roi.size(), CV_32FC3);
    cv::parallel_for_(cv::Range(0, roi.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const float* sw = layers.skinWeight.ptr<float>(y);
            const float* lw = layers.lipWeight.ptr<float>(y);
            const float* so = layers.socketWeight.ptr<float>(y);
            const float* ue = layers.underEyeWeight.ptr<float>(y);
            const float* r0 = layers.regional[0].ptr<float>(y);
            const float* r1 = layers.regional[1].ptr<float>(y);
            const float* r2 = layers.regional[2].ptr<float>(y);
            const cv::Vec3f* low = layers.low.ptr<cv::Vec3f>(y);
            const cv::Vec3f* smooth = layers.lowSmooth.ptr<cv::Vec3f>(y);
            const cv::Vec3f* mid = layers.mid.ptr<cv::Vec3f>(y);
            const cv::Vec3f* high = layers.high.ptr<cv::Vec3f>(y);
            const cv::Vec3f* midM = layers.midMirrored.ptr<cv::Vec3f>(y);
            const cv::Vec3f* highM = layers.highMirrored.ptr<cv::Vec3f>(y);
            const float* sym = layers.symmetryWeight.ptr<float>(y);
            const cv::Vec3f* lid = layers.lidClean.ptr<cv::Vec3f>(y);
            const float* syn = synthetic.empty() ? nullptr : synthetic.ptr<float>(y);
            cv::Vec3f* out = base.ptr<cv::Vec3f>(y);
            for (int x = 0; x < roi.width; ++x) {
                const float tone = 1.f + regional[0] * r0[x] + regional[1] * r1[x] + regional[2] * r2[x] - socket * so[x] -
                                   underEye * ue[x];
                const float keep = 1.f - sw[x] * kReliefReplaced * mix;
                const float flatten = sw[x] * kBroadReliefReplaced * mix;
                const float grain = syn ? syn[x] * sw[x] * syntheticAmount : 0.f;
                const float lidClean = std::min(1.f, kLidCleanGain * so[x]) * mix;
                const float even = kSymmetry * sym[x] * mix;
                cv::Vec3f v;
                for (int c = 0; c < 3; ++c) {
                    const float lowc = (low[x][c] * (1 - flatten) + smooth[x][c] * flatten) * gain[c];
                    const float m = mid[x][c] + even * (midM[x][c] - mid[x][c]);
                    const float f = high[x][c] + even * (highM[x][c] - high[x][c]);
                    v[c] = lowc * tone * (1.f + m * keep + f + grain + lid[x][c] * lidClean);
                    v[c] = std::max(0.f, v[c] * (1.f - lw[x]) + v[c] * lipGain[c] * lw[x]);
                }
                out[x] = v;
            }
        }
    });

    // Brows: reshaped from their own hair texture by a smooth vertical displacement (height,
    // thickness, arch, tilt), then their contrast against the skin changed. Only the brow
    // areas are touched.
    const float h = layers.browHalfHeight;
    const float shift = kBrowShift * h * param(code, "brow_height");
    const float thickness = 1.f + kBrowThickness * param(code, "brow_thickness");
    const float arch = kBrowArch * h * param(code, "brow_arch");
    const float tilt = kBrowTilt * h * param(code, "brow_tilt");
    const float contrast = 1.f + kBrowContrast * param(code, "brow_darkness");
    const cv::Point2f offset(float(roi.x), float(roi.y));
    for (int side = 0; side < 2; ++side) {
        // Brow landmarks (their upper edge), inner end first; the centre line half a brow lower.
        const int ids[5] = {side == 0 ? 21 : 22, side == 0 ? 20 : 23, side == 0 ? 19 : 24, side == 0 ? 18 : 25,
                            side == 0 ? 17 : 26};
        std::vector<cv::Point2f> line;
        for (int id : ids) line.push_back(context.landmarkUv(id) - offset + cv::Point2f(0, h));
        const float x0 = line.front().x, x1 = line.back().x;
        const float length = std::abs(x1 - x0);
        const int xa = std::max(0, int(std::min(x0, x1) - 0.35f * length));
        const int xb = std::min(roi.width - 1, int(std::max(x0, x1) + 0.35f * length));
        const int ya = std::max(0, int(std::min(line.front().y, line.back().y) - 5 * h));
        const int yb = std::min(roi.height - 1, int(std::max(line.front().y, line.back().y) + 5 * h));
        if (xa >= xb || ya >= yb) continue;
        const cv::Rect area(xa, ya, xb - xa + 1, yb - ya + 1);
        cv::Mat browWeight = layers.browWeight(area).clone();
        if (shift != 0 || thickness != 1 || arch != 0 || tilt != 0) {
            cv::Mat mapX(area.size(), CV_32F), mapY(area.size(), CV_32F);
            for (int y = 0; y < area.height; ++y)
                for (int x = 0; x < area.width; ++x) mapX.at<float>(y, x) = float(area.x + x), mapY.at<float>(y, x) = float(area.y + y);
            for (int x = area.x; x < area.x + area.width; ++x) {
                // Position along the brow (0 inner, 1 outer), its centre height, and a cosine
                // fall-off beyond the brow's ends.
                const float t = std::clamp((float(x) - x0) / (x1 - x0), 0.f, 1.f);
                const float cy = polylineY(line, float(x));
                const float outside = float(x) < std::min(x0, x1) ? (std::min(x0, x1) - float(x)) / (0.35f * length)
                                      : float(x) > std::max(x0, x1) ? (float(x) - std::max(x0, x1)) / (0.35f * length)
                                                                      : 0.f;
                const float wx = 0.5f * (1 + std::cos(float(CV_PI) * std::min(outside, 1.f)));
                const float dy = shift + arch * std::sin(float(CV_PI) * t) + tilt * t;
                for (int y = area.y; y < area.y + area.height; ++y) {
                    const float v = (float(y) - cy) / (4 * h);
                    if (std::abs(v) >= 1) continue;
                    const float w = wx * 0.5f * (1 + std::cos(float(CV_PI) * v));
                    const float source = (float(y) - cy - dy) / thickness + cy;  // inverse displacement
                    mapY.at<float>(y - area.y, x - area.x) = float(y) + w * (source - float(y));
                }
            }
            cv::Mat warped;
            cv::remap(base, warped, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
            warped.copyTo(base(area));
            cv::remap(layers.browWeight, browWeight, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
        }
        if (contrast != 1.f) {
            for (int y = 0; y < area.height; ++y) {
                cv::Vec3f* px = base(area).ptr<cv::Vec3f>(y);
                const cv::Vec3f* low = layers.low(area).ptr<cv::Vec3f>(y);
                const float* w = browWeight.ptr<float>(y);
                for (int x = 0; x < area.width; ++x) {
                    if (w[x] <= 0) continue;
                    for (int c = 0; c < 3; ++c) {
                        const float skin = low[x][c] * gain[c];
                        const float contrasted = skin + (px[x][c] - skin) * contrast;
                        px[x][c] = std::max(0.f, px[x][c] + w[x] * (contrasted - px[x][c]));
                    }
                }
            }
        }
    }
    cv::Mat full = layers.fullAlbedo.clone();
    base.copyTo(full(roi));
    return full;
}

}  // namespace ideu
