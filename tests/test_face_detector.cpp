// Face detection and landmarks on the developer face set (../shared/faces).
#include "common/runtime.h"
#include "face/face_detector.h"
#include "face/hog_scan.h"
#include "io/image_io.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <thread>

#include <dlib/opencv/cv_image.h>

#include <opencv2/imgproc.hpp>

using namespace ideu;

namespace {

// Landmarks must be arranged like a face: brows above eyes above nose tip above mouth above
// chin, eyes left/right of the nose, and all inside a generous box around the detection.
void checkFaceGeometry(const DetectedFace& f) {
    const Landmarks68& p = f.landmarks;
    const cv::Point2d eyeR = lm::rightEyeCentre(p), eyeL = lm::leftEyeCentre(p);
    const cv::Point2d up = eyeL - eyeR;  // along the eye line
    const cv::Point2d down(-up.y, up.x);  // perpendicular, pointing to the chin
    auto along = [&](const cv::Point2d& q) { return (q - eyeR).dot(down) / cv::norm(down); };
    QVERIFY(cv::norm(up) > 0.15 * f.box.width);
    QVERIFY(along(p[19]) < 0);                 // brow above eye line
    QVERIFY(along(p[30]) > 0);                 // nose tip below
    QVERIFY(along(p[57]) > along(p[30]));      // lower lip below nose tip
    QVERIFY(along(p[8]) > along(p[57]));       // chin below lip
    const double io = lm::interOcular(p);
    QVERIFY(io > 0.25 * f.box.width && io < 1.3 * f.box.width);
    cv::Rect2d grown(f.box.x - f.box.width * 0.6, f.box.y - f.box.height * 0.6, f.box.width * 2.2, f.box.height * 2.2);
    for (const cv::Point2d& q : p) QVERIFY(grown.contains(q));
}

}  // namespace

