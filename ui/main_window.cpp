#include "main_window.h"

#include "export_dialog.h"
#include "image_view.h"
#include "privacy_plot_widget.h"

#include <algorithm>

#include <QAction>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QStandardItemModel>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSettings>
#include <QPainter>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

namespace ideu::ui {
namespace {

constexpr int kMaxRecent = 8;
constexpr int kScaleStepsPerUnit = 100;  // the slider moves in steps of 0.01

}  // namespace

QStringList MainWindow::stageKeys() {
    QStringList keys;
    for (const StageView& s : PipelineController::stagePanels()) keys << s.key;
    return keys;
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("IDEudemon — face de-identification"));
    setWindowIcon(QIcon(":/ideudemon.png"));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AllowNestedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AnimatedDocks);
    controller_ = new PipelineController(this);
    controller_->setMinFaceSize(std::clamp(QSettings().value("detection/minFace", 40).toInt(), 20, 2000));

    photoView_ = new ImageView;
    photoView_->setPlaceholder(tr("Open a photo (Ctrl+O) or drop one here.\nEvery face in it is de-identified."));
    setCentralWidget(photoView_);
    // Previews are made at the photo view's resolution (its device pixels per photo pixel).
    connect(photoView_, &ImageView::viewChanged, this, [this](double scale) {
        controller_->setPreviewScale(scale * photoView_->devicePixelRatioF());
    });

    buildDocks();
    buildMenus();

    statusStage_ = new QLabel(tr("Open a photo to start"));
    statusBusy_ = new QProgressBar;
    statusBusy_->setRange(0, 0);
    statusBusy_->setMaximumWidth(120);
    statusBusy_->setVisible(false);
    // Work shows as busy once it has lasted a moment: a re-render (a tenth of a second) would
    // flash the bar and a stage name per face, unreadable, and every flash lays out and
    // repaints the status bar and the window behind it while the slider is dragged.
    busyDelay_ = new QTimer(this);
    busyDelay_->setSingleShot(true);
    busyDelay_->setInterval(400);
    connect(busyDelay_, &QTimer::timeout, this, [this] {
        statusStage_->setText(pendingStage_);
        statusBusy_->setVisible(true);
    });
    statusTiming_ = new QLabel;
    // Of fixed size (a width that only grows, in showTiming), so that its new text on every
    // slider move does not lay the window out again.
    statusTiming_->setFixedSize(0, statusTiming_->sizeHint().height());
    statusBar()->addWidget(statusStage_, 1);
    statusBar()->addPermanentWidget(statusTiming_);
    statusBar()->addPermanentWidget(statusBusy_);
    statusBar()->addPermanentWidget(new QLabel(tr("Compute: %1").arg(PipelineController::deviceName())));

    connect(controller_, &PipelineController::photoOpened, this, &MainWindow::onPhotoOpened);
    connect(controller_, &PipelineController::resultReady, this, &MainWindow::onResult);
    connect(controller_, &PipelineController::failed, this, &MainWindow::onFailed);
    connect(controller_, &PipelineController::busy, this, &MainWindow::onBusy);
    connect(controller_, &PipelineController::exported, this, [this](const QString& path) {
        statusStage_->setText(tr("Exported %1").arg(QDir::toNativeSeparators(path)));
        emit exportFinished(path);
    });
    connect(controller_, &PipelineController::identityChecked, this, [this](quint64 generation, const IdentityReadout& readout) {
        if (generation == lastResult_.generation) privacyPlot_->setCurrentReadout(readout);
    });
    connect(controller_, &PipelineController::sweepStarted, this, [this] {
        privacyPlot_->clearSweep();
        privacyPlot_->setComputing(true);
    });
    connect(controller_, &PipelineController::sweepPoint, privacyPlot_, &PrivacyPlotWidget::addSweepPoint);
    connect(controller_, &PipelineController::sweepFinished, this, [this] { privacyPlot_->setComputing(false); });

    resize(1500, 950);
    restoreSettings();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildDocks() {
    // Faces.
    faceList_ = new QListWidget;
    faceList_->setViewMode(QListView::ListMode);
    faceList_->setIconSize(QSize(64, 64));
    faceList_->setToolTip(tr("Faces found, largest first. Untick a face to leave it as it is."));
    auto* facesDock = new QDockWidget(tr("Faces"), this);
    facesDock->setObjectName("faces");
    facesDock->setWidget(faceList_);
    addDockWidget(Qt::LeftDockWidgetArea, facesDock);
    connect(faceList_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && !updatingFaces_) {
            controller_->setSelectedFace(row);
            controller_->startPrivacySweep();
        }
    });
    connect(faceList_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        if (!updatingFaces_) controller_->setFaceIncluded(faceList_->row(item), item->checkState() == Qt::Checked);
    });

    // Controls.
    auto* controls = new QWidget;
    auto* form = new QFormLayout(controls);
    scaleSlider_ = new QSlider(Qt::Horizontal);
    scaleSlider_->setRange(0, int(std::lround(PipelineController::maxScale() * kScaleStepsPerUnit)));
    scaleSpin_ = new QDoubleSpinBox;
    scaleSpin_->setRange(0.0, PipelineController::maxScale());
    scaleSpin_->setSingleStep(0.01);
    scaleSpin_->setDecimals(2);
    auto* scaleRow = new QHBoxLayout;
    scaleRow->addWidget(scaleSlider_, 1);
    scaleRow->addWidget(scaleSpin_);
    form->addRow(tr("Noise scale:"), scaleRow);
    auto* scaleHelp = new QLabel(tr("0: the face's own 3-D fit; the higher, the further from the person. Default %1.")
                                     .arg(PipelineController::defaultScale(), 0, 'f', 2));
    scaleHelp->setWordWrap(true);
    scaleHelp->setStyleSheet("color: gray");
    form->addRow(scaleHelp);
    seedSpin_ = new QSpinBox;
    seedSpin_->setRange(0, 999999);
    seedSlider_ = new QSlider(Qt::Horizontal);
    seedSlider_->setRange(0, 999);
    auto* newSeedButton = new QPushButton(tr("New seed"));
    newSeedButton->setToolTip(tr("A different random person (Ctrl+R)"));
    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(seedSlider_, 1);
    seedRow->addWidget(seedSpin_);
    seedRow->addWidget(newSeedButton);
    form->addRow(tr("Seed:"), seedRow);
    beforeAfter_ = new QCheckBox(tr("Show the original (before)"));
    beforeAfter_->setToolTip(tr("Toggle before/after (Space)"));
    form->addRow(beforeAfter_);
    form->addRow(buildBackendBox());
    auto* controlsDock = new QDockWidget(tr("Identity noise"), this);
    controlsDock->setObjectName("controls");
    controlsDock->setWidget(controls);
    addDockWidget(Qt::RightDockWidgetArea, controlsDock);

    connect(scaleSlider_, &QSlider::valueChanged, this, [this](int v) {
        const double scale = double(v) / kScaleStepsPerUnit;
        if (std::abs(scaleSpin_->value() - scale) > 1e-9) {
            QSignalBlocker block(scaleSpin_);
            scaleSpin_->setValue(scale);
        }
        controller_->setScale(scale);
        privacyPlot_->setCurrentScale(scale);
    });
    // While a slider is held the photo shows previews; its release brings the full result.
    for (QSlider* slider : {scaleSlider_, seedSlider_}) {
        connect(slider, &QSlider::sliderPressed, controller_, [this] { controller_->setDragging(true); });
        connect(slider, &QSlider::sliderReleased, controller_, [this] { controller_->setDragging(false); });
    }
    connect(scaleSpin_, &QDoubleSpinBox::valueChanged, this, [this](double v) { scaleSlider_->setValue(int(std::lround(v * kScaleStepsPerUnit))); });
    connect(seedSpin_, &QSpinBox::valueChanged, this, [this](int v) {
        if (v < 1000 && seedSlider_->value() != v) {
            QSignalBlocker block(seedSlider_);
            seedSlider_->setValue(v);
        }
        controller_->setSeed(quint64(v));
        controller_->startPrivacySweep();
    });
    connect(seedSlider_, &QSlider::valueChanged, seedSpin_, &QSpinBox::setValue);
    connect(newSeedButton, &QPushButton::clicked, this, &MainWindow::newSeed);
    connect(beforeAfter_, &QCheckBox::toggled, this, &MainWindow::showBeforeAfter);

    // Privacy plot.
    privacyPlot_ = new PrivacyPlotWidget;
    auto* privacyDock = new QDockWidget(tr("Privacy"), this);
    privacyDock->setObjectName("privacy");
    privacyDock->setWidget(privacyPlot_);
    addDockWidget(Qt::RightDockWidgetArea, privacyDock);

    // Stage panels, side by side at the bottom; they zoom and pan together.
    sync_ = new ViewSync(this);
    QDockWidget* previous = nullptr;
    QList<QDockWidget*> stageDocks;
    for (const StageView& s : PipelineController::stagePanels()) {
        auto* view = new ImageView;
        view->setPlaceholder(tr("—"));
        sync_->add(view);
        stageViews_.insert(s.key, view);
        auto* dock = new QDockWidget(s.title, this);
        dock->setObjectName("stage_" + s.key);
        dock->setWidget(view);
        if (previous) splitDockWidget(previous, dock, Qt::Horizontal);
        else addDockWidget(Qt::BottomDockWidgetArea, dock);
        previous = dock;
        stageDocks << dock;
        stageDocks_.insert(s.key, dock);
    }
    resizeDocks(stageDocks, QList<int>(stageDocks.size(), 260), Qt::Vertical);
    resizeDocks({controlsDock, privacyDock}, {170, 420}, Qt::Vertical);
}

