#include "pipeline_controller.h"

#include "qt_convert.h"

#include "common/files.h"
#include "common/runtime.h"
#include "evaluation/identity_check.h"
#include "io/image_io.h"
#include "models/model_store.h"
#include "nets/neural_backends.h"
#include "pipeline/deid_pipeline.h"

#include <QElapsedTimer>
#include <QFileInfo>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <set>
#include <mutex>

namespace ideu::ui {
namespace {

QVector<StageView> toViews(const std::vector<StageImage>& stages) {
    QVector<StageView> views;
    for (const StageImage& s : stages) views.push_back({QString::fromStdString(s.key), QString::fromStdString(s.title), toQImage(s.image)});
    return views;
}

DeidSettings settingsFor(const PipelineRequest& request) {
    DeidSettings settings;
    settings.scale = request.scale;
    settings.seed = request.seed;
    return settings;
}

// Processes the faces the request includes, in order. `beforeFace(i)` runs before face i;
// returning false stops (the faces done so far are returned).
std::vector<FaceResult> processRequestedFaces(DeidPipeline& p, const PipelineRequest& request, const DeidSettings& settings,
                                              const std::function<bool(int)>& beforeFace) {
    const int count = int(p.faces().size());
    std::vector<FaceResult> results;
    for (int i = 0; i < count; ++i) {
        if (request.excluded.contains(i)) continue;
        if (!beforeFace(i)) break;
        results.push_back(p.processFace(i, settings));
    }
    return results;
}

IdentityReadout toReadout(const IdentityCheck& check) {
    IdentityReadout r;
    r.detected = check.detected;
    const IdentityComparison& c = check.recognisers;
    r.dlibDistance = c.dlib.distance;
    r.dlibThreshold = c.dlib.threshold;
    r.dlibMatch = c.dlib.match;
    r.faceresAvailable = c.faceres.available;
    r.faceresDistance = c.faceres.distance;
    r.faceresThreshold = c.faceres.threshold;
    r.faceresMatch = c.faceres.match;
    r.verdict = QString::fromStdString(verdictText(c));
    r.faceresUnavailable = QString::fromStdString(check.faceresUnavailable);
    return r;
}

// Cancels the task `token` belonged to and hands out a fresh token for the next one.
CancelToken renew(CancelToken& token) {
    token.cancel();
    token = CancelToken();
    return token;
}

const FaceResult* resultOf(const std::vector<FaceResult>& results, int face) {
    for (const FaceResult& r : results)
        if (r.index == face) return &r;
    return nullptr;
}

}  // namespace

QVector<StageView> PipelineController::stagePanels() {
    QVector<StageView> panels;
    for (const StageName& s : stageNames())
        if (std::string(s.key) != "X") panels.push_back({s.key, s.title, {}});  // X is the photo view itself
    return panels;
}

QStringList PipelineController::imageNameFilters() {
    QStringList filters;
    for (const std::string& ext : imageExtensions()) filters << "*" + QString::fromStdString(ext);
    return filters;
}

// Lives on the worker thread; every slot runs there, one at a time.
class PipelineWorker : public QObject {
    Q_OBJECT
public:
    std::shared_ptr<DeidPipeline> pipeline;
    std::mutex mutex;  // guards `pipeline` and `lastPhoto` against the GUI thread's reads
    cv::Mat lastPhoto;
    std::vector<FaceResult> lastResults;
    PipelineRequest lastRequest;
    // Stage images that do not depend on the noise (computed once per face).
    QVector<QVector<StageView>> fixedStages;

public slots:
    void open(const QString& path, double minFace) {
        try {
            emit busy(tr("Loading %1").arg(QFileInfo(path).fileName()));
            DetectionOptions detection;
            detection.minFaceSize = minFace;
            auto p = std::make_shared<DeidPipeline>(loadImage(path.toStdString()), detection);
            emit busy(tr("Detecting faces"));
            const auto& faces = p->faces();
            QVector<FaceSummary> summaries;
            fixedStages.clear();
            for (std::size_t i = 0; i < faces.size(); ++i) {
                emit busy(tr("Fitting the 3-D face model to face %1 of %2").arg(i + 1).arg(faces.size()));
                const auto fitted = p->fitted(int(i));
                FaceSummary s;
                s.index = int(i);
                const cv::Rect2d& b = faces[i].box;
                s.box = QRect(int(b.x), int(b.y), int(b.width), int(b.height));
                cv::Mat thumb;
                cv::resize(fitted->crop.image, thumb, cv::Size(96, 96), 0, 0, cv::INTER_AREA);
                s.thumbnail = toQImage(thumb);
                s.blurredBecause = QString::fromStdString(p->fallbackReason(int(i)));
                if (s.blurredBecause.isEmpty()) s.caution = QString::fromStdString(p->caution(int(i)));
                summaries.push_back(s);
                fixedStages.push_back(toViews(fittedStageImages(p->context(), *fitted)));
            }
            {
                std::lock_guard<std::mutex> lock(mutex);
                pipeline = p;
                lastPhoto = p->photo().bgr.clone();
                lastResults.clear();
            }
            emit opened(path, QSize(p->photo().bgr.cols, p->photo().bgr.rows), summaries, p);
        } catch (const std::exception& e) {
            emit failed(QString::fromUtf8(e.what()));
        }
    }