class TestFaceDetector : public QObject {
    Q_OBJECT
    std::shared_ptr<const FaceDetector> detector_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        detector_ = FaceDetector::shared();
    }

    // One face in each of these.
    void expectedFaceCounts_data() {
        QTest::addColumn<QString>("photo");
        QTest::addColumn<int>("faces");
        for (const char* p : {"obama/obama.jpg", "biden/biden.jpg", "jolie/img1.jpg", "jolie/img5.jpg",
                              "bbt_amy/amy1.png", "bbt_raj/raj3.png", "kit_harington/john1.jpg",
                              "zuckerberg/img14.jpg", "adele/Adele_crop.png", "messi/messi5.jpg",
                              "rose_leslie/img1.jpg", "bbt_stuart/stuart4.png", "astronaut_collins/astronaut.png"})
            QTest::newRow(p) << QString(p) << 1;
    }
    void expectedFaceCounts() {
        QFETCH(QString, photo);
        QFETCH(int, faces);
        const Image image = loadImage(test::facePhoto(photo).toStdString());
        const DetectionResult result = detector_->detect(image.bgr);
        QCOMPARE(int(result.faces.size()), faces);
        for (const DetectedFace& f : result.faces) checkFaceGeometry(f);
    }

    void everyPhotoOfTheSetHasAFace() {
        int photos = 0, withFace = 0;
        for (const std::string& file : test::allFacePhotos()) {
            const Image image = loadImage(file);
            ++photos;
            if (!detector_->detect(image.bgr).faces.empty()) ++withFace;
        }
        QCOMPARE(photos, 71);
        QCOMPARE(withFace, 71);
    }

    void facesAreSortedBySize() {
        // Two copies of a face side by side at different sizes.
        const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        cv::Mat small;
        cv::resize(image.bgr, small, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
        cv::Mat canvas(image.bgr.rows + small.rows, image.bgr.cols + small.cols, CV_8UC3, cv::Scalar(128, 128, 128));
        image.bgr.copyTo(canvas(cv::Rect(0, 0, image.bgr.cols, image.bgr.rows)));
        small.copyTo(canvas(cv::Rect(image.bgr.cols, image.bgr.rows, small.cols, small.rows)));
        const DetectionResult result = detector_->detect(canvas);
        QCOMPARE(int(result.faces.size()), 2);
        QVERIFY(result.faces[0].box.area() > result.faces[1].box.area() * 2);
    }

    void findsSmallFaces() {
        // Shrink a photo until the face is ~44 px wide (detector box), as in a group photo.
        const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        const DetectedFace big = detector_->detect(image.bgr).faces.at(0);
        const double factor = 44.0 / big.box.width;
        cv::Mat small;
        cv::resize(image.bgr, small, cv::Size(), factor, factor, cv::INTER_AREA);
        const DetectionResult result = detector_->detect(small);
        QCOMPARE(int(result.faces.size()), 1);
        QVERIFY(result.faces[0].box.width < 60);
        QCOMPARE(result.minFaceSize, 40.0);
        checkFaceGeometry(result.faces[0]);
    }

    void noFaceInAPictureWithoutFaces() {
        const cv::Mat picture = test::syntheticPicture(640, 480);
        QVERIFY(detector_->detect(picture).faces.empty());
    }

    void tilesKeepTheMinimumWithinTheWorkBudget() {
        // A work budget far below the upsampled photo: the detector tiles instead of
        // coarsening, so the smallest findable face stays at the minimum.
        DetectionOptions options;
        options.maxWorkPixels = 1e6;
        const Image image = loadImage(test::facePhoto("jolie/img1.jpg").toStdString());
        const DetectionResult result = detector_->detect(image.bgr, options);
        QCOMPARE(result.minFaceSize, 40.0);
        QVERIFY(result.hogPasses > 4);
        QCOMPARE(int(result.faces.size()), 1);
    }

    void theMissionPatchIsNotAFace() {
        // The README sample: the patch on the astronaut's suit gets a weak HOG score and no
        // SSD score; it is rejected, and the rejection is reported.
        const Image image = loadImage(test::facePhoto("astronaut_collins/astronaut.png").toStdString());
        const DetectionResult result = detector_->detect(image.bgr);
        QCOMPARE(int(result.faces.size()), 1);
        QVERIFY(result.faces[0].box.y < 200);  // the face, not the patch (at y 336)
        bool patchRejected = false;
        for (const RejectedCandidate& r : result.rejected)
            patchRejected = patchRejected || (r.box.y > 300 && r.reason.find("not a face") != std::string::npos);
        QVERIFY(patchRejected);
    }

    // Profiles: the face model fitted to a frontal photo, turned to 60-90 degrees.
    void renderedProfilesAreFound_data() {
        QTest::addColumn<double>("yaw");
        for (double yaw : {60.0, -60.0, 75.0, -75.0, 80.0, -80.0, 85.0, -85.0, 90.0, -90.0}) QTest::newRow(QByteArray::number(yaw).constData()) << yaw;
    }
    void renderedProfilesAreFound() {
        QFETCH(double, yaw);
        const test::ProfileRender render = test::renderedProfile(yaw);
        const cv::Mat& canvas = render.image;
        const DetectionResult result = detector_->detect(canvas);
        // Known limit (README "Detection"): a bare face render (no ear, no hair) turned beyond
        // 80 degrees to the subject's right scores below the SSD's floor.
        QEXPECT_FAIL("-85", "bare render beyond -80 degrees: SSD score under 0.3", Abort);
        QEXPECT_FAIL("-90", "bare render beyond -80 degrees: SSD score under 0.3", Abort);
        // The render's skin is the appearance model's fit of the photo: with the model built
        // from the gallery and its mirror images, the bare +90 degree render also scores
        // under the SSD's floor.
        QEXPECT_FAIL("90", "bare render at +90 degrees: SSD score under 0.3", Abort);
        QCOMPARE(int(result.faces.size()), 1);
        const DetectedFace& face = result.faces[0];
        qInfo("yaw %.0f: SSD score %.2f, HOG score %.2f%s", yaw, face.ssdScore, face.score, face.turned ? " (turned)" : "");
        // Beyond the frontal detector's range the profile detector found it. At 60 degrees, the
        // edge of that range, the frontal HOG may find the face too (it is then fitted, and
        // blurred only if the fit fails).
        if (std::abs(yaw) > 60) QVERIFY(face.turned);
        // The mapped box lies on the rendered face.
        cv::Mat mask = render.mask.clone();
        const cv::Rect box = cv::Rect(face.box) & cv::Rect(0, 0, mask.cols, mask.rows);
        QVERIFY(cv::countNonZero(mask(box)) > 0.4 * box.area());
    }

    // A face rolled beyond the HOG detector's +-45 degrees (a head on its side, a photo stored
    // sideways or upside down): the SSD sees it, the HOG detector finds it in the region turned
    // upright, and it comes back as a frontal face with the roll and its landmarks where the
    // upright photo's landmarks land after the same turn, so it is fitted, not blurred.
    void rolledFacesAreFoundUpright_data() {
        QTest::addColumn<int>("turn");  // cv::RotateFlags applied to the photo
        QTest::addColumn<int>("roll");
        QTest::newRow("+90") << int(cv::ROTATE_90_CLOCKWISE) << 90;
        QTest::newRow("-90") << int(cv::ROTATE_90_COUNTERCLOCKWISE) << -90;
        QTest::newRow("180") << int(cv::ROTATE_180) << 180;
    }
    void rolledFacesAreFoundUpright() {
        QFETCH(int, turn);
        QFETCH(int, roll);
        const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        const DetectionResult upright = detector_->detect(image.bgr);
        QCOMPARE(int(upright.faces.size()), 1);
        QCOMPARE(upright.faces[0].roll, 0);
        cv::Mat rolled;
        cv::rotate(image.bgr, rolled, turn);
        const DetectionResult result = detector_->detect(rolled);
        QCOMPARE(int(result.faces.size()), 1);
        const DetectedFace& face = result.faces[0];
        qInfo("roll %+d: HOG score %.2f, SSD score %.2f", face.roll, face.score, face.ssdScore);
        QVERIFY(!face.turned);
        QCOMPARE(face.roll, roll);
        checkFaceGeometry(face);
        // The upright photo's landmarks, turned as the photo was (pixel centres map to pixel
        // centres): every point within 5 % of the eye distance of the rolled face's.
        const int w = image.bgr.cols, h = image.bgr.rows;
        const Landmarks68& before = upright.faces[0].landmarks;
        double worst = 0;
        for (int i = 0; i < 68; ++i) {
            const cv::Point2d& p = before[std::size_t(i)];
            const cv::Point2d expected = turn == cv::ROTATE_90_CLOCKWISE        ? cv::Point2d(h - 1 - p.y, p.x)
                                         : turn == cv::ROTATE_90_COUNTERCLOCKWISE ? cv::Point2d(p.y, w - 1 - p.x)
                                                                                   : cv::Point2d(w - 1 - p.x, h - 1 - p.y);
            worst = std::max(worst, cv::norm(face.landmarks[std::size_t(i)] - expected));
        }
        qInfo("largest landmark offset %.2f px (eye distance %.1f px)", worst, lm::interOcular(before));
        QVERIFY(worst < 0.05 * lm::interOcular(before));
    }

    void sharedDetectorIsThreadSafe() {
        const Image image = loadImage(test::facePhoto("bbt_amy/amy1.png").toStdString());
        const DetectedFace reference = detector_->detect(image.bgr).faces.at(0);
        std::vector<std::thread> threads;
        std::atomic<int> mismatches{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 3; ++i) {
                    const auto faces = detector_->detect(image.bgr).faces;
                    if (faces.size() != 1 || faces[0].landmarks != reference.landmarks) ++mismatches;
                }
            });
        for (auto& t : threads) t.join();
        QCOMPARE(mismatches.load(), 0);
    }

    void parallelHogScanGivesDlibsDetections() {
        // scanHogPyramid on both cores against dlib's own detector on one, down to the bits of
        // every score and box, at a threshold low enough that many windows fire and dlib's
        // order of suppression matters; with each kernel this build and CPU have, against dlib
        // built the same way (the AVX2 kernel's HOG features round as dlib's 8-wide code
        // does); and on a background thread (serial).
        cv::setNumThreads(2);
        dlib::frontal_face_detector dlibDetector = dlib::get_frontal_face_detector();
        const hog::Detector shared = hogDetectorOf(dlibDetector);
        auto same = [](const std::vector<dlib::rect_detection>& a, const std::vector<dlib::rect_detection>& b) {
            if (a.size() != b.size()) {
                qInfo("%zu detections against %zu", a.size(), b.size());
                return false;
            }
            for (std::size_t i = 0; i < a.size(); ++i)
                if (a[i].rect != b[i].rect || a[i].detection_confidence != b[i].detection_confidence ||
                    a[i].weight_index != b[i].weight_index) {
                    qInfo("detection %zu: score %.9g against %.9g, set %lu against %lu", i, a[i].detection_confidence,
                          b[i].detection_confidence, a[i].weight_index, b[i].weight_index);
                    return false;
                }
            return true;
        };
        std::vector<HogKernel> kernels{HogKernel::Portable};
        if (hogKernelAvailable(HogKernel::Avx2)) kernels.push_back(HogKernel::Avx2);
        else qInfo("no AVX2 kernel on this build or CPU: the portable one alone is compared");
        QCOMPARE(fastestHogKernel(), kernels.back());
        std::size_t compared = 0;
        for (const char* p : {"obama/obama.jpg", "jolie/img5.jpg", "messi/messi5.jpg", "bbt_raj/raj3.png"}) {
            cv::Mat bgr = loadImage(test::facePhoto(p).toStdString()).bgr;
            cv::resize(bgr, bgr, cv::Size(), 0.5, 0.5, cv::INTER_AREA);  // keeps the test quick
            for (double threshold : {0.0, -1.5}) {
                std::vector<dlib::rect_detection> portable;
                dlibDetector(dlib::cv_image<dlib::bgr_pixel>(bgr), portable, threshold);
                QVERIFY(same(dlibReferenceDetections(bgr, threshold, HogKernel::Portable), portable));
                for (HogKernel kernel : kernels) {
                    const QByteArray what = QByteArray(p) + (kernel == HogKernel::Avx2 ? " (AVX2)" : " (portable)");
                    const std::vector<dlib::rect_detection> expected = dlibReferenceDetections(bgr, threshold, kernel);
                    QVERIFY2(same(scanHogPyramid(shared, bgr, threshold, kernel), expected), what);
                    std::vector<dlib::rect_detection> serial;
                    std::thread([&] {
                        lowerCurrentThreadPriority();
                        serial = scanHogPyramid(shared, bgr, threshold, kernel);
                    }).join();
                    QVERIFY2(same(serial, expected), what);
                }
                QVERIFY(same(scanHogPyramid(shared, bgr, threshold), dlibReferenceDetections(bgr, threshold, kernels.back())));
                compared += portable.size();
            }
        }
        QVERIFY2(compared > 20, qPrintable(QString::number(compared)));  // the low threshold made many detections to compare
    }

    void sameFaceIsTheBestOverlapAboveTheThreshold() {
        std::vector<DetectedFace> faces(3);
        faces[0].box = {0, 0, 100, 100};
        faces[1].box = {200, 0, 100, 100};
        faces[2].box = {210, 10, 100, 100};  // IoU 0.68 with faces[1]'s box
        const cv::Rect2d target(200, 0, 100, 100);
        QCOMPARE(sameFace(faces, target), &faces[1]);
        QCOMPARE(sameFace(faces, target, 0.3, {-10, -10}), &faces[2]);  // boxes found in a region at (-10, -10)
        QCOMPARE(sameFace({faces[2]}, target, 0.6) != nullptr, true);
        QCOMPARE(sameFace({faces[2]}, target, 0.7), static_cast<const DetectedFace*>(nullptr));
        QCOMPARE(sameFace({faces[0]}, target), static_cast<const DetectedFace*>(nullptr));
    }
};

QTEST_GUILESS_MAIN(TestFaceDetector)
#include "test_face_detector.moc"
