#include "appearance/model_albedo.h"

#include "appearance/photo_texture.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/profile.h"
#include "identity/seeded_noise.h"

#include <Eigen/Cholesky>
#include <cblas.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <numeric>

namespace ideu {
namespace {

constexpr double kDetailSmooth = 6.0;  // detail-grid texels: the relief is relative to this smooth level
constexpr double kBroadField = 12.0;   // model-grid texels (about a tenth of the face's width)
// The light X_p keeps: the broad field's coarsest part, about a third of the face's width. What
// lies between the two is the photo's own face (the shading of its real nose, sockets and
// cheekbones that the fitted mesh lacks, its cheeks' colour, a birthmark): identity.
constexpr double kLightField = 36.0;
constexpr float kStructureMin = 0.15f, kStructureMax = 1.35f;  // above: specular highlights
constexpr int kNeighbours = 10;        // bank faces kept per face for its detail
constexpr int kDetailFaces = 3;        // mixed per code (their median, medianRelief)
// Around the eye openings the bank faces' relief is their lashes, eyeliner and the halo the
// band-pass draws beside them, not skin: the detail fades in from this many detail-grid
// texels outside the eye region to full strength at the second.
constexpr float kEyeMarginStart = 3.f, kEyeMarginFull = 14.f;

// Luminance weights of the B, G and R channels (ITU-R BT.601, as OpenCV's grey conversion).
constexpr float kLumaB = 0.114f, kLumaG = 0.587f, kLumaR = 0.299f;

// Luminance of an image's B, G and R planes.
cv::Mat luminance(const std::vector<cv::Mat>& c) { return kLumaB * c[0] + kLumaG * c[1] + kLumaR * c[2]; }

cv::Mat luminance(const cv::Mat& bgr) {
    std::vector<cv::Mat> c;
    cv::split(bgr, c);
    return luminance(c);
}

// Pixels with weight 0 filled from their neighbours, on the atlas region `atlasRoi`.
cv::Mat filledRegion(const cv::Mat& atlasImage, const cv::Mat& weight, const cv::Rect& atlasRoi) {
    if (weight.empty()) return atlasImage(atlasRoi).clone();
    cv::Mat w;
    cv::min(weight(atlasRoi), 1.0, w);
    cv::threshold(w, w, 1e-3, 1.0, cv::THRESH_BINARY);  // any trust counts as seen: only fill the empty
    return pushPullFill(atlasImage(atlasRoi), w);
}

int gridFactor(int atlasSize, int gridSize) {
    if (gridSize <= 0 || atlasSize % gridSize != 0) throw Error("a UV grid must divide the atlas evenly");
    return atlasSize / gridSize;
}

cv::Rect scaled(const cv::Rect& r, int f) { return {r.x * f, r.y * f, r.width * f, r.height * f}; }

// A Gaussian blur of a smooth field at a wide sigma: on an image shrunk by about sigma / 4
// (area average), then enlarged back (linear). The kernel of a direct blur is eight sigmas
// long, wider than the model grid for the light field; the shrunk one costs a few
// hundredths of it, and what it changes lies far below the field's own scale.
void wideBlur(const cv::Mat& in, cv::Mat& out, double sigma) {
    const int f = std::max(1, int(sigma / 4));
    if (f == 1) {
        cv::GaussianBlur(in, out, cv::Size(0, 0), sigma);
        return;
    }
    cv::Mat small;
    cv::resize(in, small, cv::Size((in.cols + f - 1) / f, (in.rows + f - 1) / f), 0, 0, cv::INTER_AREA);
    cv::GaussianBlur(small, small, cv::Size(0, 0), sigma / f);
    cv::resize(small, out, in.size(), 0, 0, cv::INTER_LINEAR);
}

// The per-channel median of `albedo` where `toneMask` is set (and `weight` >= 0.5), on every
// `step`-th row and column.
cv::Vec3f medianTone(const cv::Mat& albedo, const cv::Mat& toneMask, const cv::Mat& weight, int step) {
    std::vector<float> channel[3];
    for (int y = 0; y < albedo.rows; y += step) {
        const std::uint8_t* m = toneMask.ptr<std::uint8_t>(y);
        const cv::Vec3f* a = albedo.ptr<cv::Vec3f>(y);
        const float* w = weight.empty() ? nullptr : weight.ptr<float>(y);
        for (int x = 0; x < albedo.cols; x += step) {
            if (!m[x] || (w && w[x] < 0.5f)) continue;
            for (int c = 0; c < 3; ++c) channel[c].push_back(a[x][c]);
        }
    }
    cv::Vec3f tone(1, 1, 1);
    for (int c = 0; c < 3; ++c) {
        if (channel[c].empty()) return {1, 1, 1};
        auto mid = channel[c].begin() + std::ptrdiff_t(channel[c].size() / 2);
        std::nth_element(channel[c].begin(), mid, channel[c].end());
        tone[c] = std::max(*mid, 1.f);
    }
    return tone;
}

// Where the skin tone is measured: the skin above the nose's base (no beard there), away
// from the openings' rims; atlas-sized.
cv::Mat toneRegion(const FaceModelContext& context) {
    cv::Mat region = context.regions() == kUvSkin;
    const int below = std::clamp(int(context.landmarkUv(33).y), 0, region.rows);
    region.rowRange(below, region.rows).setTo(0);
    return region & ~context.openingRims();
}

// skinTone on a synthesised albedo (the detail grid).
cv::Vec3f detailTone(const FaceModelContext& context, const cv::Mat& albedo) {
    static std::mutex mutex;
    static cv::Mat cached;
    static cv::Size cachedFor;
    cv::Mat mask;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (cachedFor != albedo.size()) {
            cv::resize(toneRegion(context), cached, albedo.size(), 0, 0, cv::INTER_NEAREST);
            cachedFor = albedo.size();
        }
        mask = cached;
    }
    return medianTone(albedo, mask, cv::Mat(), 2);
}

}  // namespace