    void run(const ideu::ui::PipelineRequest& request) {
        PipelineResult result;
        result.generation = request.generation;
        result.scale = request.scale;
        result.seed = request.seed;
        QElapsedTimer timer;
        timer.start();
        try {
            std::shared_ptr<DeidPipeline> p;
            {
                std::lock_guard<std::mutex> lock(mutex);
                p = pipeline;
            }
            if (!p) return;
            DeidSettings settings = settingsFor(request);
            settings.useHead = false;  // the preview: the fast default backends
            const std::vector<FaceResult> results = processRequestedFaces(*p, request, settings, [&](int i) {
                emit busy(tr("Re-rendering face %1 (scale %2, seed %3)").arg(i + 1).arg(request.scale, 0, 'f', 2).arg(request.seed));
                return true;
            });
            emit busy(tr("Pasting %1 face(s) into the photo").arg(results.size()));
            const int count = int(p->faces().size());
            result.preview = request.preview;
            if (request.preview) {
                // The faces as layers at the view's resolution: on a large photo, resampling
                // them to the screen's pixels is far cheaper than pasting, converting and
                // painting the photo's.
                for (const PasteLayer& layer : p->pasteLayers(results, request.previewScale))
                    result.layers.push_back({QPoint(layer.origin.x, layer.origin.y), toQImage(layer.bgra), request.previewScale});
            } else {
                const cv::Mat photo = p->compose(results);
                result.photo = toQImage(photo);
                std::lock_guard<std::mutex> lock(mutex);
                lastPhoto = photo;  // what an export writes and the readout checks
                lastResults = results;
                lastRequest = request;
            }
            const int face = std::clamp(request.selectedFace, 0, std::max(0, count - 1));
            result.selectedFace = count ? face : -1;
            if (count) {
                // The fit's stages were made when the photo was opened; only the run's are new.
                result.stages = fixedStages.value(face);
                if (const FaceResult* mine = resultOf(results, face)) result.stages += toViews(runStageImages(*mine));
            }
            result.milliseconds = double(timer.nsecsElapsed()) / 1e6;
            result.backends = tr("mesh parser, blend, 3DMM head");
            emit finished(result);
        } catch (const std::exception& e) {
            emit failed(QString::fromUtf8(e.what()));
            result.preview = false;  // neither a photo nor a preview: nothing to show
            emit finished(result);
        }
    }