QWidget* MainWindow::buildBackendBox() {
    auto* box = new QGroupBox(tr("Backends (final quality)"));
    auto* form = new QFormLayout(box);
    struct Choice {
        QComboBox** combo;
        QString label, fast, neural;
        BackendState state;
    };
    const Choice choices[] = {
        {&parserBox_, tr("Parser:"), tr("Mesh + landmarks"), tr("BiSeNet"), PipelineController::bisenetState()},
        {&restorerBox_, tr("Restorer:"), tr("Multi-band blend"), tr("GFPGAN"), PipelineController::gfpganState()},
        {&headBox_, tr("Head:"), tr("3DMM mesh"), tr("HeadNeRF"), PipelineController::headnerfState()},
    };
    for (const Choice& c : choices) {
        auto* combo = new QComboBox;
        combo->addItem(c.fast);
        combo->addItem(c.neural);
        auto* model = qobject_cast<QStandardItemModel*>(combo->model());
        QStandardItem* item = model->item(1);
        if (!c.state.available) {
            // Greyed out, with the reason.
            item->setEnabled(false);
            item->setToolTip(c.state.reason);
            combo->setToolTip(tr("%1 is not installed: %2").arg(c.neural, c.state.reason));
        } else {
            item->setToolTip(tr("Licence: %1").arg(c.state.licence));
        }
        *c.combo = combo;
        form->addRow(c.label, combo);
        connect(combo, &QComboBox::currentIndexChanged, this, &MainWindow::applyBackends);
    }
    fitHeadButton_ = new QPushButton(tr("Fit HeadNeRF to this face…"));
    fitHeadButton_->setToolTip(tr("Slow on a CPU (about 6 s per step, 300 steps); runs in the background, cancel any time"));
    fitHeadButton_->setEnabled(false);
    form->addRow(fitHeadButton_);
    backendNote_ = new QLabel;
    backendNote_->setWordWrap(true);
    backendNote_->setStyleSheet("color: gray");
    form->addRow(backendNote_);
    connect(fitHeadButton_, &QPushButton::clicked, this, [this] {
        if (fitHeadButton_->text() == tr("Cancel HeadNeRF fit")) {
            controller_->cancelHeadNerfFit();
            return;
        }
        fitHeadButton_->setText(tr("Cancel HeadNeRF fit"));
        controller_->fitHeadNerf(300);
    });
    connect(controller_, &PipelineController::headFitProgress, this, [this](int step, int steps, double loss) {
        statusStage_->setText(tr("HeadNeRF fit: step %1 of %2, loss %3").arg(step).arg(steps).arg(loss, 0, 'f', 4));
    });
    connect(controller_, &PipelineController::headFitFinished, this, [this](bool completed) {
        fitHeadButton_->setText(tr("Fit HeadNeRF to this face…"));
        statusStage_->setText(completed ? tr("HeadNeRF fitted") : tr("HeadNeRF fit stopped; the best codes so far are used"));
    });
    return box;
}

