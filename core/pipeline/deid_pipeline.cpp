#include "pipeline/deid_pipeline.h"

#include "align/face_align.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/profile.h"
#include "restoration/fallback_blur.h"

#include <cstdio>
#include <future>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace ideu {

DeidPipeline::DeidPipeline(Image photo, DetectionOptions detection)
    : photo_(std::move(photo)),
      detection_(detection),
      context_(FaceModelContext::shared()),
      model_(sharedAppearanceModel()),
      parser_(std::make_shared<MeshLandmarkParser>()),
      restorer_(std::make_shared<BlendRestorer>()) {}

void DeidPipeline::setParser(std::shared_ptr<const FaceParser> parser) {
    std::lock_guard<std::mutex> lock(mutex_);
    parser_ = std::move(parser);
    for (auto& c : cache_) {
        std::lock_guard<std::mutex> faceLock(c->mutex);
        c->parsingX.clear();
    }
}

void DeidPipeline::setRestorer(std::shared_ptr<const Restorer> restorer) {
    std::lock_guard<std::mutex> lock(mutex_);
    restorer_ = std::move(restorer);
}

void DeidPipeline::setHead(std::shared_ptr<const HeadNerfHead> head) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (head_ != head)
        for (auto& c : cache_) {
            std::lock_guard<std::mutex> faceLock(c->mutex);
            c->headCodes.reset();
        }
    head_ = std::move(head);
}

HeadNerfCodes DeidPipeline::fitHead(int face, int steps, const std::function<bool(int, double)>& progress) {
    std::shared_ptr<const HeadNerfHead> head;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        head = head_;
    }
    if (!head) throw Error("no HeadNeRF head is set");
    const auto f = fitted(face);
    auto codes = std::make_shared<const HeadNerfCodes>(head->fit(*f, steps, progress));
    FaceCache& cache = cacheFor(face);
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.headCodes = codes;
    return *codes;
}

bool DeidPipeline::hasHeadCodes(int face) {
    FaceCache& cache = cacheFor(face);
    std::lock_guard<std::mutex> lock(cache.mutex);
    return bool(cache.headCodes);
}

FaceIdentity DeidPipeline::originalIdentity(int face, const CancelToken& cancel) {
    FaceCache& cache = cacheFor(face);
    {
        std::lock_guard<std::mutex> lock(cache.mutex);
        if (cache.originalIdentity) return *cache.originalIdentity;
    }
    // Described without the face's lock: a low-priority check must not hold up the slider's
    // re-run of this face meanwhile. Two racing callers compute the same descriptors.
    cancel.check();
    std::optional<FaceResOutput> faceres;
    {
        std::lock_guard<std::mutex> lock(cache.mutex);
        faceres = cache.faceres;
    }
    FaceIdentity identity;
    identity.dlib = FaceRecognizer::shared()->describe(photo_.bgr, faces_[std::size_t(face)].landmarks);
    identity.faceres = faceres ? faceres : describeFaceRes(photo_.bgr, faces_[std::size_t(face)].landmarks);
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (!cache.originalIdentity) cache.originalIdentity = identity;
    return *cache.originalIdentity;
}

const std::vector<DetectedFace>& DeidPipeline::faces(const CancelToken& cancel) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!detected_) {
        cancel.check();
        ScopedStage stage("detect");
        DetectionResult detected = FaceDetector::shared()->detect(photo_.bgr, detection_);
        faces_ = std::move(detected.faces);
        rejected_ = std::move(detected.rejected);
        cache_.clear();
        for (std::size_t i = 0; i < faces_.size(); ++i) cache_.push_back(std::make_unique<FaceCache>());
        detected_ = true;
    }
    return faces_;
}

const std::vector<RejectedCandidate>& DeidPipeline::rejected(const CancelToken& cancel) {
    faces(cancel);
    return rejected_;
}

void DeidPipeline::releaseFace(int face) {
    FaceCache& cache = cacheFor(face);
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.fitted.reset();
    cache.parsingX.clear();
}

std::string DeidPipeline::fallbackReason(int face, const CancelToken& cancel) {
    if (faces(cancel).at(std::size_t(face)).turned)
        return "turned beyond the 3-D fitter's range (found by the profile detector only)";
    const double error = fitted(face, cancel)->fit.nmeInner;
    if (error > kMaxFitError) {
        char text[128];
        std::snprintf(text, sizeof text, "the 3-D fit does not match the face's landmarks (error %.2f, limit %.2f)", error, kMaxFitError);
        return text;
    }
    return {};
}

std::string DeidPipeline::caution(int face, const CancelToken& cancel) {
    const float age = fitted(face, cancel)->appearance.attributes.age;
    const float youngest = model_.youngestAge();  // 0 without a bank: no caution
    if (age >= youngest) return {};
    char text[256];
    std::snprintf(text, sizeof text,
                  "apparent age %.0f, younger than every face of the appearance model's gallery (%.0f and up): the new "
                  "face looks older than the child, and recognisers tell children apart poorly, so it may still be linked",
                  double(age), double(youngest));
    return text;
}