cv::Vec3f skinTone(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight) {
    return medianTone(albedo, toneRegion(context), weight, 2);
}

BeardAreas beardAreas(const FaceModelContext& context, const AlbedoPca& pca) {
    const cv::Mat skin = (context.regions() == kUvSkin) & ~context.openingRims();
    // Polygons through iBUG-68 landmarks (0-based): the jaw line 0–16, the nose's base 31–35,
    // the outer lips 48–59.
    auto area = [&](const std::vector<std::vector<int>>& polygons) {
        cv::Mat drawn = cv::Mat::zeros(skin.size(), CV_8U);
        for (const std::vector<int>& landmarks : polygons) {
            std::vector<cv::Point> points;
            for (int i : landmarks) {
                const cv::Point2f p = context.landmarkUv(i);
                points.emplace_back(cvRound(p.x), cvRound(p.y));
            }
            cv::fillPoly(drawn, std::vector<std::vector<cv::Point>>{points}, cv::Scalar(255));
        }
        cv::Mat weight;
        cv::Mat(drawn & skin).convertTo(weight, CV_32F, 1.0 / 255.0);
        return toGrid(weight, cv::Mat(), context.uvSize(), pca.uvSize, pca.roi);
    };
    BeardAreas out;
    out.areas.push_back(area({{31, 32, 33, 34, 35, 54, 53, 52, 51, 50, 49, 48}}));        // upper lip
    out.areas.push_back(area({{48, 59, 58, 57, 56, 55, 54, 10, 9, 8, 7, 6}}));           // chin
    out.areas.push_back(area({{58, 57, 56, 9, 8, 7}}));                                  // its centre (a goatee)
    out.areas.push_back(area({{2, 3, 4, 5, 6, 48, 31}, {14, 13, 12, 11, 10, 54, 35}}));  // lower cheeks
    cv::Mat reference;
    toneRegion(context).convertTo(reference, CV_32F, 1.0 / 255.0);
    out.reference = toGrid(reference, cv::Mat(), context.uvSize(), pca.uvSize, pca.roi);
    return out;
}

