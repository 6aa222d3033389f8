// The editor, offscreen: opening fills the face list and the stage panels; a burst of slider
// moves ends on the last value's result without the GUI thread waiting for the pipeline; a
// drag shows previews and its release the full result, which replaces them; and
// background work stays off Qt's own thread pool (which painting uses), at a lower priority, and
// a newer request cancels the stale readout check, and the privacy sweep waits while the slider
// is held; a slider move repaints only what changed;
// export writes a metadata-free file (and the stage images when asked); a bad file gives a message and the app
// stays usable; the privacy readout and sweep agree with the library; an unticked face stays
// as it is (in previews too); batch mirrors a folder, counts photos without a face or broken, and cancels.
#include "common/files.h"
#include "evaluation/identity_check.h"
#include "image_view.h"
#include "io/image_io.h"
#include "main_window.h"
#include "pipeline/deid_pipeline.h"
#include "privacy_plot_widget.h"
#include "qt_convert.h"
#include "test_support.h"

#include <QLabel>
#include <qcustomplot.h>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QStatusBar>
#include <QSemaphore>
#include <QThreadPool>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QDoubleSpinBox>
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace ideu;
using namespace ideu::ui;

namespace {

// Waits until the window shows the result of the controller's newest request.
bool waitForLatest(MainWindow& w, int timeoutMs = 60000) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (w.lastResult().generation == w.controller()->request().generation && !w.lastResult().photo.isNull()) return true;
        QTest::qWait(20);
    }
    return false;
}

// Waits until `done()` holds, processing events.
bool waitUntil(const std::function<bool()>& done, int timeoutMs = 120000) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (done()) return true;
        QTest::qWait(20);
    }
    return false;
}

// Opens a photo in the window (or the bare controller) and waits until the controller has
// detected and fitted it.
bool openAndWait(MainWindow& w, const QString& photo) {
    QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
    w.openPhoto(photo);
    return opened.wait(60000);
}
bool openAndWait(PipelineController& controller, const QString& photo) {
    QSignalSpy opened(&controller, &PipelineController::photoOpened);
    controller.openPhoto(photo);
    return opened.wait(60000);
}
// ... and until its first result is on screen.
bool openAndShow(MainWindow& w, const QString& photo) { return openAndWait(w, photo) && waitForLatest(w); }

// Holds threads busy, so work sent to them waits, until release() or destruction (a failing
// check returns early; the hold must not outlive the window or controller it blocks).
class ThreadHold {
public:
    ~ThreadHold() { release(); }
    // The thread's event loop: queued calls to objects living there wait.
    void holdThread(QThread* thread) {
        auto* context = new QObject;
        context->moveToThread(thread);
        QMetaObject::invokeMethod(context, [gate = gate_, context] {
            gate->acquire();
            context->deleteLater();
        }, Qt::QueuedConnection);
        ++held_;
    }
    // Every thread of the pool: tasks started there queue.
    void holdPool(QThreadPool* pool) {
        for (int i = 0; i < pool->maxThreadCount(); ++i, ++held_) pool->start([gate = gate_] { gate->acquire(); });
    }
    void release() {
        gate_->release(held_);
        held_ = 0;
    }

private:
    std::shared_ptr<QSemaphore> gate_ = std::make_shared<QSemaphore>();
    int held_ = 0;
};

DeidSettings settingsOf(const PipelineResult& result) {
    DeidSettings settings;
    settings.scale = result.scale;
    settings.seed = result.seed;
    return settings;
}

}  // namespace

class TestGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        QCoreApplication::setOrganizationName("IDEudemon-tests");
        QCoreApplication::setApplicationName("test_gui");
        QSettings().clear();
    }

    void openingFillsFacesAndPanels() {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, test::facePhoto("obama/obama.jpg")));
        QCOMPARE(w.faceList()->count(), 1);
        QCOMPARE(w.faceList()->item(0)->checkState(), Qt::Checked);
        QVERIFY(!w.faceList()->item(0)->icon().isNull());
        QVERIFY(waitForLatest(w));
        QVERIFY(!w.photoView()->image().isNull());
        for (const QString& key : MainWindow::stageKeys()) QVERIFY2(!w.stageView(key)->image().isNull(), qPrintable(key));
        QCOMPARE(w.stageView("X_final")->image().size(), QSize(512, 512));
        // A new user starts at the core's default scale (the UI header spells it out).
        QCOMPARE(PipelineRequest().scale, PipelineController::defaultScale());
        QCOMPARE(w.controller()->request().scale, PipelineController::defaultScale());
    }

    void sliderBurstEndsOnTheLastValueWithoutFreezing() {
        MainWindow w;
        w.show();
        const QString photo = test::facePhoto("jolie/img5.jpg");
        QVERIFY(openAndShow(w, photo));
        w.seedSpin()->setValue(77);
        QVERIFY(waitForLatest(w));

        // Hold the pipeline's thread busy: whatever the controller sends it now waits.
        ThreadHold hold;
        hold.holdThread(w.controller()->workerThread());

        // 200 moves arrive while the pipeline cannot answer. The GUI thread must take every
        // one and keep turning its event loop; if it waited for the pipeline it would hang here.
        int turns = 0;
        QTimer ticker;
        ticker.setInterval(0);
        connect(&ticker, &QTimer::timeout, [&turns] { ++turns; });
        ticker.start();
        const quint64 before = w.controller()->request().generation;
        QSignalSpy results(w.controller(), &PipelineController::resultReady);
        for (int i = 0; i < 200; ++i) {
            w.scaleSlider()->setValue(5 + (i * 7) % 36);  // 0.05 .. 0.40
            QTest::qWait(1);
        }
        w.scaleSlider()->setValue(23);
        const int turnsWhileBlocked = turns;
        QVERIFY2(turnsWhileBlocked >= 200, qPrintable(QString::number(turnsWhileBlocked)));
        QCOMPARE(w.controller()->request().generation, before + 201);  // every change was taken
        QCOMPARE(w.controller()->request().scale, 0.23);
        QCOMPARE(results.count(), 0);

        // Once free, the pipeline runs the request it was sent first and then only the newest:
        // the burst coalesces into two runs, the last one on screen.
        hold.release();
        QVERIFY(waitForLatest(w));
        ticker.stop();
        QTest::qWait(50);
        QCOMPARE(results.count(), 2);
        QCOMPARE(w.lastResult().scale, 0.23);
        QCOMPARE(w.lastResult().seed, quint64(77));

        // The same as the command line's result for that scale and seed.
        DeidPipeline pipeline(loadImage(photo.toStdString()));
        DeidSettings settings;
        settings.scale = 0.23;
        settings.seed = 77;
        const cv::Mat expected = pipeline.anonymize(settings, {});
        QCOMPARE(test::maxAbsDiff(toMat(w.lastResult().photo), expected), 0.0);
    }

    // While the slider is held the photo shows previews (the faces as layers over the
    // original at the view's resolution, with their own stage panels); the release brings the
    // full result, which replaces the preview and is never older than it.
    void dragShowsPreviewsAndTheReleaseTheFullResult() {
        MainWindow w;
        w.show();
        const QString photo = test::facePhoto("obama/obama.jpg");
        QVERIFY(openAndShow(w, photo));
        QVERIFY(!w.lastResult().preview);
        w.photoView()->zoomActualSize();  // a preview at the photo's own resolution

        QSignalSpy checks(w.controller(), &PipelineController::identityChecked);
        w.scaleSlider()->setSliderDown(true);
        w.scaleSlider()->setValue(31);
        QVERIFY(waitForLatest(w));
        const PipelineResult preview = w.lastResult();
        QVERIFY(preview.preview);
        QCOMPARE(preview.layers.size(), 1);
        QCOMPARE(preview.layers[0].scale, 1.0);
        QCOMPARE(preview.scale, 0.31);
        // The panels show the preview's own stages, not the earlier result's.
        int panels = 0;
        for (const StageView& s : preview.stages)
            if (const ImageView* view = w.stageView(s.key)) {  // X is the photo view itself
                QCOMPARE(test::maxAbsDiff(toMat(view->image()), toMat(s.image)), 0.0);
                ++panels;
            }
        QCOMPARE(panels, int(MainWindow::stageKeys().size()));
        const QImage previewShown = w.photoView()->image();

        // Hold the pipeline: a second move queues behind the first, the release behind both.
        ThreadHold hold;
        hold.holdThread(w.controller()->workerThread());
        w.scaleSlider()->setValue(27);
        QTest::qWait(20);
        w.scaleSlider()->setSliderDown(false);
        const quint64 released = w.controller()->request().generation;
        QVERIFY(!w.controller()->request().preview);
        hold.release();
        QVERIFY(waitUntil([&] { return w.lastResult().generation == released; }));
        QVERIFY(!w.lastResult().preview);
        QCOMPARE(w.lastResult().scale, 0.27);
        QTest::qWait(100);  // nothing older replaces it
        QCOMPARE(w.lastResult().generation, released);
        // No readout check ran for a preview; the full result gets its check.
        QVERIFY(waitUntil([&] { return !checks.isEmpty(); }));
        for (const QList<QVariant>& c : checks) QCOMPARE(c.at(0).toULongLong(), released);

        // The full result is what the view shows, and the preview showed its own (up to its
        // layer's 8-bit alpha).
        DeidPipeline pipeline(loadImage(photo.toStdString()));
        DeidSettings settings;
        settings.seed = w.lastResult().seed;
        settings.scale = 0.27;
        QCOMPARE(test::maxAbsDiff(toMat(w.photoView()->image()), pipeline.anonymize(settings, {})), 0.0);
        settings.scale = 0.31;
        const cv::Mat full = pipeline.anonymize(settings, {});
        QVERIFY(test::maxAbsDiff(toMat(previewShown), full) <= 1);

        // Zoomed out, the preview is made at the view's resolution: its layer has the view's
        // pixels, and over the original it is the full result at that resolution.
        w.photoView()->zoomToFit();
        const double viewScale = w.photoView()->transform().m11() * w.photoView()->devicePixelRatioF();
        QVERIFY(viewScale < 0.9);
        w.scaleSlider()->setSliderDown(true);
        w.scaleSlider()->setValue(31);
        QVERIFY(waitUntil([&] { return w.lastResult().preview && w.lastResult().scale == 0.31; }));
        const PipelineResult zoomedOut = w.lastResult();
        QCOMPARE(zoomedOut.layers.size(), 1);
        QCOMPARE(zoomedOut.layers[0].scale, viewScale);
        const QSize layer = zoomedOut.layers[0].image.size();
        const QSize fullLayer = preview.layers[0].image.size();
        QVERIFY2(std::abs(layer.width() - fullLayer.width() * viewScale) <= 6 && std::abs(layer.height() - fullLayer.height() * viewScale) <= 6, qPrintable(QString("%1x%2 %3x%4 %5").arg(layer.width()).arg(layer.height()).arg(fullLayer.width()).arg(fullLayer.height()).arg(viewScale)));
        cv::Mat shownSmall, fullSmall, originalSmall;
        const cv::Size small(int(std::ceil(full.cols * viewScale)), int(std::ceil(full.rows * viewScale)));
        cv::resize(toMat(w.photoView()->image()), shownSmall, small, 0, 0, cv::INTER_AREA);
        cv::resize(full, fullSmall, small, 0, 0, cv::INTER_AREA);
        cv::resize(pipeline.photo().bgr, originalSmall, small, 0, 0, cv::INTER_AREA);
        const cv::Rect where(cv::Point(zoomedOut.layers[0].origin.x(), zoomedOut.layers[0].origin.y()), cv::Size(layer.width(), layer.height()));
        auto meanDifference = [&](const cv::Mat& a, const cv::Mat& b) {
            cv::Mat d;
            cv::absdiff(a(where), b(where), d);
            return cv::mean(d.reshape(1))[0];
        };
        QVERIFY2(meanDifference(shownSmall, fullSmall) < 1.5, qPrintable(QString::number(meanDifference(shownSmall, fullSmall))));
        QVERIFY(meanDifference(originalSmall, fullSmall) > 4);
        w.scaleSlider()->setSliderDown(false);
        QVERIFY(waitUntil([&] { return !w.lastResult().preview; }));
    }

    // A slider move repaints what changed and nothing more: the window is not laid out again
    // (the timing's label has a fixed size), the busy bar does not flash for a re-render of a
    // tenth of a second, the stage panels keep their transform (fitting them again would
    // scroll every synced panel) and the plot redraws only its current-setting layer. Work
    // that lasts still shows the busy bar, with its stage, until its result is on screen.
    void aSliderMoveRepaintsOnlyWhatChanged() {
        MainWindow w;
        w.show();
        w.setBusyDelay(3000);  // longer than any preview here, however loaded the machine
        QSignalSpy sweepDone(w.controller(), &PipelineController::sweepFinished);
        QVERIFY(openAndShow(w, test::facePhoto("obama/obama.jpg")));
        QVERIFY(waitUntil([&] { return !sweepDone.isEmpty(); }));  // its points replot the plot
        auto newestShown = [&](bool preview) {
            return waitUntil([&] {
                return w.lastResult().generation == w.controller()->request().generation && w.lastResult().preview == preview;
            });
        };
        w.scaleSlider()->setSliderDown(true);
        w.scaleSlider()->setValue(13);  // the first preview: the timing's label takes its width
        QVERIFY(newestShown(true));

        struct Watch : QObject {
            QObject *window = nullptr, *statusBar = nullptr, *busyBar = nullptr;
            int layouts = 0, busyShown = 0;
            bool eventFilter(QObject* o, QEvent* e) override {
                if (e->type() == QEvent::LayoutRequest && (o == window || o == statusBar)) ++layouts;
                if (e->type() == QEvent::Show && o == busyBar) ++busyShown;
                return false;
            }
        } watch;
        watch.window = &w;
        watch.statusBar = w.statusBar();
        watch.busyBar = w.busyIndicator();
        qApp->installEventFilter(&watch);
        QSignalSpy refits(w.stageView("X_final"), &ImageView::viewChanged);
        QSignalSpy replots(w.findChild<PrivacyPlotWidget*>()->plot(), &QCustomPlot::afterReplot);
        QSignalSpy checks(w.controller(), &PipelineController::identityChecked);
        for (int value : {20, 27, 34, 41}) {
            w.scaleSlider()->setValue(value);
            QVERIFY(newestShown(true));
        }
        w.scaleSlider()->setSliderDown(false);
        QVERIFY(newestShown(false));
        qApp->removeEventFilter(&watch);
        QVERIFY(waitUntil([&] { return !checks.isEmpty(); }));  // the release's readout, on the plot
        QCOMPARE(w.lastResult().scale, 0.41);
        QCOMPARE(watch.layouts, 0);
        QCOMPARE(watch.busyShown, 0);
        QCOMPARE(refits.count(), 0);
        QCOMPARE(replots.count(), 0);
        // What the plot shows after those layer redraws is what a full redraw shows: the
        // current setting at 0.41, with its readout's markers.
        QCustomPlot* plot = w.findChild<PrivacyPlotWidget*>()->plot();
        const QImage shown = plot->grab().toImage();
        plot->replot();
        QCOMPARE(plot->grab().toImage(), shown);

        // Work that lasts (loading, detecting, fitting) shows the bar and its stage, until its
        // result is on screen.
        w.setBusyDelay(50);
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(test::facePhoto("jolie/img5.jpg"));
        QVERIFY(waitUntil([&] { return w.busyIndicator()->isVisible(); }));
        const QString stage = w.statusStage()->text();
        const QStringList stages{"Loading", "Detecting", "Fitting", "Re-rendering", "Pasting"};
        QVERIFY2(std::any_of(stages.begin(), stages.end(), [&](const QString& s) { return stage.startsWith(s); }), qPrintable(stage));
        QVERIFY(opened.wait(60000));
        QVERIFY(waitForLatest(w));
        QVERIFY(!w.busyIndicator()->isVisible());
    }

    // While the slider is held the privacy sweep waits between its points, so the previews
    // have the CPU; on release it goes on and completes.
    void theSweepWaitsWhileTheSliderIsHeld() {
        MainWindow w;
        w.show();
        QVERIFY(openAndShow(w, test::facePhoto("obama/obama.jpg")));
        w.scaleSlider()->setSliderDown(true);
        QSignalSpy points(w.controller(), &PipelineController::sweepPoint);
        QSignalSpy sweepDone(w.controller(), &PipelineController::sweepFinished);
        w.seedSpin()->setValue(w.seedSpin()->value() + 1);  // a new sweep, started while held
        w.scaleSlider()->setValue(30);
        QTest::qWait(3000);  // unpaused, the sweep makes several of its 9 points in this time
        QVERIFY2(points.count() <= 1, qPrintable(QString::number(points.count())));
        QVERIFY(sweepDone.isEmpty());
        w.scaleSlider()->setSliderDown(false);
        QVERIFY(waitUntil([&] { return !sweepDone.isEmpty(); }));
        QCOMPARE(points.count(), 9);
    }

    // The worker's images are in the raster pixmap's own format: the GUI thread's pixmap
    // shares their pixels instead of converting them (a 12-MP photo: about 25 ms).
    void imagesFromTheWorkerBecomePixmapsWithoutAConversion() {
        const cv::Mat photo = test::syntheticPicture(640, 480, 3);
        const QImage image = toQImage(photo);
        QCOMPARE(test::maxAbsDiff(toMat(image), photo), 0.0);
        QCOMPARE(QPixmap::fromImage(image).toImage().constBits(), image.constBits());
    }

    void exportWritesAMetadataFreeFile() {
        // A JPEG with EXIF/GPS as input.
        const Image src = loadImage(test::facePhoto("bbt_amy/amy1.png").toStdString());
        std::vector<std::uint8_t> jpeg = encodeImage(src.bgr, {}, ImageFormat::Jpeg);
        const std::string exif = std::string("Exif\0\0II*\0\x08\0\0\0\x01\0\x25\x88\x04\0\x01\0\0\0\x1a\0\0\0\0\0\0\0", 32) + "GPS secret location";
        std::vector<std::uint8_t> app1 = {0xFF, 0xE1, 0, std::uint8_t(exif.size() + 2)};
        app1.insert(app1.end(), exif.begin(), exif.end());
        jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
        const QString input = dir_.filePath("with_gps.jpg");
        test::writeBytes(input, jpeg);

        MainWindow w;
        w.show();
        QVERIFY(openAndShow(w, input));
        QSignalSpy exported(&w, &MainWindow::exportFinished);
        ExportOptions options;
        options.path = dir_.filePath("out/amy_anonymized.jpg");
        options.quality = 90;
        options.sidecar = true;
        w.exportTo(options);
        QVERIFY(exported.wait(30000));
        const auto bytes = test::readBytes(options.path);
        QVERIFY(!bytes.empty());
        const ImageHeader header = probeImage(bytes.data(), bytes.size(), "export");
        QVERIFY(header.metadata.empty());
        const std::string text(bytes.begin(), bytes.end());
        QVERIFY(text.find("GPS secret") == std::string::npos);
        QVERIFY(text.find("Exif") == std::string::npos);
        QVERIFY(QFile::exists(options.path + ".json"));
        // Exporting over the input is refused, the input stays.
        const std::string before = test::fileSha256(input);
        QSignalSpy failed(w.controller(), &PipelineController::failed);
        options.path = input;
        options.sidecar = false;
        w.exportTo(options);
        QVERIFY(failed.wait(30000));
        QVERIFY(failed.at(0).at(0).toString().contains("refusing to overwrite input"));
        QCOMPARE(test::fileSha256(input), before);
    }

    void badFileShowsAMessageAndTheAppStaysUsable() {
        MainWindow w;
        w.show();
        const QString bad = dir_.filePath("broken.png");
        test::writeBytes(bad, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13});
        QSignalSpy failed(w.controller(), &PipelineController::failed);
        w.openPhoto(bad);
        QVERIFY(failed.wait(30000));
        QVERIFY(w.lastError().contains("broken.png"));
        QVERIFY(w.lastError().contains("truncated"));
        const auto boxes = w.findChildren<QMessageBox*>();
        QVERIFY(!boxes.isEmpty() && boxes.first()->isVisible() && !boxes.first()->isModal());
        // Still usable: a good photo opens and is processed.
        QVERIFY(openAndShow(w, test::facePhoto("bbt_raj/raj1.png")));
        QCOMPARE(w.faceList()->count(), 1);
    }

    void smallestFaceSettingBlurredFacesAndCautionsAreShown() {
        MainWindow w;
        w.show();
        // The setting reaches the detector of the next photo opened.
        w.controller()->setMinFaceSize(120);
        QVERIFY(openAndShow(w, test::facePhoto("obama/obama.jpg")));
        QCOMPARE(w.controller()->openedMinFaceSize(), 120.0);
        QCOMPARE(w.faceList()->count(), 1);
        w.controller()->setMinFaceSize(40);
        QVERIFY(openAndShow(w, test::facePhoto("obama/obama.jpg")));
        QCOMPARE(w.controller()->openedMinFaceSize(), 40.0);
        QVERIFY(!w.faceList()->item(0)->text().contains("blurred"));
        QVERIFY(!w.faceList()->item(0)->text().contains("caution"));
        // A child's face is listed with a caution, and the reason.
        QVERIFY(openAndShow(w, test::facePhoto("justin_timberlake/Justin_Timberlake_crop.png")));
        QVERIFY(w.faceList()->item(0)->text().contains("caution"));
        QVERIFY(w.faceList()->item(0)->toolTip().contains("apparent age"));
        // A face turned to profile is listed as blurred, with the reason.
        const QString file = dir_.filePath("profile.png");
        test::writeBytes(file, encodeImage(test::renderedProfile(75).image, {}, ImageFormat::Png));
        QVERIFY(openAndShow(w, file));
        QCOMPARE(w.faceList()->count(), 1);
        QVERIFY(w.faceList()->item(0)->text().contains("blurred"));
        QVERIFY(w.faceList()->item(0)->toolTip().contains("turned"));
    }

    void noFacePhotoIsReported() {
        MainWindow w;
        w.show();
        std::vector<std::uint8_t> png = encodeImage(test::syntheticPicture(300, 200), {}, ImageFormat::Png);
        const QString file = dir_.filePath("landscape.png");
        test::writeBytes(file, png);
        QVERIFY(openAndWait(w, file));
        QCOMPARE(w.faceList()->count(), 0);
        QVERIFY(w.lastError().contains("No face found"));
    }

    void backgroundWorkLeavesQtsPoolToPainting() {
        // Qt's raster engine scales large images on its global thread pool while painting and
        // waits for that pool: background work there would freeze every repaint until it ended.
        PipelineController controller;
        QVERIFY(openAndWait(controller, test::facePhoto("obama/obama.jpg")));
        QSignalSpy sweepDone(&controller, &PipelineController::sweepFinished);
        controller.startPrivacySweep();
        int samplesWhileBusy = 0;
        QVERIFY(waitUntil([&] {
            if (controller.backgroundPool()->activeThreadCount() > 0) {
                ++samplesWhileBusy;
                if (QThreadPool::globalInstance()->activeThreadCount() != 0) return true;  // fails below
            }
            return !sweepDone.isEmpty();
        }));
        QVERIFY(samplesWhileBusy > 0);
        QCOMPARE(QThreadPool::globalInstance()->activeThreadCount(), 0);
        QCOMPARE(sweepDone.count(), 1);
#ifdef __linux__
        // ... and it yields the CPU to the worker and the GUI (a higher nice value).
        const int interactiveNice = getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)));
        std::atomic<int> backgroundNice{interactiveNice};
        controller.runInBackground([&backgroundNice] { backgroundNice = getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid))); });
        QVERIFY(controller.backgroundPool()->waitForDone(10000));
        QVERIFY2(backgroundNice > interactiveNice, qPrintable(QString("%1 vs %2").arg(int(backgroundNice)).arg(interactiveNice)));