const char* protectionName(FaceProtection p) {
    switch (p) {
        case FaceProtection::Anonymized: return "anonymized";
        case FaceProtection::Blurred: return "blurred";
        case FaceProtection::NotSelected: return "not selected";
    }
    return "?";
}

DeidPipeline::FaceCache& DeidPipeline::cacheFor(int face) {
    faces();
    std::lock_guard<std::mutex> lock(mutex_);
    if (face < 0 || face >= int(cache_.size())) throw Error("no face " + std::to_string(face) + " in this photo");
    return *cache_[std::size_t(face)];
}

std::shared_ptr<const FittedFace> DeidPipeline::fitted(int face, const CancelToken& cancel) {
    FaceCache& cache = cacheFor(face);
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (!cache.fitted) {
        cancel.check();
        // The apparent age and gender choose the bank faces the skin detail comes from (in the
        // slider path; X_f has no bank detail). FaceRes reads them beside the landmark fit, the
        // one step of the fit that keeps to one core; it joins before the steps that use both.
        const DetectedFace& detection = faces_[std::size_t(face)];
        auto readAttributes = [this, &detection] {
            ScopedStage stage("fit: FaceRes age and gender (beside the landmark fit)");
            return describeFaceRes(photo_.bgr, detection.landmarks);
        };
        BesideResult<std::optional<FaceResOutput>> reading;
        if (!cache.faceresDone) reading = startBeside(readAttributes);
        FittedFace shape = fitFaceShape(context_, photo_.bgr, detection);
        if (reading.valid()) {
            cache.faceres = reading.get();
            cache.faceresDone = true;
        }
        cancel.check();
        FittedFace geometry = addPhotoTexture(context_, std::move(shape));
        cancel.check();
        std::optional<ApparentAttributes> attributes;
        if (cache.faceres) attributes = ApparentAttributes{float(cache.faceres->ageYears()), cache.faceres->gender};
        FittedFace fitted = fitAppearanceCode(context_, model_, std::move(geometry), attributes);
        cache.fitted = std::make_shared<const FittedFace>(std::move(fitted));
    }
    return cache.fitted;
}