bool isGreyTone(const cv::Vec3f& tone) {
    const float hi = std::max({tone[0], tone[1], tone[2]}), lo = std::min({tone[0], tone[1], tone[2]});
    return hi - lo <= 0.02f * hi;
}

cv::Mat toGrid(const cv::Mat& atlasImage, const cv::Mat& weight, int atlasSize, int gridSize, const cv::Rect& gridRoi) {
    const int f = gridFactor(atlasSize, gridSize);
    const cv::Rect atlasRoi = scaled(gridRoi, f);
    const cv::Mat region = atlasImage.channels() == 3 ? filledRegion(atlasImage, weight, atlasRoi) : atlasImage(atlasRoi);
    cv::Mat out;
    cv::resize(region, out, gridRoi.size(), 0, 0, cv::INTER_AREA);
    return out;
}

RelativeAlbedo relativeAlbedo(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight,
                              const cv::Vec3f& tone, bool grey, int gridSize, const cv::Rect& gridRoi, double lightSigma) {
    RelativeAlbedo out;
    cv::Mat relative;
    {
        std::vector<cv::Mat> c;
        cv::split(toGrid(albedo, weight, context.uvSize(), gridSize, gridRoi), c);
        for (int i = 0; i < 3; ++i) c[std::size_t(i)] /= tone[i];
        if (grey) {
            const cv::Mat lum = luminance(c);
            c = {lum, lum.clone(), lum.clone()};
        }
        cv::merge(c, relative);
    }
    out.weight = toGrid(weight, cv::Mat(), context.uvSize(), gridSize, gridRoi);
    // The broad field: a normalised convolution over the skin alone.
    cv::Mat skinOnly;
    {
        cv::Mat skin = (context.regions() == kUvSkin) & ~context.openingRims(), skinF;
        skin.convertTo(skinF, CV_32F, 1.0 / 255.0);
        skinOnly = toGrid(skinF, cv::Mat(), context.uvSize(), gridSize, gridRoi);
        cv::threshold(skinOnly, skinOnly, 0.99, 1.0, cv::THRESH_TOZERO);
    }
    const cv::Mat w = out.weight.mul(skinOnly);
    cv::Mat w3;
    cv::merge(std::vector<cv::Mat>{w, w, w}, w3);
    const cv::Mat weighted = relative.mul(w3);
    auto overSkin = [&](double sigma) {
        // The weight is the same in every channel: blurred once.
        cv::Mat numerator, blurredWeight, denominator, field;
        wideBlur(weighted, numerator, sigma);
        wideBlur(w, blurredWeight, sigma);
        cv::merge(std::vector<cv::Mat>{blurredWeight, blurredWeight, blurredWeight}, denominator);
        cv::divide(numerator, cv::max(denominator, 1e-3), field);
        field.setTo(cv::Scalar::all(1), denominator < 1e-3);  // no skin seen near: the tone itself
        return field;
    };
    out.broad = overSkin(kBroadField);
    if (lightSigma > 0) out.light = overSkin(lightSigma);
    cv::divide(relative, cv::max(out.broad, 0.05), out.structure);
    cv::min(cv::max(out.structure, kStructureMin), kStructureMax, out.structure);
    return out;
}

