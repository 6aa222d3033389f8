// The editor, offscreen: opening fills the face list and the stage panels; a burst of slider
// moves ends on the last value's result without freezing the event loop; export writes a
// metadata-free file; a bad file gives a message and the app stays usable.
#include "common/files.h"
#include "image_view.h"
#include "io/image_io.h"
#include "main_window.h"
#include "pipeline/deid_pipeline.h"
#include "qt_convert.h"
#include "test_support.h"

#include <QListWidget>
#include <QMessageBox>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QDoubleSpinBox>
#include <QtTest>

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
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(test::facePhoto("obama/obama.jpg"));
        QVERIFY(opened.wait(60000));
        QCOMPARE(w.faceList()->count(), 1);
        QCOMPARE(w.faceList()->item(0)->checkState(), Qt::Checked);
        QVERIFY(!w.faceList()->item(0)->icon().isNull());
        QVERIFY(waitForLatest(w));
        QVERIFY(!w.photoView()->image().isNull());
        for (const QString& key : MainWindow::stageKeys()) QVERIFY2(!w.stageView(key)->image().isNull(), qPrintable(key));
        QCOMPARE(w.stageView("X_final")->image().size(), QSize(512, 512));
    }

    void sliderBurstEndsOnTheLastValueWithoutFreezing() {
        MainWindow w;
        w.show();
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        const QString photo = test::facePhoto("jolie/img5.jpg");
        w.openPhoto(photo);
        QVERIFY(opened.wait(60000));
        QVERIFY(waitForLatest(w));
        w.seedSpin()->setValue(77);
        QVERIFY(waitForLatest(w));

        // Measure the longest gap between event-loop turns while 200 slider moves arrive.
        QElapsedTimer clock;
        clock.start();
        qint64 last = clock.elapsed(), longest = 0;
        QTimer ticker;
        ticker.setInterval(1);
        connect(&ticker, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            longest = std::max(longest, now - last);
            last = now;
        });
        ticker.start();
        int finalValue = 0;
        for (int i = 0; i < 200; ++i) {
            finalValue = 5 + (i * 7) % 36;  // 0.05 .. 0.40
            w.scaleSlider()->setValue(finalValue);
            QTest::qWait(2);
        }
        finalValue = 23;
        w.scaleSlider()->setValue(finalValue);
        QVERIFY(waitForLatest(w));
        ticker.stop();
        qInfo("longest event-loop gap during the burst: %lld ms", longest);
        QVERIFY(longest <= 100);
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
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(input);
        QVERIFY(opened.wait(60000));
        QVERIFY(waitForLatest(w));
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
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(test::facePhoto("bbt_raj/raj1.png"));
        QVERIFY(opened.wait(60000));
        QVERIFY(waitForLatest(w));
        QCOMPARE(w.faceList()->count(), 1);
    }

    void noFacePhotoIsReported() {
        MainWindow w;
        w.show();
        std::vector<std::uint8_t> png = encodeImage(test::syntheticPicture(300, 200), {}, ImageFormat::Png);
        const QString file = dir_.filePath("landscape.png");
        test::writeBytes(file, png);
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(file);
        QVERIFY(opened.wait(60000));
        QCOMPARE(w.faceList()->count(), 0);
        QVERIFY(w.lastError().contains("No face found"));
    }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
