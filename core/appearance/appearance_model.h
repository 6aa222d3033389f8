#pragma once
// The learned appearance model of Step I (the 3DMM's albedo part, which ICT-FaceKit lacks),
// built from a gallery of faces of nobody by `ideudemon-cli build-appearance-model`:
//  * a PCA model of the face's *relative* albedo in UV space (each gallery albedo divided by
//    its own mean skin colour), shaped like eos's PcaModel: mean, orthonormal basis, one
//    standard deviation per mode; coefficients are in N(0, 1) units;
//  * each accepted gallery face's coefficients, apparent age and gender (FaceRes);
//  * a detail bank: each gallery face's fine skin relief (pores, fine lines) in UV.
// The skin-tone family is deliberately not in the model: the photo's own mean skin colour
// multiplies the relative albedo back (see albedo_synthesis.h).
#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ideu {

// The last few noise directions of albedo codes in model values (see AlbedoPca::noiseDirection).
struct AlbedoNoiseDirections {
    std::mutex mutex;
    struct Entry {
        const float* basis;     // the basis they were made with (copies of a model share this cache)
        Eigen::VectorXf noise;  // per unit of scale
        Eigen::VectorXf values; // basis * (stddev ⊙ noise)
    };
    std::deque<Entry> entries;
};

struct AlbedoPca {
    int uvSize = 0;            // the UV grid the model lives on (the atlas scaled down)
    cv::Rect roi;              // the modelled texels lie in this box of that grid
    cv::Mat mask;              // CV_8U, roi-sized, 255 on the modelled texels
    std::vector<int> texels;   // roi pixel index (row-major) of each modelled texel
    Eigen::VectorXf mean;      // 3T: B, G, R per texel; 1 = the face's mean skin colour
    Eigen::MatrixXf basis;     // 3T x K, orthonormal columns, by decreasing variance
    Eigen::VectorXf stddev;    // K: standard deviation of each mode
    float residualVariance = 0;  // per value: what the K modes leave unexplained on the gallery
    // For fitting codes: the texels on every other row and column, and the basis scaled by
    // the standard deviations on them (3 values per texel), made by prepareFit().
    std::vector<int> fitTexels;
    Eigen::MatrixXf fitBasis;
    // CV_32F roi-sized, 1 inside, falling to 0 at the model's outline (widely over the
    // forehead and temples, where the gallery's hairlines reach in): the structure fades to the
    // face's broad field there.
    cv::Mat topFade;
    void prepareFit();

    int components() const { return int(basis.cols()); }
    int texelCount() const { return int(texels.size()); }
    // mean + basis * (stddev ⊙ coefficients), 3T values.
    Eigen::VectorXf reconstruct(const Eigen::VectorXf& coefficients) const;
    // The values of a perturbed code (a code plus scale·noise) from the code's own
    // reconstruction (`projection`): projection + scale·basis·(stddev ⊙ noise). The noise's
    // product with the basis depends on the seed alone and is kept for the last few noises, so a change of
    // scale costs one multiply-add over the values instead of the product (42 MB read).
    Eigen::VectorXf perturbedValues(const Eigen::VectorXf& projection, const Eigen::VectorXf& noise, float scale) const;
    std::shared_ptr<AlbedoNoiseDirections> noiseDirections = std::make_shared<AlbedoNoiseDirections>();
    // A 3T vector as a roi-sized CV_32FC3 image: zero outside the mask, or (filled) the
    // nearest modelled texel's value there.
    cv::Mat toImage(const Eigen::VectorXf& values, bool filled = false) const;
    std::vector<int> nearestTexel;  // per roi pixel: the modelled texel nearest to it (prepareFit)
    // The mirror image of each modelled texel (u -> 1 - u in UV; -1 where it is not modelled),
    // and the modes that are mirror-antisymmetric (most of their energy changes sign in the
    // mirror: the gallery's light from one side), made by prepareFit(). A pack built from the
    // gallery and its mirror images has every mode either symmetric or antisymmetric.
    std::vector<int> mirrorTexel;
    std::vector<int> antisymmetricModes;
    // The share of a 3T vector's energy that is antisymmetric in the mirror (0: symmetric).
    double antisymmetricShare(const Eigen::VectorXf& values) const;
};

struct BankFace {
    std::string file;              // gallery photo (its file name)
    Eigen::VectorXf coefficients;  // its model coefficients
    Eigen::VectorXf shape;         // its 3-D shape code α (the morphable model's identity coefficients)
    float age = 0;                 // FaceRes apparent age (years)
    float gender = 0;              // FaceRes gender score (> 0.5: male)
    float detailSd = 0;            // standard deviation of its detail on the skin
};

// A ridge regression of the bank's apparent age (years) and gender (the logit of FaceRes's
// score) on one part of the identity code.
struct AttributeRegression {
    Eigen::MatrixXf directions;  // orthonormal columns spanning the weights (age first)
    Eigen::MatrixXf weights;     // code size × 2: age, gender logit
    Eigen::VectorXf codeMean;    // the bank's mean code (the regression is centred on it)
    Eigen::Vector2f readingMean{0, 0};  // the bank's mean age and gender logit
    // The range of readings the bank spans (its kAttributeRangeQuantile quantiles): beyond
    // it the regression extrapolates to codes no gallery face has.
    Eigen::Vector2f low{0, 0}, high{0, 0};
    // How much of a reading's distance from the mean the bank's codes carry on average (the
    // slope of the regression's predictions on the readings: below 1, the rest is in cues
    // the code does not hold).
    Eigen::Vector2f slope{1, 1};
    // The age and gender logit the regression reads from `code`.
    Eigen::Vector2f reads(const Eigen::VectorXf& code) const;
    // The move along `directions` after which `code` reads, by this regression, as an average
    // bank face of this apparent age (within the bank's range) and of this sex, read
    // confidently (the range's end), does (zero without a regression).
    Eigen::VectorXf shiftTo(const Eigen::VectorXf& code, float age, float gender) const;
};