cv::Mat detailRelief(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight, int detailUvSize,
                     const cv::Rect& detailRoi) {
    const int f = gridFactor(context.uvSize(), detailUvSize);
    const cv::Mat lum = luminance(toGrid(albedo, weight, context.uvSize(), detailUvSize, detailRoi));
    cv::Mat smooth;
    cv::GaussianBlur(lum, smooth, cv::Size(0, 0), kDetailSmooth);
    cv::Mat relief;
    cv::divide(lum, cv::max(smooth, 1.0), relief);
    relief -= 1.0;
    // Not skin: brows, eyes, lips, the mouth and the nostrils, and the face's outer edge.
    const cv::Mat regions = context.regions()(scaled(detailRoi, f));
    cv::Mat features = (regions == kUvBrowLeft) | (regions == kUvBrowRight) | (regions == kUvEyeLeft) |
                       (regions == kUvEyeRight) | (regions == kUvLips) | (regions == kUvMouth) | (regions == kUvOutside);
    {
        cv::Mat nose = regions == kUvNose;
        const int base = int(context.landmarkUv(30).y) - detailRoi.y * f;
        if (base > 0) nose.rowRange(0, std::min(base, nose.rows)).setTo(0);  // the bridge is skin
        features |= nose;
    }
    cv::Mat small;
    cv::resize(features, small, detailRoi.size(), 0, 0, cv::INTER_AREA);
    cv::Mat fade;
    small.convertTo(fade, CV_32F, 1.0 / 255.0);
    cv::threshold(fade, fade, 0.01, 1.0, cv::THRESH_BINARY);
    cv::dilate(fade, fade, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
    cv::GaussianBlur(fade, fade, cv::Size(0, 0), 2.5);
    return relief.mul(1.0 - fade);
}

// Made once per model context and detail grid. The kept entries hold the context's region
// labels (a shared buffer), so a key's address cannot be reused by another context.
cv::Mat eyeMarginFade(const FaceModelContext& context, int detailUvSize, const cv::Rect& detailRoi) {
    struct Kept {
        cv::Mat regions;
        int size;
        cv::Rect roi;
        cv::Mat fade;
    };
    static std::mutex mutex;
    static std::vector<Kept> kept;
    std::lock_guard<std::mutex> lock(mutex);
    for (const Kept& k : kept)
        if (k.regions.data == context.regions().data && k.size == detailUvSize && k.roi == detailRoi) return k.fade;
    const int f = gridFactor(context.uvSize(), detailUvSize);
    const cv::Mat regions = context.regions()(scaled(detailRoi, f));
    cv::Mat eyes = (regions == kUvEyeLeft) | (regions == kUvEyeRight), small, distance;
    cv::resize(eyes, small, detailRoi.size(), 0, 0, cv::INTER_AREA);
    cv::distanceTransform(small == 0, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    cv::Mat fade(distance.size(), CV_32F);
    for (int y = 0; y < fade.rows; ++y)
        for (int x = 0; x < fade.cols; ++x) {
            const float t = std::clamp((distance.at<float>(y, x) - kEyeMarginStart) / (kEyeMarginFull - kEyeMarginStart), 0.f, 1.f);
            fade.at<float>(y, x) = t * t * (3 - 2 * t);
        }
    kept.push_back({context.regions(), detailUvSize, detailRoi, fade});
    return fade;
}

cv::Mat medianRelief(const std::vector<cv::Mat>& reliefs) {
    CV_Assert(!reliefs.empty());
    cv::Mat out;
    if (reliefs.size() == 3) {
        cv::Mat low, high;
        cv::min(reliefs[0], reliefs[1], low);
        cv::max(reliefs[0], reliefs[1], high);
        cv::min(high, reliefs[2], high);
        cv::max(low, high, out);
        return out;
    }
    CV_Assert(reliefs.size() < 3);
    out = reliefs[0].clone();
    for (std::size_t i = 1; i < reliefs.size(); ++i) out += reliefs[i];
    return out * (1.0 / double(reliefs.size()));
}

namespace {

// The median of bank faces' unit-strength reliefs. It depends on the seed's faces, not on the
// scale, so the last few are kept and a slider drag makes it once. Kept entries hold the faces'
// detail buffers they were made from, so a buffer's address cannot be reused by another (a
// painted copy of a model is another buffer).
cv::Mat medianUnitRelief(const AppearanceModel& model, const std::vector<int>& faces) {
    struct Kept {
        std::vector<cv::Mat> sources;
        std::vector<float> strengths;
        cv::Mat relief;
    };
    constexpr std::size_t kSetsKept = 4;
    static std::mutex mutex;
    static std::deque<Kept> kept;
    std::vector<cv::Mat> sources;
    std::vector<float> strengths;
    for (int face : faces) {
        sources.push_back(model.detail.at(std::size_t(face)));
        strengths.push_back(std::max(model.bank.at(std::size_t(face)).detailSd, 1e-4f));
    }
    auto same = [&](const Kept& k) {
        if (k.strengths != strengths) return false;
        for (std::size_t i = 0; i < sources.size(); ++i)
            if (k.sources[i].data != sources[i].data) return false;
        return true;
    };
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (const Kept& k : kept)
            if (same(k)) return k.relief;
    }
    std::vector<cv::Mat> unit;
    for (std::size_t i = 0; i < faces.size(); ++i) unit.push_back(model.detailOf(faces[i]) * (1.f / strengths[i]));
    const cv::Mat relief = medianRelief(unit);
    std::lock_guard<std::mutex> lock(mutex);
    kept.push_front({std::move(sources), std::move(strengths), relief});
    if (kept.size() > kSetsKept) kept.pop_back();
    return relief;
}

}  // namespace

float reliefSd(const cv::Mat& relief, const cv::Mat& weight) {
    cv::Scalar mean, sd;
    cv::meanStdDev(relief, mean, sd, (weight >= 0.5f) & (relief != 0.f));
    return float(sd[0]);
}

Eigen::VectorXf fitAlbedoCode(const AlbedoPca& pca, const cv::Mat& relative, const cv::Mat& weight, bool grey,
                              const AlbedoFitOptions& options) {
    const int k = pca.components();
    // On every other texel in x and y (pca.fitTexels): β is smooth in what it explains, and
    // the normal matrix costs K² per value.
    const std::size_t m = pca.fitTexels.size();
    // A grey photo shows each texel's luminance only: β is fitted to the luminance the model
    // predicts there (one value per texel), and its colour is left to the prior, instead of
    // asking every channel for that luminance (which pales red lips and dark make-up).
    const int channels = grey ? 1 : 3;
    Eigen::MatrixXf luminanceBasis;
    if (grey) {
        luminanceBasis.resize(Eigen::Index(m), k);
        for (int r = 0; r < k; ++r)
            for (Eigen::Index i = 0; i < Eigen::Index(m); ++i)
                luminanceBasis(i, r) = kLumaB * pca.fitBasis(3 * i, r) + kLumaG * pca.fitBasis(3 * i + 1, r) +
                                       kLumaR * pca.fitBasis(3 * i + 2, r);
    }
    const Eigen::MatrixXf& basis = grey ? luminanceBasis : pca.fitBasis;
    Eigen::VectorXf target(channels * Eigen::Index(m));
    Eigen::VectorXf trust(static_cast<Eigen::Index>(m));
    int seen = 0;
    for (std::size_t i = 0; i < m; ++i) {
        const int t = pca.fitTexels[i], pixel = pca.texels[std::size_t(t)];
        const int x = pixel % pca.roi.width, y = pixel / pca.roi.width;
        const cv::Vec3f v = relative.at<cv::Vec3f>(y, x);
        if (grey)
            target(Eigen::Index(i)) = kLumaB * (v[0] - pca.mean(3 * t)) + kLumaG * (v[1] - pca.mean(3 * t + 1)) +
                                      kLumaR * (v[2] - pca.mean(3 * t + 2));
        else
            for (int c = 0; c < 3; ++c) target(Eigen::Index(3 * i) + c) = v[c] - pca.mean(3 * t + c);
        trust(Eigen::Index(i)) = std::clamp(weight.at<float>(y, x), 0.f, 1.f);
        seen += trust(Eigen::Index(i)) > 0.5f;
    }
    if (seen < k) return Eigen::VectorXf::Zero(k);  // the photo saw too little of the face
    // The data term stands for four texels per used one (the prior keeps its weight). A
    // luminance residual is taken to vary as one channel's (the channels' residuals move together).
    const float noise = std::max(pca.residualVariance, 1e-6f) / 4.f;
    const float scale2 = options.outlierScale * options.outlierScale * float(channels) * std::max(pca.residualVariance, 1e-6f);
    Eigen::VectorXf code = Eigen::VectorXf::Zero(k);
    Eigen::VectorXf w = trust, perValue(channels * Eigen::Index(m));
    // The products run in BLAS (OpenBLAS chooses its kernels by the CPU at run time and uses
    // every core); the basis is K rows of n values there (Eigen's n x K, column-major).
    const int n = int(target.size());
    std::vector<float> scaled(std::size_t(k) * std::size_t(n)), normal(std::size_t(k) * std::size_t(k));
    std::vector<float> scaledTarget(static_cast<std::size_t>(n)), rhs(static_cast<std::size_t>(k));
    for (int iteration = 0; iteration < std::max(1, options.iterations); ++iteration) {
        for (Eigen::Index i = 0; i < Eigen::Index(m); ++i) perValue.segment(channels * i, channels).setConstant(std::sqrt(w(i) / noise));
        cv::parallel_for_(cv::Range(0, k), [&](const cv::Range& rows) {
            for (int r = rows.start; r < rows.end; ++r) {
                const float* in = basis.data() + std::size_t(r) * std::size_t(n);
                float* out = scaled.data() + std::size_t(r) * std::size_t(n);
                for (int j = 0; j < n; ++j) out[j] = in[j] * perValue(j);
            }
        });
        for (int j = 0; j < n; ++j) scaledTarget[std::size_t(j)] = target(j) * perValue(j);
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, n, 1.f, scaled.data(), n, 0.f, normal.data(), k);  // Bᵀ W B
        cblas_sgemv(CblasRowMajor, CblasNoTrans, k, n, 1.f, scaled.data(), n, scaledTarget.data(), 1, 0.f, rhs.data(), 1);  // Bᵀ W t
        Eigen::MatrixXf full =
            Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(normal.data(), k, k)
                .selfadjointView<Eigen::Lower>();
        full.diagonal().array() += 1.f;  // the N(0, I) prior
        code = full.ldlt().solve(Eigen::Map<const Eigen::VectorXf>(rhs.data(), k));
        // Cauchy weights on each texel's residual: occluders, moles, make-up are outliers.
        Eigen::VectorXf residual = target;
        cblas_sgemv(CblasColMajor, CblasNoTrans, n, k, -1.f, basis.data(), n, code.data(), 1, 1.f, residual.data(), 1);
        for (Eigen::Index i = 0; i < Eigen::Index(m); ++i) {
            // A colour texel: a fixed-size sum, in the order the colour fit has always summed in.
            const float squared = grey ? residual(i) * residual(i) : residual.segment<3>(3 * i).squaredNorm();
            w(i) = trust(i) / (1.f + squared / scale2);
        }
    }
    return code;
}