void MainWindow::applyBackends() {
    const auto parser = parserBox_->currentIndex() == 1 ? ParserChoice::BiSeNet : ParserChoice::Mesh;
    const auto restorer = restorerBox_->currentIndex() == 1 ? RestorerChoice::Gfpgan : RestorerChoice::Blend;
    const auto head = headBox_->currentIndex() == 1 ? HeadChoice::HeadNerf : HeadChoice::Mesh;
    QStringList licences;
    if (parser == ParserChoice::BiSeNet) licences << tr("BiSeNet: %1").arg(PipelineController::bisenetState().licence);
    if (restorer == RestorerChoice::Gfpgan) licences << tr("GFPGAN: %1").arg(PipelineController::gfpganState().licence);
    if (head == HeadChoice::HeadNerf) licences << tr("HeadNeRF: %1").arg(PipelineController::headnerfState().licence);
    backendNote_->setText(licences.isEmpty() ? QString()
                                             : tr("The slider previews with the fast backends; the neural result follows. ") +
                                                   licences.join("; "));
    fitHeadButton_->setEnabled(head == HeadChoice::HeadNerf);
    controller_->setBackends(parser, restorer, head);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open photo…"), this, &MainWindow::chooseAndOpen);
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &recent"));
    QAction* exportAction = file->addAction(tr("&Export…"), this, &MainWindow::chooseAndExport);
    exportAction->setShortcut(QKeySequence(tr("Ctrl+E")));
    QAction* batch = file->addAction(tr("Anonymize a &folder…"), this, &MainWindow::openBatch);
    batch->setShortcut(QKeySequence(tr("Ctrl+B")));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    auto allViews = [this] {
        QList<ImageView*> views = stageViews_.values();
        views << photoView_;
        return views;
    };
    QAction* zoomIn = view->addAction(tr("Zoom &in"), this, [=] { for (ImageView* v : allViews()) v->zoomIn(); });
    zoomIn->setShortcuts({QKeySequence::ZoomIn, QKeySequence(tr("Ctrl+="))});
    QAction* zoomOut = view->addAction(tr("Zoom &out"), this, [=] { for (ImageView* v : allViews()) v->zoomOut(); });
    zoomOut->setShortcut(QKeySequence::ZoomOut);
    QAction* fit = view->addAction(tr("&Fit"), this, [=] { for (ImageView* v : allViews()) v->zoomToFit(); });
    fit->setShortcut(QKeySequence(tr("Ctrl+0")));
    QAction* actual = view->addAction(tr("&Actual size"), this, [=] { for (ImageView* v : allViews()) v->zoomActualSize(); });
    actual->setShortcut(QKeySequence(tr("Ctrl+1")));
    QAction* toggle = view->addAction(tr("&Before / after"), this, [this] { beforeAfter_->toggle(); });
    toggle->setShortcut(QKeySequence(Qt::Key_Space));
    view->addSeparator();
    QMenu* panels = view->addMenu(tr("&Panels"));
    for (QDockWidget* dock : findChildren<QDockWidget*>()) panels->addAction(dock->toggleViewAction());

    QMenu* face = menuBar()->addMenu(tr("F&ace"));
    QAction* next = face->addAction(tr("&Next face"), this, [this] { selectRelativeFace(+1); });
    next->setShortcuts({QKeySequence(Qt::Key_PageDown), QKeySequence(tr("Ctrl+Right"))});
    QAction* previous = face->addAction(tr("&Previous face"), this, [this] { selectRelativeFace(-1); });
    previous->setShortcuts({QKeySequence(Qt::Key_PageUp), QKeySequence(tr("Ctrl+Left"))});
    QAction* seed = face->addAction(tr("New &seed"), this, &MainWindow::newSeed);
    seed->setShortcut(QKeySequence(tr("Ctrl+R")));
    face->addSeparator();
    face->addAction(tr("Smallest face &size…"), this, [this] {
        bool ok = false;
        const int px = QInputDialog::getInt(this, tr("Smallest face size"),
                                            tr("Find faces down to this side, in pixels, at any photo size\n"
                                               "(smaller takes longer; faces below it are left unchanged):"),
                                            int(controller_->minFaceSize()), 20, 2000, 5, &ok);
        if (!ok) return;
        controller_->setMinFaceSize(px);
        QSettings().setValue("detection/minFace", px);
        if (controller_->hasPhoto()) openPhoto(controller_->photoPath());  // detect again
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About IDEudemon"),
                           tr("<b>IDEudemon %1</b><p>De-identifies faces in photos with the two-step method of "
                              "<i>Divide and Conquer: a Two-Step Method for High Quality Face De-identification</i>: "
                              "Step I perturbs the identity code of a fitted 3-D face model, Step II keeps hair, "
                              "background and body and blends a photo-real face back.</p>"
                              "<p>Models: ICT-FaceKit (MIT); the appearance model (albedo and skin detail), built "
                              "from 564 StyleGAN2 faces of nobody: <b>non-commercial</b> (NVIDIA's licence for "
                              "StyleGAN2/FFHQ; build your own from a gallery you have the rights to); dlib face "
                              "detector and 68-point landmarks (the landmark model is trained on iBUG 300-W, not for "
                              "commercial use); the dlib ResNet (face-api, MIT) and HSE FaceRes (human-models, MIT) "
                              "recognisers for the privacy readout.</p><p>No network access; exports carry no metadata.</p>")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::restoreSettings() {
    QSettings settings;
    if (settings.contains("window/geometry")) restoreGeometry(settings.value("window/geometry").toByteArray());
    if (settings.contains("window/state")) restoreState(settings.value("window/state").toByteArray());
    const double scale = settings.value("options/scale", PipelineController::defaultScale()).toDouble();
    scaleSlider_->setValue(int(std::lround(scale * kScaleStepsPerUnit)));
    {
        QSignalBlocker block(scaleSpin_);
        scaleSpin_->setValue(scale);
    }
    seedSpin_->setValue(int(QRandomGenerator::global()->bounded(1000)));
    rebuildRecentMenu();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("options/scale", scaleSpin_->value());
    QMainWindow::closeEvent(event);
}

QString MainWindow::lastFolder() const { return QSettings().value("paths/lastFolder", QDir::homePath()).toString(); }
void MainWindow::setLastFolder(const QString& folder) { QSettings().setValue("paths/lastFolder", folder); }

void MainWindow::addRecent(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value("paths/recent").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent) recent.removeLast();
    settings.setValue("paths/recent", recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    const QStringList recent = QSettings().value("paths/recent").toStringList();
    for (const QString& path : recent) recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openPhoto(path); })->setToolTip(path);
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::chooseAndOpen() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open photo"), lastFolder(),
                                                      tr("Photos (%1)").arg(PipelineController::imageNameFilters().join(' ')));
    if (!path.isEmpty()) openPhoto(path);
}