#endif
    }

    void newerRequestCancelsTheStaleReadoutCheck() {
        PipelineController controller;
        QSignalSpy results(&controller, &PipelineController::resultReady);
        QSignalSpy checked(&controller, &PipelineController::identityChecked);
        QVERIFY(openAndWait(controller, test::facePhoto("obama/obama.jpg")));
        // Occupy the background pool so the first result's check waits in its queue.
        QThreadPool* pool = controller.backgroundPool();
        ThreadHold poolHold;
        poolHold.holdPool(pool);
        QVERIFY(results.wait(60000));
        // A newer request makes that check stale; hold the worker so nothing else happens
        // until the queued check has had its turn.
        ThreadHold workerHold;
        workerHold.holdThread(controller.workerThread());
        controller.setScale(0.2);
        poolHold.release();
        QVERIFY(pool->waitForDone(60000));
        QTest::qWait(50);
        QCOMPARE(checked.count(), 0);  // cancelled, not computed and dropped

        workerHold.release();
        QVERIFY(waitUntil([&] { return !checked.isEmpty(); }));
        QCOMPARE(checked.count(), 1);
        QCOMPARE(checked.at(0).at(0).toULongLong(), controller.request().generation);
    }

    void privacyReadoutAndSweepAgreeWithTheLibrary() {
        MainWindow w;
        w.show();
        const QString photo = test::facePhoto("bbt_amy/amy1.png");
        QVERIFY(openAndShow(w, photo));
        QSignalSpy checked(w.controller(), &PipelineController::identityChecked);
        QSignalSpy points(w.controller(), &PipelineController::sweepPoint);
        QSignalSpy sweepDone(w.controller(), &PipelineController::sweepFinished);
        w.seedSpin()->setValue(5);  // a new seed: a new run, its readout and a new sweep
        QVERIFY(waitForLatest(w));
        const PipelineResult shown = w.lastResult();
        QCOMPARE(shown.seed, quint64(5));
        QVariantList readout;
        QVERIFY(waitUntil([&] {
            for (const auto& c : checked)
                if (c.at(0).toULongLong() == shown.generation) readout = c;
            return !readout.isEmpty();
        }));
        QVERIFY(waitUntil([&] { return !sweepDone.isEmpty(); }));

        DeidPipeline pipeline(loadImage(photo.toStdString()));
        const IdentityCheck expected = checkIdentity(pipeline, 0, toMat(shown.photo));
        const auto live = readout.at(1).value<IdentityReadout>();
        QCOMPARE(live.detected, expected.detected);
        QVERIFY(live.faceresAvailable);
        QVERIFY(std::abs(live.dlibDistance - expected.recognisers.dlib.distance) < 1e-6);
        QCOMPARE(live.dlibMatch, expected.recognisers.dlib.match);
        QVERIFY(std::abs(live.faceresDistance - expected.recognisers.faceres.distance) < 1e-6);
        QCOMPARE(live.faceresMatch, expected.recognisers.faceres.match);
        QCOMPARE(live.verdict, QString::fromStdString(verdictText(expected.recognisers)));
        // Two readouts, one per recogniser, each with its distance, and the combined verdict.
        const PrivacyPlotWidget* plot = w.findChild<PrivacyPlotWidget*>();
        QVERIFY(plot);
        QVERIFY(plot->dlibReadout()->text().contains(QString::number(live.dlibDistance, 'f', 3)));
        QVERIFY(plot->faceresReadout()->text().contains(QString::number(live.faceresDistance, 'f', 3)));
        QVERIFY(plot->verdict()->text().contains(live.verdict));

        QCOMPARE(points.count(), 9);  // 0, 0.05, ..., 0.40
        for (int i = 0; i < 9; ++i) QVERIFY(std::abs(points.at(i).at(0).toDouble() - 0.1 * i) < 1e-9);
        DeidSettings settings;
        settings.seed = 5;
        const auto sweep = identitySweep(pipeline, 0, settings, {0.0, 0.8});
        auto pointAt = [&](int i) { return points.at(i).at(1).value<IdentityReadout>(); };
        QVERIFY(std::abs(pointAt(0).dlibDistance - sweep[0].check.recognisers.dlib.distance) < 1e-6);
        QVERIFY(std::abs(pointAt(8).dlibDistance - sweep[1].check.recognisers.dlib.distance) < 1e-6);
        QVERIFY(std::abs(pointAt(8).faceresDistance - sweep[1].check.recognisers.faceres.distance) < 1e-6);
        QVERIFY(pointAt(8).dlibDistance > pointAt(0).dlibDistance);
        QVERIFY(pointAt(8).faceresDistance > pointAt(0).faceresDistance);
        // Two curves, one per recogniser, each divided by its own threshold (1 = the match line).
        QCOMPARE(plot->dlibCurve()->dataCount(), 9);
        QCOMPARE(plot->faceresCurve()->dataCount(), 9);
        QVERIFY(std::abs(plot->dlibCurve()->data()->at(8)->value - pointAt(8).dlibDistance / kMatchThreshold) < 1e-9);
        QVERIFY(std::abs(plot->faceresCurve()->data()->at(8)->value - pointAt(8).faceresDistance / kFaceResThreshold) < 1e-9);
    }

    void thePlotsLegendCoversNeitherCurvesNorTheCurrentSetting() {
        // The legend lies outside the axes, so the current setting's line and markers are
        // never under it, and every entry is whole at the narrowest the dock allows.
        PrivacyPlotWidget widget;
        widget.resize(widget.minimumSizeHint().width(), 300);
        widget.show();
        QVERIFY(QTest::qWaitForWindowExposed(&widget));
        QCustomPlot* plot = widget.plot();
        plot->replot();
        const QRect axes = plot->axisRect()->outerRect();
        int entries = 0;
        for (int i = 0; i < plot->legend->itemCount(); ++i) {  // grid cells, empty ones included
            QCPAbstractLegendItem* item = plot->legend->item(i);
            if (!item) continue;
            ++entries;
            const QRect entry = item->outerRect();
            const int needed = item->minimumOuterSizeHint().width();
            QVERIFY2(!entry.intersects(axes), qPrintable(QString("entry %1").arg(i)));
            QVERIFY2(entry.right() < plot->width() && entry.width() >= needed,
                     qPrintable(QString("entry %1 cut: %2 of %3 px").arg(i).arg(entry.width()).arg(needed)));
        }
        QCOMPARE(entries, 3);  // the two recognisers and the match line
    }

    void untickedFaceIsLeftAsItIs() {
        MainWindow w;
        w.show();
        // Two people side by side.
        const cv::Mat a = loadImage(test::facePhoto("bbt_amy/amy1.png").toStdString()).bgr;
        cv::Mat b = loadImage(test::facePhoto("bbt_raj/raj2.png").toStdString()).bgr, pair;
        cv::resize(b, b, cv::Size(b.cols * a.rows / b.rows, a.rows), 0, 0, cv::INTER_AREA);
        cv::hconcat(a, b, pair);
        const QString photo = dir_.filePath("pair.png");
        test::writeBytes(photo, encodeImage(pair, {}, ImageFormat::Png));
        QVERIFY(openAndWait(w, photo));
        QCOMPARE(w.faceList()->count(), 2);
        QVERIFY(waitForLatest(w));
        w.faceList()->item(1)->setCheckState(Qt::Unchecked);
        QVERIFY(waitForLatest(w));
        DeidPipeline pipeline(loadImage(photo.toStdString()));
        const DeidSettings settings = settingsOf(w.lastResult());
        const cv::Mat shown = toMat(w.lastResult().photo);
        QCOMPARE(test::maxAbsDiff(shown, pipeline.anonymize(settings, {0})), 0.0);
        QVERIFY(test::maxAbsDiff(shown, pipeline.anonymize(settings, {})) > 0);

        // Both unticked: a drag's preview has no face to lay over the photo, and still shows
        // (the photo as it is, the selected face's stage panels of the new value).
        w.faceList()->item(0)->setCheckState(Qt::Unchecked);
        QVERIFY(waitForLatest(w));
        w.scaleSlider()->setSliderDown(true);
        w.scaleSlider()->setValue(w.scaleSlider()->value() + 7);
        QVERIFY(waitUntil([&] { return w.lastResult().preview && w.lastResult().generation == w.controller()->request().generation; }));
        QVERIFY(w.lastResult().layers.isEmpty());
        QCOMPARE(test::maxAbsDiff(toMat(w.photoView()->image()), pipeline.photo().bgr), 0.0);
        w.scaleSlider()->setSliderDown(false);
        QVERIFY(waitUntil([&] { return !w.lastResult().preview; }));
    }

    void exportWritesEveryStageImage() {
        MainWindow w;
        w.show();
        QVERIFY(openAndShow(w, test::facePhoto("bbt_amy/amy1.png")));
        QSignalSpy exported(&w, &MainWindow::exportFinished);
        ExportOptions options;
        options.path = dir_.filePath("stages/amy.png");
        options.stageImages = true;
        w.exportTo(options);
        QVERIFY(exported.wait(30000));
        for (const StageName& stage : stageNames()) {
            const QString file = dir_.filePath(QString("stages/amy_face00_%1.png").arg(stage.key));
            QVERIFY2(QFile::exists(file), qPrintable(file));
            QCOMPARE(loadImage(file.toStdString()).bgr.size(), cv::Size(512, 512));
        }
    }

    void batchMirrorsTheFolderAndCounts() {
        namespace fs = std::filesystem;
        const fs::path in = fs::path(dir_.filePath("batch_in").toStdString());
        const fs::path out = fs::path(dir_.filePath("batch_out").toStdString());
        fs::create_directories(in / "sub");
        fs::copy_file(test::facePhoto("bbt_amy/amy1.png").toStdString(), in / "sub" / "amy1.png");
        fs::copy_file(test::facePhoto("justin_timberlake/Justin_Timberlake_crop.png").toStdString(), in / "child.png");
        test::writeBytes(QString::fromStdString((in / "landscape.png").string()),
                         encodeImage(test::syntheticPicture(300, 200), {}, ImageFormat::Png));
        test::writeBytes(QString::fromStdString((in / "broken.jpg").string()), {0xFF, 0xD8, 0xFF});
        test::writeBytes(QString::fromStdString((in / "notes.txt").string()), {'h', 'i'});
        test::writeBytes(QString::fromStdString((in / "profile.png").string()),
                         encodeImage(test::renderedProfile(75).image, {}, ImageFormat::Png));

        PipelineController controller;
        QSignalSpy progress(&controller, &PipelineController::batchProgress);
        QSignalSpy finished(&controller, &PipelineController::batchFinished);
        controller.startBatch(QString::fromStdString(in.string()), QString::fromStdString(out.string()));
        QVERIFY(finished.wait(120000));
        QCOMPARE(progress.count(), 5);  // the text file is not a photo
        const QVariantList counts = finished.at(0);
        QCOMPARE(counts.at(0).toInt(), 3);  // written
        QCOMPARE(counts.at(1).toInt(), 1);  // without a face
        QCOMPARE(counts.at(2).toInt(), 1);  // failed
        QCOMPARE(counts.at(3).toInt(), 1);  // faces blurred: the turned one
        QCOMPARE(counts.at(4).toInt(), 1);  // faces anonymized with a caution: the child
        QCOMPARE(counts.at(5).toBool(), false);
        QVERIFY(fs::exists(out / "sub" / "amy1.png"));
        QVERIFY(!fs::exists(out / "landscape.png") && !fs::exists(out / "notes.txt"));
        DeidPipeline pipeline(loadImage((in / "sub" / "amy1.png").string()));
        DeidSettings settings;
        settings.scale = controller.request().scale;
        settings.seed = controller.request().seed;
        QCOMPARE(test::maxAbsDiff(loadImage((out / "sub" / "amy1.png").string()).bgr, pipeline.anonymize(settings, {})), 0.0);
    }

    void batchCancelStopsEarly() {
        namespace fs = std::filesystem;
        const fs::path in = fs::path(dir_.filePath("cancel_in").toStdString());
        fs::create_directories(in);
        for (int i = 0; i < 4; ++i)
            fs::copy_file(test::facePhoto("bbt_amy/amy1.png").toStdString(), in / ("amy" + std::to_string(i) + ".png"));
        PipelineController controller;
        QSignalSpy finished(&controller, &PipelineController::batchFinished);
        controller.startBatch(QString::fromStdString(in.string()), dir_.filePath("cancel_out"));
        controller.cancelBatch();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.at(0).at(5).toBool(), true);
        QVERIFY(finished.at(0).at(0).toInt() <= 1);  // at most the photo already under way
    }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