AppearanceFit fitAppearance(const FaceModelContext& context, const AppearanceModel& model, const cv::Mat& albedo,
                            const cv::Mat& weight, const std::optional<ApparentAttributes>& attributes) {
    const AlbedoPca& pca = model.pca;
    AppearanceFit fit;
    // The sharpness of the photo's skin relief is measured while the code is fitted (on another
    // core when there is one): it needs neither.
    auto measureRelief = [&] {
        ScopedStage stage("fit: appearance code: relief (beside the code fit)");
        const cv::Mat relief = detailRelief(context, albedo, weight, model.detailUvSize, model.detailRoi);
        return reliefSd(relief, toGrid(weight, cv::Mat(), context.uvSize(), model.detailUvSize, model.detailRoi));
    };
    auto reliefLater = startBeside(measureRelief);
    std::optional<ScopedStage> sub(std::in_place, "fit: appearance code: tone");
    cv::Mat trusted = weight.clone();
    trusted.setTo(0, context.openingRims());
    fit.tone = skinTone(context, albedo, trusted);
    fit.grey = isGreyTone(fit.tone);
    sub.reset();
    sub.emplace("fit: appearance code: relative albedo");
    const RelativeAlbedo relative = relativeAlbedo(context, albedo, trusted, fit.tone, fit.grey, pca.uvSize, pca.roi,
                                                   kLightField);
    fit.broad = relative.broad;
    fit.light = relative.light;
    sub.reset();
    sub.emplace("fit: appearance code: code (least squares)");
    fit.code = fitAlbedoCode(pca, relative.structure, relative.weight, fit.grey);
    sub.reset();
    fit.reliefSd = reliefLater.get();
    sub.emplace("fit: appearance code: neighbours");
    chooseNeighbours(model, fit, attributes);
    return fit;
}