void MainWindow::openPhoto(const QString& path) {
    setLastFolder(QFileInfo(path).absolutePath());
    lastError_.clear();
    statusStage_->setText(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    controller_->openPhoto(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) openPhoto(urls.first().toLocalFile());
}

void MainWindow::onPhotoOpened(const QString& path, QSize size, const QVector<FaceSummary>& faces) {
    addRecent(path);
    setWindowTitle(tr("%1 — IDEudemon").arg(QFileInfo(path).fileName()));
    original_ = controller_->originalImage();
    photoView_->setImage(original_);  // the photo as it is until its first result
    updatingFaces_ = true;
    faceList_->clear();
    for (const FaceSummary& f : faces) {
        const bool blurred = !f.blurredBecause.isEmpty(), caution = !f.caution.isEmpty();
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(f.thumbnail)),
                                         blurred   ? tr("Face %1 (blurred)").arg(f.index + 1)
                                         : caution ? tr("Face %1 (caution)").arg(f.index + 1)
                                                   : tr("Face %1").arg(f.index + 1));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
        QString tip = tr("%1 x %2 px at (%3, %4)").arg(f.box.width()).arg(f.box.height()).arg(f.box.x()).arg(f.box.y());
        if (blurred) tip += tr("\nBlurred, not anonymized: %1").arg(f.blurredBecause);
        if (caution) tip += tr("\nAnonymized, with a caution: %1").arg(f.caution);
        item->setToolTip(tip);
        faceList_->addItem(item);
    }
    if (!faces.isEmpty()) faceList_->setCurrentRow(0);
    updatingFaces_ = false;
    for (ImageView* v : stageViews_) v->setImage(QImage());
    if (faces.isEmpty()) {
        onFailed(tr("No face found in %1. Nothing to de-identify (the photo is shown unchanged).").arg(QFileInfo(path).fileName()));
        photoView_->setPlaceholder(tr("No face found."));
    } else {
        photoSummary_ = tr("%1: %2 x %3, %4 face(s)").arg(QFileInfo(path).fileName()).arg(size.width()).arg(size.height()).arg(faces.size());
        statusStage_->setText(photoSummary_);
        controller_->startPrivacySweep();
    }
}