FaceResult DeidPipeline::processFace(int face, const DeidSettings& settings, const CancelToken& cancel) {
    FaceResult result;
    result.index = face;
    result.fitted = fitted(face, cancel);
    const FittedFace& f = *result.fitted;
    result.fallbackReason = fallbackReason(face, cancel);
    if (!result.fallbackReason.empty()) {
        ScopedStage stage("fallback blur");
        result.blurred = true;
        result.restorer = "blur";
        result.final = f.crop.image.clone();
        blurFaceRegion(result.final, fallbackRegion(f.detection.box, f.crop.alignment.cropFromImage), settings.seed);
        return result;
    }
    std::shared_ptr<const FaceParser> parser;
    std::shared_ptr<const Restorer> restorer;
    std::shared_ptr<const HeadNerfHead> head;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        parser = settings.parser ? settings.parser : parser_;
        restorer = settings.restorer ? settings.restorer : restorer_;
        head = settings.useHead ? head_ : nullptr;
    }
    result.parser = parser->name();
    result.restorer = restorer->name();
    std::shared_ptr<const HeadNerfCodes> headCodes;
    cv::Mat parsingX;
    {
        FaceCache& cache = cacheFor(face);
        std::lock_guard<std::mutex> lock(cache.mutex);
        cv::Mat& labels = cache.parsingX[parser->name()];
        if (labels.empty()) {
            ScopedStage stage("parse X (once per face)");
            ParsingInput in;
            in.image = f.crop.image;
            in.faceArea = f.faceArea;
            for (int i = 0; i < 68; ++i) in.landmarks[std::size_t(i)] = {f.landmarks[std::size_t(i)].x, f.landmarks[std::size_t(i)].y};
            in.expected = f.fittedImage;
            in.expectedMask = f.fittedMask;
            in.glasses = f.glasses;
            labels = parser->parse(in);
        }
        parsingX = labels;
        headCodes = cache.headCodes;
    }
    cancel.check();
    result.perturbed = perturbShape(context_, model_, f, settings.scale, settings.seed, settings.noise);
    // The new mesh is rasterized and X moved around the new shape while the albedo of z'_id is
    // made (on another core when there is one); X_p is then shaded on that raster.
    cv::Mat warpMap;
    {
        std::promise<RasterBuffers> rasterMade;
        std::future<RasterBuffers> raster = rasterMade.get_future();
        auto sideWork = [&] {
            try {
                ScopedStage stage("render: raster (beside the albedo)");
                RasterBuffers buffers;
                rasterizeFace(context_, result.perturbed.geometry, f.fit.camera, buffers);
                rasterMade.set_value(std::move(buffers));
            } catch (...) {
                rasterMade.set_exception(std::current_exception());
                return;
            }
            ScopedStage stage("warp map (beside the albedo and render)");
            warpMap = shapeWarpMap(context_, f, result.perturbed, settings.hybrid.falloff);
        };
        auto side = startBeside(sideWork);
        synthesizePerturbedAlbedo(context_, model_, f, result.perturbed);
        // On one core the side work was deferred: it runs now, before its raster is needed.
        if (side.deferred()) side.wait();
        renderPerturbed(context_, f, result.perturbed, raster.get());
        side.get();
    }
    if (head && headCodes) {
        // HeadNeRF renders X_f and X_p; the 3DMM perturbation still drives the outline warp
        // and X_p's landmarks (HeadNeRF has no mesh to take them from).
        result.head = "headnerf";
        cv::Mat image, mask;
        head->render(*headCodes, f.crop.image.cols, image, mask);
        result.headFitted = onMidGrey(image, mask);
        head->render(head->perturb(*headCodes, settings.scale, settings.seed, settings.noise.shapeGain), f.crop.image.cols, image, mask);
        result.perturbed.mask &= mask;
        image.copyTo(result.perturbed.image, result.perturbed.mask);
    }
    cancel.check();
    cv::Mat parsingXp;
    {
        ScopedStage stage("parse X_p");
        ParsingInput inP;
        inP.image = result.perturbed.image;
        inP.faceArea = result.perturbed.mask;
        inP.landmarks = result.perturbed.landmarks;
        parsingXp = MeshLandmarkParser().parse(inP);
    }
    {
        ScopedStage stage("hybrid (warp X, masks)");
        result.hybrid = buildHybrid(f, result.perturbed, parsingX, parsingXp, warpMap);
    }
    cancel.check();
    RestoreInput restoreIn;
    restoreIn.face = &f;
    restoreIn.perturbed = &result.perturbed;
    restoreIn.hybrid = &result.hybrid;
    restoreIn.seed = settings.seed;
    {
        ScopedStage stage("restore (blend)");
        result.final = restorer->restore(restoreIn);
    }
    // The restore consumed the run's float intermediates; callers keep a face's result per
    // face and run (the editor two sets of every face), so they are not kept (6 MB a face).
    result.perturbed.albedo.release();
    result.hybrid.foreground.release();
    return result;
}

cv::Mat DeidPipeline::compose(const std::vector<FaceResult>& results) const {
    ScopedStage stage("paste");
    cv::Mat out = photo_.bgr.clone();
    for (const FaceResult& r : results)
        pasteChanges(out, r.final, r.fitted->crop.image, r.fitted->crop.alignment, kPasteFeather);
    return out;
}

std::vector<PasteLayer> DeidPipeline::pasteLayers(const std::vector<FaceResult>& results, double scale) const {
    ScopedStage stage("paste layers");
    std::vector<PasteLayer> layers;
    for (const FaceResult& r : results) {
        PasteLayer layer;
        layer.bgra = pasteLayer(r.final, r.fitted->crop.image, r.fitted->crop.alignment, kPasteFeather, photo_.bgr.size(),
                                scale, &layer.origin);
        if (!layer.bgra.empty()) layers.push_back(std::move(layer));
    }
    return layers;
}

cv::Mat DeidPipeline::anonymize(const DeidSettings& settings, const std::set<int>& selected, const CancelToken& cancel,
                                std::vector<FaceResult>* results, std::vector<FaceOutcome>* outcomes) {
    std::vector<FaceResult> done;
    cv::Mat out = anonymizeEach(
        settings, selected, [&](const FaceResult& r) { if (results) done.push_back(r); }, outcomes, false, cancel);
    if (results) *results = std::move(done);
    return out;
}

