#pragma once
// A face's albedo in the learned appearance model: what is measured from a photo's UV
// texture once (the code β, the skin-tone family, the sharpness of its skin relief, the bank
// faces near it) and the albedo synthesised from a code (X_f from β, X_p from β' plus skin
// detail mixed from bank faces). Nothing of the photo's own skin texture enters the
// synthesised albedo: only the three numbers of its mean skin colour and the sharpness of its
// relief (one number) are kept.
#include "appearance/appearance_model.h"
#include "morphable/face_model_context.h"

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace ideu {

// Skin-tone family: the weighted per-channel median of an albedo (CV_32FC3, atlas-sized) over
// the cheeks, forehead and nose sides (the skin above the mouth, so a beard does not count),
// where `weight` (CV_32F, atlas-sized; empty = all) is at least 0.5. BGR.
cv::Vec3f skinTone(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight = cv::Mat());


// Where a beard or stubble grows, as weights on the model grid's roi (CV_32F, skin only, away
// from the openings' rims): the upper lip, the chin and its centre, and the lower cheeks down
// to the jaw; and their reference, the skin the skin tone is measured on (above the nose's
// base). The noise does not move the colour contrast between them
// (AppearanceModel::keepAreaContrasts), and z'_id takes it from bank faces (areaShift).
struct BeardAreas {
    std::vector<cv::Mat> areas;
    cv::Mat reference;
};
BeardAreas beardAreas(const FaceModelContext& context, const AlbedoPca& pca);

// A grey photo: its skin tone has no colour (the albedo is then synthesised grey).
bool isGreyTone(const cv::Vec3f& tone);

// An atlas-sized image (CV_32FC3 or CV_32F) as the model grid's roi: pixels with weight 0 are
// first filled from their neighbours (so texels at the face's edge do not take the empty
// border), then the image is averaged down. `weight` may be empty (all valid).
cv::Mat toGrid(const cv::Mat& atlasImage, const cv::Mat& weight, int atlasSize, int gridSize, const cv::Rect& gridRoi);

// A face's albedo as the model sees it, on the model grid's roi: divided by its skin tone
// (the relative albedo), and split into its broad field — the light the shading model did not
// explain and the skin's own colour field: a weighted blur over the skin with the features
// (brows, eyes, nose, lips) left out — and the structure the model learns: relative over
// broad, specular highlights clipped. A grey face is made grey (luminance in every channel).
struct RelativeAlbedo {
    cv::Mat structure;  // CV_32FC3
    cv::Mat broad;      // CV_32FC3
    cv::Mat weight;     // CV_32F: how far each texel is to be trusted
    cv::Mat light;      // CV_32FC3: the same blur at `lightSigma` (the light alone; empty when 0)
};
RelativeAlbedo relativeAlbedo(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight,
                              const cv::Vec3f& tone, bool grey, int gridSize, const cv::Rect& gridRoi,
                              double lightSigma = 0);

// Relative luminance relief of an albedo in the detail band (CV_32F, detail roi-sized): the
// albedo averaged to the detail grid, its luminance over a smooth version of it minus one,
// band-passed, and faded out over the brows, eyes, lips and nostrils (their edges are not skin
// relief and would ghost on another face).
cv::Mat detailRelief(const FaceModelContext& context, const cv::Mat& albedo, const cv::Mat& weight, int detailUvSize,
                     const cv::Rect& detailRoi);
// Standard deviation of a relief over the skin texels where `weight` (detail roi-sized) >= 0.5.
float reliefSd(const cv::Mat& relief, const cv::Mat& weight);

struct AlbedoFitOptions {
    int iterations = 3;        // robust reweighting passes (occluders, moles and make-up are outliers)
    float outlierScale = 3.f;  // Cauchy scale in residual standard deviations
};

// β: the code whose relative albedo best explains `relative` (roi-sized CV_32FC3, the photo's
// albedo over its skin tone) where `weight` (roi-sized CV_32F) is high: regularised least
// squares with the PCA prior N(0, I) and the model's residual variance as the noise. `grey`:
// the photo is black and white (`relative` holds its luminance in every channel), and β is
// fitted to the luminance the model predicts, its colour left to the prior.
Eigen::VectorXf fitAlbedoCode(const AlbedoPca& pca, const cv::Mat& relative, const cv::Mat& weight, bool grey = false,
                              const AlbedoFitOptions& options = {});

struct ApparentAttributes {
    float age = 0;     // years
    float gender = 0;  // > 0.5: male
};

// Everything Step I keeps about a face's appearance (computed once at fit time).
struct AppearanceFit {
    Eigen::VectorXf code;       // β, N(0, 1) units
    cv::Vec3f tone{0, 0, 0};    // the skin-tone family (BGR mean skin albedo), kept from the photo
    cv::Mat broad;              // the photo's broad field (light and skin colour field, no features): X_f's
    cv::Mat light;              // its coarsest part (the light the SH model did not explain): what X_p keeps
    bool grey = false;          // a black-and-white photo: the albedo is grey
    float reliefSd = 0;         // the photo's skin relief (sharpness and age of the skin); the bank detail is matched to it
    ApparentAttributes attributes;
    std::vector<int> neighbours;  // bank faces near this face (same apparent sex and age band, nearest codes), in bank order
    // Every bank face of the face's apparent sex and age band (±8 years, widened until there
    // are 10), in bank order: where z'_id's beard areas take their colour. Unlike the
    // neighbours they do not depend on the photo's own code.
    std::vector<int> peers;
};

// Fits the appearance of a photo's texture (`albedo` and `weight` atlas-sized: the photo's
// albedo and how much each texel is to be trusted: visibility x skin confidence).
// `attributes`: the photo's apparent age and gender when known (FaceRes); without them they
// are estimated from the nearest bank faces in model space.
AppearanceFit fitAppearance(const FaceModelContext& context, const AppearanceModel& model, const cv::Mat& albedo,
                            const cv::Mat& weight, const std::optional<ApparentAttributes>& attributes);

// A fit's apparent age and gender (`attributes` when known, else those of its nearest bank
// faces) and its bank neighbours and peers, for its code (fitAppearance does this with what it was given).
void chooseNeighbours(const AppearanceModel& model, AppearanceFit& fit, const std::optional<ApparentAttributes>& attributes);

// The bank faces a code's detail is mixed from (≥ 3), chosen by the seed among the face's
// neighbours, and their weights (summing to one).
struct DetailMix {
    std::vector<int> faces;
    std::vector<float> weights;
};
DetailMix chooseDetail(const AppearanceFit& fit, std::uint64_t seed);

// Per texel, the median of three reliefs (two or one: their mean): what one bank face alone
// has there (a frame of glasses the builder's screen missed, a mole, a stray hair) is left
// out, what most of them share (their age's creases, pores) stays.
cv::Mat medianRelief(const std::vector<cv::Mat>& reliefs);
// Detail-roi-sized CV_32F: 0 near the model's eye regions, rising smoothly to 1 a few texels
// out. The bank faces' relief there is their lashes and eyeliner, and the halo the band-pass
// draws beside them, not skin; beside the photo's own eye openings they showed as bright rims.
cv::Mat eyeMarginFade(const FaceModelContext& context, int detailUvSize, const cv::Rect& detailRoi);

// The albedo of a code on the detail grid (CV_32FC3, detailUvSize², zero outside the detail
// roi) from the code's model values (`values`: pca.reconstruct(code), or perturbedValues):
// field ⊙ model(code) ⊙ (1 + detailAmount · bank detail), the detail the median of the
// seed's bank faces (medianRelief) faded out at the eyes (eyeMarginFade), where the field goes from
// the photo's broad field (lightOnly 0) to its light alone (lightOnly 1), the detail as
// strong as in its bank faces (age-appropriate) or as the photo's relief where that is weaker
// (a soft or small face) — the median of the faces at that strength, so what they share keeps
// its depth — scaled so its skin tone (as skinTone measures it) is the photo's.
// detailAmount 0 is the plain model fit (X_f).
cv::Mat synthesizeAlbedo(const FaceModelContext& context, const AppearanceModel& model, const AppearanceFit& fit,
                         const Eigen::VectorXf& values, float detailAmount, std::uint64_t detailSeed, float lightOnly = 0);

}  // namespace ideu