void MainWindow::onResult(const PipelineResult& result) {
    if (result.preview) {
        // The faces laid over the original at the view's resolution: the full result at the
        // screen's pixels, for a fraction of the conversion and painting.
        if (lastResult_.photo.isNull()) return;  // the full result follows
        const QImage base = lastResult_.photo;  // the last full result, for the before/after toggle
        lastResult_ = result;
        lastResult_.photo = base;
        if (!beforeAfter_->isChecked()) showLayers();
    } else {
        const bool first = lastResult_.photo.isNull() || lastResult_.photo.size() != result.photo.size();
        lastResult_ = result;
        if (!beforeAfter_->isChecked()) photoView_->setImage(result.photo);
        if (first) photoView_->zoomToFit();
    }
    for (const StageView& s : result.stages) {
        if (ImageView* v = stageViews_.value(s.key)) v->setImage(s.image);
        // The dock title says which backend made the stage.
        if (QDockWidget* dock = stageDocks_.value(s.key)) dock->setWindowTitle(s.title);
    }
    // A result on screen is progress the user sees: the busy bar waits again for work that
    // lasts (while the slider is dragged, results come every tenth of a second).
    if (statusBusy_->isVisible()) {
        statusBusy_->setVisible(false);
        statusStage_->setText(photoSummary_);
    }
    if (busyDelay_->isActive()) busyDelay_->start();
    showTiming(tr("%1scale %2, seed %3 — %4 ms")
                               .arg(result.refined   ? tr("final quality (%1): ").arg(result.backends)
                                    : result.preview ? tr("preview while dragging: ")
                                                     : QString())
                               .arg(result.scale, 0, 'f', 2)
                               .arg(result.seed)
                               .arg(result.milliseconds, 0, 'f', 0));
    emit resultShown(result.generation);
}