cv::Mat DeidPipeline::anonymizeEach(const DeidSettings& settings, const std::set<int>& selected,
                                    const std::function<void(const FaceResult&)>& onFace, std::vector<FaceOutcome>* outcomes,
                                    bool releaseFaces, const CancelToken& cancel) {
    const int count = int(faces(cancel).size());
    cv::Mat out = photo_.bgr.clone();
    if (outcomes) outcomes->clear();
    for (int i = 0; i < count; ++i) {
        FaceOutcome outcome;
        outcome.index = i;
        if (!selected.empty() && !selected.count(i)) {
            outcome.protection = FaceProtection::NotSelected;
            outcome.reason = "not among the faces selected";
        } else {
            try {
                const FaceResult r = processFace(i, settings, cancel);
                {
                    ScopedStage stage("paste");
                    pasteChanges(out, r.final, r.fitted->crop.image, r.fitted->crop.alignment, kPasteFeather);
                }
                if (r.blurred) outcome.protection = FaceProtection::Blurred, outcome.reason = r.fallbackReason;
                else outcome.caution = caution(i, cancel);
                if (onFace) onFace(r);
            } catch (const CancelledError&) {
                throw;
            } catch (const ModelError&) {
                throw;  // a missing or corrupt model file is the installation's problem, not the face's
            } catch (const std::exception& e) {
                // Never let a face out unprotected: blur it in the photo itself.
                blurFaceRegion(out, fallbackRegion(faces_[std::size_t(i)].box), settings.seed);
                outcome.protection = FaceProtection::Blurred;
                outcome.reason = std::string("could not be anonymized: ") + e.what();
            }
            if (releaseFaces) releaseFace(i);
        }
        if (outcomes) outcomes->push_back(outcome);
    }
    cancel.check();
    return out;
}

const std::vector<StageName>& stageNames() {
    static const std::vector<StageName> names = {
        {"X", "X: aligned input"},
        {"landmarks", "Landmarks (green detected, red fitted)"},
        {"fit", "3DMM fit"},
        {"X_f", "X_f: fitted render"},
        {"X_p", "X_p: perturbed render"},
        {"masks", "Masks (parsing X | X_p; head | styling)"},
        {"X_l", "X_l: hybrid"},
        {"X_final", "X': final"},
    };
    return names;
}

namespace {

std::string stageTitle(const std::string& key) {
    for (const StageName& n : stageNames())
        if (key == n.key) return n.title;
    throw Error("unknown stage " + key);
}

}  // namespace

std::vector<StageImage> fittedStageImages(const FaceModelContext& context, const FittedFace& f) {
    return {
        {"X", stageTitle("X"), f.crop.image},
        {"landmarks", stageTitle("landmarks"), landmarkOverlay(f)},
        {"fit", stageTitle("fit"), fitOverlay(context, f)},
        {"X_f", stageTitle("X_f"), fittedRender(f)},
    };
}

std::vector<StageImage> runStageImages(const FaceResult& r) {
    const FittedFace& f = *r.fitted;
    if (r.blurred) {
        const std::string note = " (not used: blurred, " + r.fallbackReason + ")";
        return {{"X_p", stageTitle("X_p") + note, r.final}, {"masks", stageTitle("masks") + note, r.final},
                {"X_l", stageTitle("X_l") + note, r.final}, {"X_final", stageTitle("X_final") + " (blurred)", r.final}};
    }
    // Masks, 2 x 2: parsing of X | parsing of X_p / head mask (where X_p is used, on X_l) |
    // styling mask (X's hair and accessories kept over the face, on X).
    const cv::Size half(f.crop.image.cols / 2, f.crop.image.rows / 2);
    auto small = [&](const cv::Mat& m, int interpolation) {
        cv::Mat out;
        cv::resize(m, out, half, 0, 0, interpolation);
        return out;
    };
    auto tint = [](const cv::Mat& image, const cv::Mat& mask, const cv::Scalar& colour) {
        cv::Mat out = image.clone(), layer(image.size(), CV_8UC3, colour);
        cv::Mat blended;
        cv::addWeighted(image, 0.45, layer, 0.55, 0, blended);
        blended.copyTo(out, mask);
        return out;
    };
    cv::Mat top, bottom, masks;
    cv::hconcat(small(colourizeParsing(r.hybrid.parsingX), cv::INTER_NEAREST), small(colourizeParsing(r.hybrid.parsingXp), cv::INTER_NEAREST), top);
    cv::hconcat(small(tint(r.hybrid.hybrid, r.hybrid.faceMask, {60, 180, 60}), cv::INTER_AREA),
                small(tint(f.crop.image, r.hybrid.styling, {40, 40, 220}), cv::INTER_AREA), bottom);
    cv::vconcat(top, bottom, masks);
    return {
        {"X_p", stageTitle("X_p"), perturbedRender(r.perturbed)},
        {"masks", stageTitle("masks"), masks},
        {"X_l", stageTitle("X_l"), r.hybrid.hybrid},
        {"X_final", r.restorer == "blend" ? stageTitle("X_final") : stageTitle("X_final") + " (" + r.restorer + ")", r.final},
    };
}

std::vector<StageImage> stageImages(const FaceModelContext& context, const FaceResult& r) {
    std::vector<StageImage> stages;
    for (StageImage& s : fittedStageImages(context, *r.fitted)) {
        if (s.key == "X_f" && !r.headFitted.empty()) s = {"X_f", s.title + " (HeadNeRF)", r.headFitted};
        stages.push_back(std::move(s));
    }
    for (StageImage& s : runStageImages(r)) stages.push_back(std::move(s));
    return stages;
}

}  // namespace ideu
