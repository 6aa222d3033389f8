#pragma once
// The pipeline controller for one photo. Faces are detected once; each face is fitted once
// (Step I's expensive part) and cached; a change of scale or seed re-runs only
// perturb -> render -> hybrid -> restore -> paste. Thread-safe: several threads may process
// faces of the same photo; long calls check a cancellation token between stages.
#include "common/cancel.h"
#include "deid/fitted_face.h"
#include "deid/perturbed_face.h"
#include "io/image_io.h"
#include "nets/neural_backends.h"
#include "parsing/face_parser.h"
#include "recognition/face_identity.h"
#include "restoration/hybrid.h"
#include "restoration/restorer.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ideu {

// The default noise scale (see README "Privacy" for how it was chosen: the smallest of the
// measured scales at which even the weakest of seeds 1-6 leaves at most 5 % of the pairs of a
// person's other photos linked) and the largest the editor and the command line offer.
constexpr double kDefaultScale = 0.5;
constexpr double kMaxScale = 0.8;

struct DeidSettings {
    double scale = kDefaultScale;
    std::uint64_t seed = 1;
    NoiseSettings noise;
    HybridOptions hybrid;
    // Per-run backend overrides (null: the pipeline's own); the editor previews with the
    // default backends and refines with the neural ones.
    std::shared_ptr<const FaceParser> parser;
    std::shared_ptr<const Restorer> restorer;
    bool useHead = true;  // use the pipeline's HeadNeRF head when set and fitted
};

// Everything one face's run produced (crop-sized images), less the intermediates the restore
// consumed: perturbed.albedo and hybrid.foreground are empty.
struct FaceResult {
    int index = -1;
    std::shared_ptr<const FittedFace> fitted;
    PerturbedFace perturbed;
    Hybrid hybrid;
    cv::Mat final;  // X', CV_8UC3 crop
    // Which backend produced each stage ("mesh", "bisenet", "blend", "gfpgan", "headnerf").
    std::string parser = "mesh", restorer = "blend", head = "mesh";
    cv::Mat headFitted;  // X_f rendered by HeadNeRF (CV_8UC3 on grey), when that head is used
    // A face the 3-D pipeline cannot anonymize is blurred instead (restoration/fallback_blur.h);
    // `final` is then the blurred crop and perturbed/hybrid are empty.
    bool blurred = false;
    std::string fallbackReason;
};

// What happened to each detected face of a photo: every face is anonymized, blurred (with the
// reason) or left out because the user did not select it; none passes unchanged otherwise.
enum class FaceProtection { Anonymized, Blurred, NotSelected };
struct FaceOutcome {
    int index = -1;
    FaceProtection protection = FaceProtection::Anonymized;
    std::string reason;  // why it was blurred or not processed
    std::string caution;  // for an anonymized face: why its protection may be weaker (DeidPipeline::caution)
};
const char* protectionName(FaceProtection protection);

// The largest mean landmark error of the 51 inner points (in outer-eye-corner distances) that
// the 3-D fit may leave: a worse fit would re-render a different face in the wrong place, so
// the face is blurred instead. Fits of the developer set stay below 0.08 (bench fit).
constexpr double kMaxFitError = 0.15;

// A face's paste as a BGRA layer (CV_8UC4, alpha the paste weight) over a scaled photo.
struct PasteLayer {
    cv::Point origin;  // top-left pixel in the scaled photo
    cv::Mat bgra;
};

// The stage images the GUI and `--stages` show, in display order.
struct StageImage {
    std::string key;    // file-name friendly: X, landmarks, fit, X_f, X_p, masks, X_l, X_final
    std::string title;  // for people
    cv::Mat image;      // CV_8UC3
};
struct StageName {
    const char* key;
    const char* title;
};
const std::vector<StageName>& stageNames();  // all stages, in display order
// The stages of the cached fit (X, landmarks, fit, X_f): they do not change with scale or seed.
std::vector<StageImage> fittedStageImages(const FaceModelContext& context, const FittedFace& face);
// The stages one run produced (X_p, masks, X_l, X_final).
std::vector<StageImage> runStageImages(const FaceResult& result);
// Both; X_f is HeadNeRF's when the run used that head.
std::vector<StageImage> stageImages(const FaceModelContext& context, const FaceResult& result);

class DeidPipeline {
public:
    // Takes the loaded photo; detection runs on first use.
    explicit DeidPipeline(Image photo, DetectionOptions detection = {});