void MainWindow::setBusyDelay(int milliseconds) { busyDelay_->setInterval(milliseconds); }

void MainWindow::showTiming(const QString& text) {
    // Room for a few more digits, so the width settles after the first preview.
    const int width = statusTiming_->fontMetrics().horizontalAdvance(text + "0000") + 2 * statusTiming_->margin();
    if (width > statusTiming_->width()) statusTiming_->setFixedWidth(width);
    statusTiming_->setText(text);
}

void MainWindow::showBeforeAfter(bool original) {
    if (lastResult_.photo.isNull()) return;
    if (!original && lastResult_.preview) showLayers();
    else photoView_->setImage(original ? original_ : lastResult_.photo);
}

void MainWindow::showLayers() {
    QVector<ImageView::Layer> layers;
    for (const PreviewLayer& p : lastResult_.layers) layers.push_back({p.origin, p.image, p.scale});
    photoView_->setImage(original_);  // the layers go over the original
    photoView_->setLayers(layers);
}

void MainWindow::onFailed(const QString& message) {
    lastError_ = message;
    statusStage_->setText(message);
    busyDelay_->stop();
    statusBusy_->setVisible(false);
    if (!errorBox_) {
        errorBox_ = new QMessageBox(QMessageBox::Warning, tr("IDEudemon"), message, QMessageBox::Ok, this);
        errorBox_->setAttribute(Qt::WA_DeleteOnClose);
        errorBox_->setModal(false);
    } else {
        errorBox_->setText(message);
    }
    errorBox_->show();
}