void chooseNeighbours(const AppearanceModel& model, AppearanceFit& fit, const std::optional<ApparentAttributes>& attributes) {
    // Apparent age and gender: the photo's when known, else those of its nearest bank faces.
    std::vector<std::pair<float, int>> byDistance;
    for (std::size_t i = 0; i < model.bank.size(); ++i)
        byDistance.emplace_back((model.bank[i].coefficients - fit.code).squaredNorm(), int(i));
    std::sort(byDistance.begin(), byDistance.end());
    fit.attributes = attributes.value_or(ApparentAttributes{});
    if (!attributes) {
        const std::size_t n = std::min<std::size_t>(7, byDistance.size());
        for (std::size_t i = 0; i < n; ++i) {
            fit.attributes.age += model.bank[std::size_t(byDistance[i].second)].age / float(n);
            fit.attributes.gender += model.bank[std::size_t(byDistance[i].second)].gender / float(n);
        }
    }
    // Peers: every bank face of the apparent sex and age band, the band widened until there are
    // enough. Neighbours: the nearest of them by code.
    const bool male = fit.attributes.gender > 0.5f;
    for (float band : {8.f, 12.f, 18.f, 27.f, 1000.f}) {
        fit.peers.clear();
        for (std::size_t i = 0; i < model.bank.size(); ++i)
            if ((model.bank[i].gender > 0.5f) == male && std::abs(model.bank[i].age - fit.attributes.age) <= band)
                fit.peers.push_back(int(i));
        if (int(fit.peers.size()) >= kNeighbours) break;
    }
    std::vector<char> isPeer(model.bank.size(), 0);
    for (int i : fit.peers) isPeer[std::size_t(i)] = 1;
    fit.neighbours.clear();
    for (const auto& [distance, i] : byDistance) {
        if (int(fit.neighbours.size()) == kNeighbours) break;
        if (isPeer[std::size_t(i)]) fit.neighbours.push_back(i);
    }
    for (const auto& [distance, i] : byDistance) {  // a bank without that sex: the nearest of any
        if (int(fit.neighbours.size()) >= kDetailFaces) break;
        if (std::find(fit.neighbours.begin(), fit.neighbours.end(), i) == fit.neighbours.end()) fit.neighbours.push_back(i);
    }
    if (fit.peers.empty())  // a bank without that sex: every face
        for (std::size_t i = 0; i < model.bank.size(); ++i) fit.peers.push_back(int(i));
    // In the bank's order: the seed picks from the set of near faces, so a slight change of the
    // photo (a mark, another JPEG quality) that only reorders them keeps the same detail.
    std::sort(fit.neighbours.begin(), fit.neighbours.end());
}