    const Image& photo() const { return photo_; }
    const std::vector<DetectedFace>& faces(const CancelToken& cancel = {});
    std::shared_ptr<const FittedFace> fitted(int face, const CancelToken& cancel = {});
    // Step I + II for one face.
    FaceResult processFace(int face, const DeidSettings& settings, const CancelToken& cancel = {});
    // All selected faces (every face when `selected` is empty) pasted into the photo.
    cv::Mat anonymize(const DeidSettings& settings, const std::set<int>& selected, const CancelToken& cancel = {},
                      std::vector<FaceResult>* results = nullptr, std::vector<FaceOutcome>* outcomes = nullptr);
    // The same, one face at a time: each result is pasted, handed to `onFace` and dropped, and
    // with `releaseFaces` its cached fit too, so memory does not grow with the number of faces.
    // A face whose processing fails (other than by cancellation or a model file error) is
    // blurred and reported.
    cv::Mat anonymizeEach(const DeidSettings& settings, const std::set<int>& selected,
                          const std::function<void(const FaceResult&)>& onFace, std::vector<FaceOutcome>* outcomes,
                          bool releaseFaces, const CancelToken& cancel = {});
    // Why face `face` is blurred rather than anonymized ("" when it is not): turned beyond the
    // fitter's range, or a fit worse than kMaxFitError. Fits the face.
    std::string fallbackReason(int face, const CancelToken& cancel = {});
    // Why face `face`, anonymized, may be less protected or less natural than others ("" when
    // nothing is known against it): an apparent age below every face of the appearance
    // model's gallery (a child's face becomes an adult's, and recognisers tell children apart
    // poorly). Fits the face.
    std::string caution(int face, const CancelToken& cancel = {});
    // Drops the cached fit and parsing of a face (refitted when used again).
    void releaseFace(int face);
    // Candidates the detectors saw and rejected, with the reasons.
    const std::vector<RejectedCandidate>& rejected(const CancelToken& cancel = {});
    const DetectionOptions& detectionOptions() const { return detection_; }
    // Pastes already processed faces into a copy of the photo (in the given order).
    cv::Mat compose(const std::vector<FaceResult>& results) const;
    // The same faces as layers for a view of the photo scaled by `scale` (≤ 1), in paste
    // order (pasteLayer): laid over the photo so scaled, they show compose's result at the
    // view's resolution, for a fraction of its work on a large photo.
    std::vector<PasteLayer> pasteLayers(const std::vector<FaceResult>& results, double scale) const;

    void setParser(std::shared_ptr<const FaceParser> parser);
    void setRestorer(std::shared_ptr<const Restorer> restorer);
    // HeadNeRF as the Step I head for faces whose codes were fitted (nullptr: the 3DMM mesh).
    void setHead(std::shared_ptr<const HeadNerfHead> head);
    // Fits HeadNeRF's codes to a face (slow); cached per face. `progress(step, loss)` may
    // return false to stop early.
    HeadNerfCodes fitHead(int face, int steps, const std::function<bool(int, double)>& progress = {});
    bool hasHeadCodes(int face);
    // What both recognisers read from a face in the original photo; cached per face (every
    // identity check of that face compares against it).
    FaceIdentity originalIdentity(int face, const CancelToken& cancel = {});
    const FaceModelContext& context() const { return context_; }
    const AppearanceModel& appearanceModel() const { return model_; }

private:
    Image photo_;
    DetectionOptions detection_;
    const FaceModelContext& context_;
    const AppearanceModel& model_;
    std::shared_ptr<const FaceParser> parser_;
    std::shared_ptr<const Restorer> restorer_;
    std::shared_ptr<const HeadNerfHead> head_;

    std::mutex mutex_;  // guards the lazily filled members below
    bool detected_ = false;
    std::vector<DetectedFace> faces_;
    std::vector<RejectedCandidate> rejected_;
    struct FaceCache {
        std::mutex mutex;
        std::shared_ptr<const FittedFace> fitted;
        std::map<std::string, cv::Mat> parsingX;  // by parser name
        std::shared_ptr<const HeadNerfCodes> headCodes;
        std::optional<FaceIdentity> originalIdentity;
        std::optional<FaceResOutput> faceres;  // of the original face (also its apparent age and gender)
        bool faceresDone = false;
    };
    std::vector<std::unique_ptr<FaceCache>> cache_;
    FaceCache& cacheFor(int face);
};

// Paste margin (feather) in crop pixels.
constexpr double kPasteFeather = 8;

}  // namespace ideu