void MainWindow::onBusy(const QString& stage) {
    if (stage == tr("Ready")) {
        busyDelay_->stop();
        statusStage_->setText(stage);
        statusBusy_->setVisible(false);
        return;
    }
    pendingStage_ = stage;
    if (statusBusy_->isVisible()) statusStage_->setText(stage);  // long work: show its progress
    else if (!busyDelay_->isActive()) busyDelay_->start();
}

void MainWindow::newSeed() { seedSpin_->setValue(int(QRandomGenerator::global()->bounded(1000000))); }

void MainWindow::selectRelativeFace(int step) {
    const int n = faceList_->count();
    if (n == 0) return;
    faceList_->setCurrentRow(((faceList_->currentRow() + step) % n + n) % n);
}

void MainWindow::chooseAndExport() {
    if (lastResult_.photo.isNull()) {
        onFailed(tr("Open a photo first."));
        return;
    }
    QSettings settings;
    const QString folder = settings.value("paths/exportFolder", lastFolder()).toString();
    const QString format = settings.value("options/exportFormat", "png").toString();
    const QString suggested = QDir(folder).filePath(QFileInfo(controller_->photoPath()).completeBaseName() + "_anonymized." + format);
    ExportDialog dialog(suggested, settings.value("options/exportQuality", 95).toInt(), this);
    if (dialog.exec() != QDialog::Accepted) return;
    const ExportOptions options = dialog.options();
    settings.setValue("paths/exportFolder", QFileInfo(options.path).absolutePath());
    settings.setValue("options/exportFormat", QFileInfo(options.path).suffix().toLower());
    settings.setValue("options/exportQuality", options.quality);
    exportTo(options);
}

void MainWindow::exportTo(const ExportOptions& options) { controller_->exportPhoto(options); }

void MainWindow::openBatch() {
    BatchDialog dialog(controller_, lastFolder(), this);
    dialog.exec();
}

}  // namespace ideu::ui