constexpr double kAttributeRangeQuantile = 0.05;

struct AppearanceModel {
    AlbedoPca pca;
    int detailUvSize = 0;          // the detail bank's UV grid
    cv::Rect detailRoi;            // at that grid
    float detailQuantum = 0;       // int8 step of the stored detail (relative luminance)
    std::vector<BankFace> bank;
    std::vector<cv::Mat> detail;   // per bank face: CV_8S, detailRoi-sized
    double varianceExplained = 0;  // by the K modes, on the gallery
    std::string sha256;            // of the binary
    nlohmann::json header;         // as read (build options, gallery, skipped photos)
    // The bank's apparent age and gender regressed on the albedo code and on the shape code.
    // The identity noise is kept off their directions (see perturbIdentity), and z'_id's part
    // along them is set from the photo's apparent age and gender (shiftTo), so a new identity
    // keeps them. Made by prepareAttributes().
    AttributeRegression albedoAttributes, shapeAttributes;
    // The bank's mean shape code: the average face as the landmark fit sees faces (the
    // morphable model's own mean lies far from it, |mean α| about 4 here). What z'_id keeps of
    // a photo's α is measured from it. Made by prepareAttributes() too. (The shape
    // regression's codeMean is the same mean summed in double: they differ in the last bits,
    // and the output bytes follow them.)
    Eigen::VectorXf shapeMean;
    // What z'_id keeps of β (orthonormal columns): the attribute directions and, once
    // keepAreaContrasts has run, the directions that set the beard areas' colour (albedoAreas).
    Eigen::MatrixXf albedoKept;
    // The kept columns after the attribute directions: those of the beard areas.
    Eigen::MatrixXf albedoAreas() const;
    // What the albedo noise is kept off: the kept directions and the antisymmetric modes
    // (a face's albedo is symmetric; noise there only draws light from one side), orthonormal.
    Eigen::MatrixXf albedoNoiseOff;
    // The model values of the kept directions (pca.basis · diag(stddev) · albedoKept).
    Eigen::MatrixXf albedoKeptValues;
    void prepareAttributes();
    // Adds to the kept directions, for each area (model-grid roi-sized CV_32F weights), the
    // three directions of β that set its mean colour (B, G, R) against that of `reference`:
    // with them kept, the noise cannot change that contrast. Over the upper lip, chin and jaw
    // it is how dark and grey a beard or stubble is: the noise drew moustache and goatee
    // shadows on women without it.
    void keepAreaContrasts(const std::vector<cv::Mat>& areas, const cv::Mat& reference);
    // The move along albedoAreas that gives `code` the mean coordinates there of the bank
    // faces `faces` (a photo's peers: every face of its apparent sex and age band), zero
    // without them. z'_id takes its beard areas' colour from those faces of nobody: with the
    // photo's own kept there the whole-head recogniser matched 7 points more outputs to
    // their originals; from the photo's nearest codes, FaceRes kept the gender of fewer.
    Eigen::VectorXf areaShift(const Eigen::VectorXf& code, const std::vector<int>& faces) const;
    // The apparent age of the bank's youngest face (0 without a bank): below it, neighbours,
    // peers and detail come from older faces.
    float youngestAge() const;
    void prepareKept();  // albedoNoiseOff and albedoKeptValues from albedoKept
    // Per model value (texel and colour), the range the gallery's central faces span there:
    // the kGalleryRangeQuantile and 1 − kGalleryRangeQuantile quantiles of the bank faces'
    // reconstructions. X_p's albedo is kept inside it, because the albedo noise (1.5 standard
    // deviations per mode at the default) otherwise adds up, around the eyes, nostrils and
    // lips, to colours no gallery face has there (glowing rims). Made by prepareGalleryRange().
    Eigen::VectorXf albedoLow, albedoHigh;
    void prepareGalleryRange();
    // The values of a code's part along the kept directions (what X_p keeps of the photo's
    // β, see keptCode): the mean plus a product with a few columns.
    Eigen::VectorXf keptValues(const Eigen::VectorXf& code) const;

    // A bank face's detail as relative luminance (CV_32F, detailRoi-sized).
    cv::Mat detailOf(int face) const;
};

// Reads `<stem>.json` and the `<stem>.bin` beside it, validating the format, version, every
// array and the binary's SHA-256. Throws ModelError naming the file and what is wrong.
AppearanceModel loadAppearanceModel(const std::string& jsonPath);
// Writes the pack atomically (same model -> the same bytes); returns the binary's SHA-256.
// `info` goes into the header.
std::string writeAppearanceModel(const AppearanceModel& model, const std::string& jsonPath, const nlohmann::json& info);
// The pack from the model store, loaded once.
const AppearanceModel& sharedAppearanceModel();

constexpr double kGalleryRangeQuantile = 0.1;
constexpr const char* kAppearancePackFormat = "ideu-appearance-pack";
constexpr int kAppearancePackVersion = 1;

}  // namespace ideu