DetailMix chooseDetail(const AppearanceFit& fit, std::uint64_t seed) {
    DetailMix mix;
    std::vector<int> pool = fit.neighbours;
    SeededRandom random(seed ^ 0x9E3779B97F4A7C15ull);
    const int count = std::min<int>(kDetailFaces, int(pool.size()));
    float total = 0;
    for (int i = 0; i < count; ++i) {
        const std::size_t pick = std::size_t(random.nextBits() % std::uint64_t(pool.size()));
        mix.faces.push_back(pool[pick]);
        pool.erase(pool.begin() + std::ptrdiff_t(pick));
        mix.weights.push_back(float(0.5 + random.uniform()));
        total += mix.weights.back();
    }
    for (float& w : mix.weights) w /= total;
    return mix;
}

cv::Mat synthesizeAlbedo(const FaceModelContext& context, const AppearanceModel& model, const AppearanceFit& fit,
                         const Eigen::VectorXf& values, float detailAmount, std::uint64_t detailSeed, float lightOnly) {
    const AlbedoPca& pca = model.pca;
    std::optional<ScopedStage> sub(std::in_place, "albedo: model image");
    cv::Mat relative = pca.toImage(values, true);  // the roi's corners filled, for the upsampling
    {
        // Towards the model's outline, the broad field alone (the gallery's hairlines reach there).
        cv::Mat fade3;
        cv::merge(std::vector<cv::Mat>{pca.topFade, pca.topFade, pca.topFade}, fade3);
        relative = cv::Scalar::all(1) + (relative - cv::Scalar::all(1)).mul(fade3);
    }
    if (!fit.broad.empty()) {
        // X_f keeps the photo's broad field; X_p moves to its light alone as the scale grows.
        if (lightOnly > 0 && !fit.light.empty()) relative = relative.mul(fit.broad + (fit.light - fit.broad) * lightOnly);
        else relative = relative.mul(fit.broad);
    }
    sub.reset();
    sub.emplace("albedo: upsample");
    cv::Mat albedo;
    cv::resize(relative, albedo, model.detailRoi.size(), 0, 0, cv::INTER_LINEAR);
    std::vector<cv::Mat> c;
    cv::split(albedo, c);
    if (fit.grey) {
        const cv::Mat lum = luminance(c);
        c = {lum.clone(), lum.clone(), lum.clone()};
    }
    sub.reset();
    sub.emplace("albedo: detail mix");
    cv::Mat detail;
    if (detailAmount > 0 && detailSeed != 0 && !fit.neighbours.empty()) {
        const DetailMix mix = chooseDetail(fit, detailSeed);
        // The median of the bank faces' relief, each at unit strength (medianRelief).
        const cv::Mat median = medianUnitRelief(model, mix.faces);
        float bankSd = 0;
        for (std::size_t i = 0; i < mix.faces.size(); ++i) bankSd += mix.weights[i] * model.bank[std::size_t(mix.faces[i])].detailSd;
        // At the bank faces' own strength, or less where the photo is softer (a blurred or small
        // face shows less relief). The median is not brought back to unit variance: it keeps
        // what the faces share (creases, folds) at their strength and what each has alone
        // (pores) weaker; rescaled, the creases came out about a third deeper than in any of
        // the three, and the faces read older.
        detail = median * (detailAmount * std::min(bankSd, fit.reliefSd));
        detail = detail.mul(eyeMarginFade(context, model.detailUvSize, model.detailRoi));
    }
    for (int i = 0; i < 3; ++i) {
        if (!detail.empty()) c[std::size_t(i)] = c[std::size_t(i)].mul(1.f + detail);
        cv::max(c[std::size_t(i)], 0.0, c[std::size_t(i)]);
    }
    cv::merge(c, albedo);
    cv::Mat out = cv::Mat::zeros(model.detailUvSize, model.detailUvSize, CV_32FC3);
    albedo.copyTo(out(model.detailRoi));
    sub.reset();
    sub.emplace("albedo: tone match");
    // The skin-tone family is the photo's: the same measure on the new albedo, matched.
    const cv::Vec3f tone = detailTone(context, out);
    const cv::Scalar gain(fit.tone[0] / tone[0], fit.tone[1] / tone[1], fit.tone[2] / tone[2]);
    cv::multiply(out(model.detailRoi), gain, out(model.detailRoi));
    return out;
}

}  // namespace ideu
