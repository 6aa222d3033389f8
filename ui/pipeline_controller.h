#pragma once
// The UI's single door to the core: owns a worker on its own QThread that holds the photo's
// DeidPipeline. Setting changes coalesce (the newest request wins, a result older than the
// one on screen is never shown), so the GUI thread never waits for the pipeline.
#include <QFutureWatcher>
#include <QImage>
#include <QObject>
#include <QPointF>
#include <QRect>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QThreadPool>
#include <QVector>

#include <atomic>
#include <functional>
#include <utility>
#include <memory>

#include "common/cancel.h"

namespace ideu {
class DeidPipeline;
}

namespace ideu::ui {

struct FaceSummary {
    int index = 0;
    QRect box;
    QImage thumbnail;
    // Why the face is blurred instead of anonymized (turned to profile, a failed fit); empty
    // when the 3-D pipeline anonymizes it.
    QString blurredBecause;
    // Why the anonymized face may be less protected (an apparent child's); empty otherwise.
    QString caution;
};

struct StageView {
    QString key;
    QString title;
    QImage image;
};

enum class ParserChoice { Mesh, BiSeNet };
enum class RestorerChoice { Blend, Gfpgan };
enum class HeadChoice { Mesh, HeadNerf };

struct PipelineRequest {
    quint64 generation = 0;
    double scale = 0.5;  // kDefaultScale (the core's header stays out of the UI's)
    quint64 seed = 1;
    int selectedFace = 0;
    QSet<int> excluded;  // faces left as they are
    // Neural backends for the "final quality" pass that follows the fast preview.
    ParserChoice parser = ParserChoice::Mesh;
    RestorerChoice restorer = RestorerChoice::Blend;
    HeadChoice head = HeadChoice::Mesh;
    // While a slider is held: the result is a preview (the faces as layers over the photo,
    // no readout check, no refinement); its release asks for the full result.
    bool preview = false;
    // The photo view's screen pixels per photo pixel, at most 1: previews are made at it.
    double previewScale = 1;
    bool wantsRefinement() const {
        return parser != ParserChoice::Mesh || restorer != RestorerChoice::Blend || head != HeadChoice::Mesh;
    }
};

struct BackendState {
    bool available = false;
    QString reason;
    QString licence;
};

// A face of a preview: its paste as a layer over the original photo (alpha the paste
// weight), with `scale` of its pixels per photo pixel; `origin` is its top-left pixel on
// that scaled grid.
struct PreviewLayer {
    QPoint origin;
    QImage image;
    double scale = 1;
};

struct PipelineResult {
    quint64 generation = 0;
    double scale = 0;
    quint64 seed = 0;
    int selectedFace = -1;
    QImage photo;               // the anonymized photo (null in a preview)
    // A preview's photo: the original with these laid over it in order (the faces anonymized,
    // at the view's resolution; faces left out have none).
    bool preview = false;
    QVector<PreviewLayer> layers;
    QVector<StageView> stages;  // of the selected face
    double milliseconds = 0;    // time the worker spent on this request
    bool refined = false;       // the "final quality" pass with the neural backends
    QString backends;           // which backends made it, for the status bar
};

// Both recognisers' verdicts on the output face against the original (the privacy readout).
struct IdentityReadout {
    bool detected = false;  // a face was found in the output where the original was
    double dlibDistance = 0, dlibThreshold = 0.6;
    bool dlibMatch = false;
    bool faceresAvailable = false;
    double faceresDistance = 0, faceresThreshold = 0;
    bool faceresMatch = false;
    QString verdict;              // "not matched by either", "matched by FaceRes", ...
    QString faceresUnavailable;   // why FaceRes gave no verdict
};

struct ExportOptions {
    QString path;
    int quality = 95;
    bool stageImages = false;
    bool sidecar = false;
};

class PipelineWorker;

class PipelineController : public QObject {
    Q_OBJECT
public:
    explicit PipelineController(QObject* parent = nullptr);
    ~PipelineController() override;
    // The stage panels (key and title, no image) in display order; X itself is the photo view.
    static QVector<StageView> stagePanels();
    // File-dialog patterns of the photo formats the pipeline opens ("*.jpg", ...).
    static QStringList imageNameFilters();