    void exportTo(const ideu::ui::ExportOptions& options) {
        try {
            std::shared_ptr<DeidPipeline> p;
            cv::Mat photo;
            std::vector<FaceResult> results;
            PipelineRequest request;
            {
                std::lock_guard<std::mutex> lock(mutex);
                p = pipeline;
                photo = lastPhoto.clone();
                results = lastResults;
                request = lastRequest;
            }
            if (!p) throw Error("no photo is open");
            emit busy(tr("Exporting %1").arg(QFileInfo(options.path).fileName()));
            ImageSaveOptions save;
            save.quality = options.quality;
            save.protectedPaths = {p->photo().path};
            const std::string path = options.path.toStdString();
            saveImage(path, photo, p->photo().alpha, save);
            const std::filesystem::path base = std::filesystem::path(path).replace_extension("");
            if (options.stageImages)
                for (const FaceResult& r : results)
                    for (const StageImage& s : stageImages(p->context(), r)) {
                        char name[64];
                        std::snprintf(name, sizeof name, "_face%02d_%s.png", r.index, s.key.c_str());
                        saveImage(base.string() + name, s.image, cv::Mat(), save);
                    }
            if (options.sidecar) {
                nlohmann::json faces = nlohmann::json::array();
                for (const FaceResult& r : results) {
                    const cv::Rect2d& b = p->faces()[std::size_t(r.index)].box;
                    faces.push_back({{"face", r.index}, {"box", {b.x, b.y, b.width, b.height}}});
                }
                nlohmann::json models = nlohmann::json::array();
                for (const ModelEntry& e : ModelStore::instance().entries())
                    if (e.fetch != "user") models.push_back({{"name", e.name}, {"file", e.file}, {"sha256", e.sha256}});
                const nlohmann::json sidecar = {{"app", "IDEudemon"}, {"version", IDEU_VERSION}, {"scale", request.scale},
                                                {"seed", request.seed}, {"faces", faces}, {"models", models}};
                writeTextAtomically(path + ".json", sidecar.dump(2) + "\n", {p->photo().path});
            }
            emit exported(options.path);
        } catch (const std::exception& e) {
            emit failed(QString::fromUtf8(e.what()));
        }
    }

signals:
    void busy(const QString& stage);
    void opened(const QString& path, QSize size, const QVector<ideu::ui::FaceSummary>& faces,
                std::shared_ptr<ideu::DeidPipeline> pipeline);
    void finished(const ideu::ui::PipelineResult& result);
    void exported(const QString& path);
    void failed(const QString& message);
};

// The neural backends, loaded on first use (from the model store) and shared by the
// background passes.
struct PipelineController::Neural {
    std::mutex mutex;
    std::shared_ptr<const FaceParser> bisenet;
    std::shared_ptr<const Restorer> gfpgan;
    std::shared_ptr<const HeadNerfHead> headnerf;
    std::shared_ptr<const FaceParser> parser() {
        std::lock_guard<std::mutex> lock(mutex);
        if (!bisenet) bisenet = makeBiSeNetParser();
        return bisenet;
    }
    std::shared_ptr<const Restorer> restorer() {
        std::lock_guard<std::mutex> lock(mutex);
        if (!gfpgan) gfpgan = makeGfpganRestorer();
        return gfpgan;
    }
    std::shared_ptr<const HeadNerfHead> head() {
        std::lock_guard<std::mutex> lock(mutex);
        if (!headnerf) headnerf = HeadNerfHead::fromModelStore();
        return headnerf;
    }
};

namespace {
BackendState stateOf(const BackendAvailability& a) {
    return {a.available, QString::fromStdString(a.reason), QString::fromStdString(a.licence)};
}
}  // namespace

BackendState PipelineController::bisenetState() { return stateOf(bisenetAvailability()); }
BackendState PipelineController::gfpganState() { return stateOf(gfpganAvailability()); }
BackendState PipelineController::headnerfState() { return stateOf(headnerfAvailability()); }

void PipelineController::setBackends(ParserChoice parser, RestorerChoice restorer, HeadChoice head) {
    if (parser == request_.parser && restorer == request_.restorer && head == request_.head) return;
    request_.parser = parser;
    request_.restorer = restorer;
    request_.head = head;
    schedule();
}

void PipelineController::fitHeadNerf(int steps) {
    std::shared_ptr<DeidPipeline> p = pipeline_;
    if (!p || faceCount_ == 0) return;  // the count from opening: no pipeline lock on the GUI thread
    const CancelToken cancel = renew(headCancel_);
    auto neural = neural_;
    const int face = request_.selectedFace;
    QPointer<PipelineController> self(this);
    runInBackground([self, p, neural, face, steps, cancel] {
        bool completed = false;
        try {
            p->setHead(neural->head());
            const HeadNerfCodes codes = p->fitHead(face, steps, [&](int step, double loss) {
                if (self) QMetaObject::invokeMethod(self, [self, step, steps, loss] { if (self) emit self->headFitProgress(step, steps, loss); });
                return !cancel.cancelled();
            });
            completed = codes.steps == steps;
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            if (self) QMetaObject::invokeMethod(self, [self, message] { if (self) emit self->failed(message); });
        }
        if (self)
            QMetaObject::invokeMethod(self, [self, completed] {
                if (!self) return;
                emit self->headFitFinished(completed);
                self->schedule();  // show the result with the fitted head
            });
    });
}

void PipelineController::runInBackground(std::function<void()> task) {
    background_.start([task = std::move(task)] {
        // Background work yields the CPU to the worker and the GUI: the slider stays quick
        // while a sweep or a readout check runs, and they still progress on a busy machine.
        lowerCurrentThreadPriority();
        task();
    });
}

void PipelineController::cancelHeadNerfFit() { headCancel_.cancel(); }

void PipelineController::refineLater(quint64 generation) {
    std::shared_ptr<DeidPipeline> p = pipeline_;
    if (!p) return;
    const CancelToken cancel = renew(refineCancel_);
    auto neural = neural_;
    const PipelineRequest request = request_;
    QPointer<PipelineController> self(this);
    emit busy(tr("Final quality pass with the neural backends…"));
    runInBackground([self, p, neural, request, generation, cancel] {
        QElapsedTimer timer;
        timer.start();
        PipelineResult result;
        result.generation = generation;
        result.scale = request.scale;
        result.seed = request.seed;
        result.refined = true;
        try {
            DeidSettings settings = settingsFor(request);
            if (request.parser == ParserChoice::BiSeNet) settings.parser = neural->parser();
            if (request.restorer == RestorerChoice::Gfpgan) settings.restorer = neural->restorer();
            settings.useHead = request.head == HeadChoice::HeadNerf;
            if (settings.useHead) p->setHead(neural->head());
            const std::vector<FaceResult> results =
                processRequestedFaces(*p, request, settings, [&](int) { return !cancel.cancelled(); });
            if (cancel.cancelled() || results.empty()) return;
            result.photo = toQImage(p->compose(results));
            const int count = int(p->faces().size());
            const int face = std::clamp(request.selectedFace, 0, std::max(0, count - 1));
            result.selectedFace = face;
            if (const FaceResult* r = resultOf(results, face)) {
                result.stages = toViews(stageImages(p->context(), *r));
                result.backends = QString("%1 parser, %2, %3 head")
                                      .arg(QString::fromStdString(r->parser), QString::fromStdString(r->restorer), QString::fromStdString(r->head));
            }
            result.milliseconds = double(timer.nsecsElapsed()) / 1e6;
            if (self)
                QMetaObject::invokeMethod(self, [self, result, cancel] {
                    if (!self || cancel.cancelled() || result.generation != self->request_.generation) return;
                    self->shown_ = result.generation;
                    emit self->resultReady(result);
                    emit self->busy(tr("Ready"));
                });
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            if (self) QMetaObject::invokeMethod(self, [self, message] { if (self) emit self->failed(message); });
        }
    });
}

PipelineController::PipelineController(QObject* parent) : QObject(parent), neural_(std::make_shared<Neural>()) {
    qRegisterMetaType<PipelineRequest>();
    qRegisterMetaType<PipelineResult>();
    qRegisterMetaType<ExportOptions>();
    qRegisterMetaType<IdentityReadout>();
    qRegisterMetaType<QVector<FaceSummary>>();
    qRegisterMetaType<std::shared_ptr<ideu::DeidPipeline>>("std::shared_ptr<ideu::DeidPipeline>");
    worker_ = new PipelineWorker;
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(worker_, &PipelineWorker::busy, this, &PipelineController::busy);
    connect(worker_, &PipelineWorker::failed, this, &PipelineController::failed);
    connect(worker_, &PipelineWorker::exported, this, &PipelineController::exported);
    connect(worker_, &PipelineWorker::opened, this,
            [this](const QString& path, QSize size, const QVector<FaceSummary>& faces, std::shared_ptr<DeidPipeline> p) {
                pipeline_ = std::move(p);
                photoOpen_ = true;
                faceCount_ = int(faces.size());
                photoPath_ = path;
                request_.selectedFace = 0;
                request_.excluded.clear();
                shown_ = 0;
                emit photoOpened(path, size, faces);
                schedule();
            });
    connect(worker_, &PipelineWorker::finished, this, &PipelineController::onResult);
    thread_.setObjectName("pipeline worker");
    thread_.start();
    configureThreads(0);
}

PipelineController::~PipelineController() {
    for (const CancelToken* token : {&identityCancel_, &refineCancel_, &headCancel_, &sweepCancel_, &batchCancel_}) token->cancel();
    background_.waitForDone();
    thread_.quit();
    thread_.wait();
}

QImage PipelineController::originalImage() const { return pipeline_ ? toQImage(pipeline_->photo().bgr) : QImage(); }

std::pair<double, double> PipelineController::matchThresholds() { return {kMatchThreshold, kFaceResThreshold}; }
double PipelineController::defaultScale() { return kDefaultScale; }
double PipelineController::maxScale() { return kMaxScale; }

QString PipelineController::deviceName() {
    return QString::fromStdString(computeDeviceName()) + QStringLiteral(" (%1 threads)").arg(QThread::idealThreadCount());
}

double PipelineController::openedMinFaceSize() const {
    return pipeline_ ? pipeline_->detectionOptions().minFaceSize : 0;
}

void PipelineController::openPhoto(const QString& path) {
    sweepCancel_.cancel();
    photoOpen_ = false;
    QMetaObject::invokeMethod(worker_, "open", Qt::QueuedConnection, Q_ARG(QString, path), Q_ARG(double, minFace_));
}

void PipelineController::setScale(double scale) {
    if (scale == request_.scale) return;
    request_.scale = scale;
    schedule();
}

void PipelineController::setSeed(quint64 seed) {
    if (seed == request_.seed) return;
    request_.seed = seed;
    schedule();
}

void PipelineController::setSelectedFace(int face) {
    if (face == request_.selectedFace) return;
    request_.selectedFace = face;
    schedule();
}

void PipelineController::setFaceIncluded(int face, bool included) {
    if (included == !request_.excluded.contains(face)) return;
    if (included) request_.excluded.remove(face);
    else request_.excluded.insert(face);
    schedule();
}

void PipelineController::setDragging(bool dragging) {
    if (dragging == request_.preview) return;
    request_.preview = dragging;
    if (dragging) *sweepPaused_ = true;
    else if (previewSent_) schedule();  // the full result of the last value (the sweep waits for it)
    else *sweepPaused_ = false;
}

void PipelineController::setPreviewScale(double scale) { request_.previewScale = std::clamp(scale, 1e-3, 1.0); }

void PipelineController::schedule() {
    if (!photoOpen_) return;
    refineCancel_.cancel();    // a newer request makes the refinement stale
    identityCancel_.cancel();  // ... and the readout's check: spare the CPU
    ++request_.generation;
    if (request_.preview) previewSent_ = true;
    else previewSent_ = false;
    if (busy_) {
        pending_ = true;  // the newest settings go out when the worker is free
        return;
    }
    dispatch();
}

void PipelineController::dispatch() {
    busy_ = true;
    pending_ = false;
    QMetaObject::invokeMethod(worker_, "run", Qt::QueuedConnection, Q_ARG(ideu::ui::PipelineRequest, request_));
}

void PipelineController::onResult(const PipelineResult& result) {
    busy_ = false;
    // The sweep, paused while the slider was held, goes on once the release's result is in:
    // beside it, it would slow the result the user waits for.
    if (!result.preview && !request_.preview && !pending_) *sweepPaused_ = false;
    if (pending_) dispatch();
    // Results arrive in request order; one older than what is on screen is never shown.
    if (result.generation <= shown_ || (result.photo.isNull() && !result.preview)) return;  // older, or failed
    shown_ = result.generation;
    emit resultReady(result);
    if (result.preview) return;  // the release brings the full result and its checks
    if (!pending_ && result.generation == request_.generation) {
        emit busy(tr("Ready"));
        checkIdentityLater(result.generation);
        if (request_.wantsRefinement()) {
            shown_ = result.generation - 1;  // the refined result of this generation may follow
            refineLater(result.generation);
        }
    }
}

void PipelineController::checkIdentityLater(quint64 generation) {
    std::shared_ptr<DeidPipeline> p = pipeline_;
    if (!p || faceCount_ == 0) return;  // the count from opening: no pipeline lock on the GUI thread
    const int face = request_.selectedFace;
    if (request_.excluded.contains(face)) return;
    cv::Mat photo;
    {
        // Shared, not copied (a 12-MP photo: about 10 ms of the GUI thread): the worker
        // replaces lastPhoto with each new result and never writes into it.
        std::lock_guard<std::mutex> lock(worker_->mutex);
        photo = worker_->lastPhoto;
    }
    const CancelToken cancel = renew(identityCancel_);
    QPointer<PipelineController> self(this);
    runInBackground([self, p, face, photo, generation, cancel] {
        try {
            const IdentityReadout readout = toReadout(checkIdentity(*p, face, photo, cancel));
            if (self)
                QMetaObject::invokeMethod(self, [self, generation, readout] {
                    if (self) emit self->identityChecked(generation, readout);
                });
        } catch (const std::exception&) {
        }
    });
}

void PipelineController::startPrivacySweep() {
    const CancelToken cancel = renew(sweepCancel_);
    std::shared_ptr<DeidPipeline> p = pipeline_;
    if (!p || faceCount_ == 0) return;  // the count from opening: no pipeline lock on the GUI thread
    const DeidSettings settings = settingsFor(request_);  // the sweep sets the scale
    const int face = request_.selectedFace;
    emit sweepStarted();
    QPointer<PipelineController> self(this);
    runInBackground([self, p, face, settings, cancel, paused = sweepPaused_] {
        std::vector<double> scales;
        for (int i = 0; i <= 8; ++i) scales.push_back(kMaxScale * i / 8);
        try {
            identitySweep(*p, face, settings, scales, cancel, [&](const SweepPoint& point) {
                if (self)
                    QMetaObject::invokeMethod(self, [self, scale = point.scale, readout = toReadout(point.check), cancel] {
                        if (self && !cancel.cancelled()) emit self->sweepPoint(scale, readout);
                    });
                while (*paused && !cancel.cancelled()) QThread::msleep(20);
            });
            if (self)
                QMetaObject::invokeMethod(self, [self, cancel] {
                    if (self && !cancel.cancelled()) emit self->sweepFinished();
                });
        } catch (const std::exception&) {
        }
    });
}

void PipelineController::startBatch(const QString& inputFolder, const QString& outputFolder) {
    const CancelToken cancel = renew(batchCancel_);
    const DeidSettings settings = settingsFor(request_);
    DetectionOptions detection;
    detection.minFaceSize = minFace_;
    QPointer<PipelineController> self(this);
    runInBackground([self, inputFolder, outputFolder, settings, detection, cancel] {
        namespace fs = std::filesystem;
        const fs::path root(inputFolder.toStdString());
        std::vector<std::string> inputs;
        try {
            inputs = findImages(root.string(), nullptr, outputFolder.toStdString());
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            if (self) QMetaObject::invokeMethod(self, [self, message] { if (self) emit self->failed(message); });
        }
        int written = 0, withoutFace = 0, failed = 0, blurred = 0, cautioned = 0, done = 0;
        std::set<std::string> taken;  // outputs of this run: x.tif and x.png both export as x.png
        for (const fs::path file : inputs) {
            if (cancel.cancelled()) break;
            try {
                DeidPipeline pipeline(loadImage(file.string()), detection);
                if (pipeline.faces().empty()) {
                    ++withoutFace;
                } else {
                    const std::string out = uniqueOutputPath(
                        exportName((fs::path(outputFolder.toStdString()) / fs::relative(file, root)).string()), taken);
                    ImageSaveOptions save;
                    save.protectedPaths = inputs;
                    std::vector<FaceOutcome> outcomes;
                    saveImage(out, pipeline.anonymizeEach(settings, {}, {}, &outcomes, true), pipeline.photo().alpha, save);
                    for (const FaceOutcome& o : outcomes) {
                        blurred += o.protection == FaceProtection::Blurred;
                        cautioned += !o.caution.empty();
                    }
                    ++written;
                }
            } catch (const std::exception&) {
                ++failed;
            }
            ++done;
            const QString name = QString::fromStdString(file.filename().string());
            const int total = int(inputs.size());
            if (self) QMetaObject::invokeMethod(self, [self, done, total, name] { if (self) emit self->batchProgress(done, total, name); });
        }
        const bool cancelled = cancel.cancelled();
        if (self)
            QMetaObject::invokeMethod(self, [self, written, withoutFace, failed, blurred, cautioned, cancelled] {
                if (self) emit self->batchFinished(written, withoutFace, failed, blurred, cautioned, cancelled);
            });
    });
}

void PipelineController::cancelBatch() { batchCancel_.cancel(); }

void PipelineController::exportPhoto(const ExportOptions& options) {
    QMetaObject::invokeMethod(worker_, "exportTo", Qt::QueuedConnection, Q_ARG(ideu::ui::ExportOptions, options));
}

}  // namespace ideu::ui

#include "pipeline_controller.moc"