    const PipelineRequest& request() const { return request_; }
    // The thread the pipeline runs on: work queued to an object living there waits for the
    // pipeline (tests use it to hold the worker busy).
    QThread* workerThread() { return &thread_; }
    // Where the background checks, sweeps, refinements and batches run, at a lower priority.
    // Not Qt's global pool: Qt's raster engine scales large images on that pool while
    // painting, so work there would hold the GUI thread's paint until it ended.
    QThreadPool* backgroundPool() { return &background_; }
    // Runs `task` on that pool at the lower priority.
    void runInBackground(std::function<void()> task);
    bool hasPhoto() const { return photoOpen_; }
    QString photoPath() const { return photoPath_; }
    // The opened photo as the pipeline decoded it (EXIF orientation applied).
    QImage originalImage() const;
    static BackendState bisenetState();
    static BackendState gfpganState();
    static BackendState headnerfState();
    static QString deviceName();
    // The recognisers' match thresholds: dlib ResNet (Euclidean), FaceRes (cosine).
    static std::pair<double, double> matchThresholds();
    // The noise scale's default and the largest offered.
    static double defaultScale();
    static double maxScale();
    // The smallest face side (pixels) the detector looks for in photos opened from now on and
    // in folder runs (default 40).
    double minFaceSize() const { return minFace_; }
    void setMinFaceSize(double pixels) { minFace_ = pixels; }
    // The minimum the open photo was searched with (0 when none is open).
    double openedMinFaceSize() const;

public slots:
    void openPhoto(const QString& path);
    void setScale(double scale);
    void setSeed(quint64 seed);
    void setSelectedFace(int face);
    void setFaceIncluded(int face, bool included);
    // A slider is held (previews while dragging) or released (the full result follows).
    void setDragging(bool dragging);
    // The photo view's screen pixels per photo pixel (previews are made at it, up to 1).
    void setPreviewScale(double scale);
    void exportPhoto(const ExportOptions& options);
    void startPrivacySweep();
    // Applies the current scale and seed to every photo under `inputFolder`, mirroring the
    // tree into `outputFolder` (PNG/JPEG/WebP keep their format, others become PNG).
    void startBatch(const QString& inputFolder, const QString& outputFolder);
    void cancelBatch();
    void setBackends(ideu::ui::ParserChoice parser, ideu::ui::RestorerChoice restorer, ideu::ui::HeadChoice head);
    // Fits HeadNeRF to the selected face in the background (slow on a CPU); the codes are
    // kept for that face.
    void fitHeadNerf(int steps);
    void cancelHeadNerfFit();

signals:
    void busy(const QString& stage);
    void photoOpened(const QString& path, QSize size, const QVector<FaceSummary>& faces);
    void resultReady(const ideu::ui::PipelineResult& result);
    void identityChecked(quint64 generation, const ideu::ui::IdentityReadout& readout);
    void sweepPoint(double scale, const ideu::ui::IdentityReadout& readout);
    void sweepStarted();
    void sweepFinished();
    void exported(const QString& path);
    void failed(const QString& message);
    void batchProgress(int done, int total, const QString& file);
    // `blurredFaces`: faces the 3-D model could not take, blurred instead of anonymized.
    // `cautionedFaces`: faces anonymized with a caution (FaceOutcome::caution).
    void batchFinished(int written, int withoutFace, int failed, int blurredFaces, int cautionedFaces, bool cancelled);
    void headFitProgress(int step, int steps, double loss);
    void headFitFinished(bool completed);

private:
    void schedule();
    void dispatch();
    void onResult(const PipelineResult& result);
    void checkIdentityLater(quint64 generation);
    void refineLater(quint64 generation);

    QThread thread_;
    QThreadPool background_;
    PipelineWorker* worker_ = nullptr;
    PipelineRequest request_;
    bool photoOpen_ = false;
    double minFace_ = 40;
    int faceCount_ = 0;
    QString photoPath_;
    bool busy_ = false;
    bool pending_ = false;
    bool previewSent_ = false;  // a preview was asked for since the last full request
    quint64 shown_ = 0;
    std::shared_ptr<ideu::DeidPipeline> pipeline_;  // shared with the worker, for background checks
    // Each background task watches the token it was started with; starting the next one of its
    // kind (or a newer request, for the refinement and the readout's check) cancels it.
    ideu::CancelToken sweepCancel_;
    // Set while the slider is held, until the release's result is in: the sweep waits between
    // its points, so the previews have the CPU (beside a drag it made each preview about a
    // fifth slower).
    std::shared_ptr<std::atomic<bool>> sweepPaused_ = std::make_shared<std::atomic<bool>>(false);
    ideu::CancelToken batchCancel_;
    ideu::CancelToken refineCancel_;
    ideu::CancelToken headCancel_;
    ideu::CancelToken identityCancel_;  // the live readout's check of the result on screen
    struct Neural;
    std::shared_ptr<Neural> neural_;  // loaded neural backends, shared with background tasks
};

}  // namespace ideu::ui

Q_DECLARE_METATYPE(ideu::ui::PipelineRequest)
Q_DECLARE_METATYPE(ideu::ui::ParserChoice)
Q_DECLARE_METATYPE(ideu::ui::RestorerChoice)
Q_DECLARE_METATYPE(ideu::ui::HeadChoice)
Q_DECLARE_METATYPE(ideu::ui::PipelineResult)
Q_DECLARE_METATYPE(ideu::ui::ExportOptions)
Q_DECLARE_METATYPE(ideu::ui::IdentityReadout)
Q_DECLARE_METATYPE(QVector<ideu::ui::FaceSummary>)
