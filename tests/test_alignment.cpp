// FFHQ-style alignment and paste-back: geometry, round trip, border and rotated faces; the
// paste as a layer for a zoomed-out view.
#include "align/face_align.h"
#include "face/face_detector.h"
#include "io/image_io.h"
#include "test_support.h"

#include <QtTest>

#include <opencv2/imgproc.hpp>

using namespace ideu;

namespace {

// A plausible 68-point layout: eyes `eyeDistance` apart centred at `centre`, mouth `mouth`
// below the eye line, rotated by `degrees`.
Landmarks68 syntheticLandmarks(cv::Point2d centre, double eyeDistance, double mouth, double degrees) {
    Landmarks68 p;
    for (auto& q : p) q = {0, 0};
    const double d = eyeDistance / 2;
    for (int i = 0; i < 6; ++i) {
        const double a = i * CV_PI / 3;
        p[36 + i] = {-d + 0.2 * d * std::cos(a), 0.1 * d * std::sin(a)};
        p[42 + i] = {d + 0.2 * d * std::cos(a), 0.1 * d * std::sin(a)};
    }
    for (int i = 0; i < 12; ++i) p[48 + i] = {0.5 * d * std::cos(i * CV_PI / 6), mouth + 0.2 * d * std::sin(i * CV_PI / 6)};
    p[48] = {-0.5 * d, mouth};
    p[54] = {0.5 * d, mouth};
    const double r = degrees * CV_PI / 180;
    for (auto& q : p) q = centre + cv::Point2d(q.x * std::cos(r) - q.y * std::sin(r), q.x * std::sin(r) + q.y * std::cos(r));
    return p;
}

// `layer` (BGRA, alpha 0..255) laid over `photo` at `origin`, alpha-over.
cv::Mat overlay(const cv::Mat& photo, const cv::Mat& layer, cv::Point origin) {
    cv::Mat out = photo.clone();
    for (int y = 0; y < layer.rows; ++y)
        for (int x = 0; x < layer.cols; ++x) {
            const cv::Vec4b l = layer.at<cv::Vec4b>(y, x);
            cv::Vec3b& d = out.at<cv::Vec3b>(origin.y + y, origin.x + x);
            for (int c = 0; c < 3; ++c) d[c] = cv::saturate_cast<uchar>(d[c] + l[3] / 255.0 * (l[c] - d[c]));
        }
    return out;
}

cv::Point2d centroidOfBright(const cv::Mat& bgr) {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    const cv::Moments m = cv::moments(gray > 200, true);
    return {m.m10 / m.m00, m.m01 / m.m00};
}

}  // namespace

class TestAlignment : public QObject {
    Q_OBJECT
private slots:
    void ffhqGeometry() {
        const FaceAlignment a = computeAlignment(syntheticLandmarks({400, 300}, 100, 100, 0), 512);
        // Side = 2·max(2·100, 1.8·100) = 400 px; eye midpoint sits 0.1·(eye-to-mouth) above centre.
        QVERIFY(std::abs(a.scale() - 512.0 / 400.0) < 1e-9);
        const cv::Point2d eyes = toCrop(a, {400, 300});
        QVERIFY(std::abs(eyes.x - 256) < 1e-6);
        QVERIFY(std::abs(eyes.y - (256 - 10 * 1.28)) < 1e-6);
        const cv::Point2d back = toImage(a, toCrop(a, {123.4, 567.8}));
        QVERIFY(cv::norm(back - cv::Point2d(123.4, 567.8)) < 1e-9);
    }

    void rotationFollowsTheEyes() {
        const FaceAlignment a = computeAlignment(syntheticLandmarks({300, 300}, 80, 90, 30), 512);
        const Landmarks68 p = syntheticLandmarks({300, 300}, 80, 90, 30);
        const cv::Point2d l = toCrop(a, lm::rightEyeCentre(p)), r = toCrop(a, lm::leftEyeCentre(p));
        QVERIFY(std::abs(l.y - r.y) < 1e-6);  // eye line horizontal in the crop
        QVERIFY(r.x > l.x);
    }

    void cropSamplesWhereTheTransformSays_data() {
        QTest::addColumn<double>("eyeDistance");
        QTest::newRow("upsampled") << 60.0;
        QTest::newRow("about 1:1") << 250.0;
        QTest::newRow("shrunk 3x (pyramid path)") << 800.0;
    }
    void cropSamplesWhereTheTransformSays() {
        QFETCH(double, eyeDistance);
        cv::Mat photo(2400, 2400, CV_8UC3, cv::Scalar(40, 40, 40));
        const cv::Point2d dot(1190.3, 1130.7);
        cv::circle(photo, cv::Point(cvRound(dot.x * 16), cvRound(dot.y * 16)), int(eyeDistance * 0.05 * 16),
                   cv::Scalar::all(255), cv::FILLED, cv::LINE_AA, 4);
        const FaceAlignment a = computeAlignment(syntheticLandmarks({1200, 1150}, eyeDistance, eyeDistance, 10), 512);
        const AlignedCrop crop = alignFace(photo, a);
        QVERIFY(cv::norm(centroidOfBright(crop.image) - toCrop(a, dot)) < 0.75);
    }

    void unchangedCropRoundTripIsExact_data() {
        QTest::addColumn<double>("cx");
        QTest::addColumn<double>("cy");
        QTest::addColumn<double>("degrees");
        QTest::newRow("centre") << 320.0 << 240.0 << 0.0;
        QTest::newRow("rotated 35 degrees") << 320.0 << 240.0 << 35.0;
        QTest::newRow("left border") << 15.0 << 240.0 << 0.0;
        QTest::newRow("corner, rotated") << 620.0 << 10.0 << -25.0;
    }
    void unchangedCropRoundTripIsExact() {
        QFETCH(double, cx);
        QFETCH(double, cy);
        QFETCH(double, degrees);
        const cv::Mat photo = test::syntheticPicture(640, 480, 7);
        const FaceAlignment a = computeAlignment(syntheticLandmarks({cx, cy}, 90, 100, degrees), 512);
        const AlignedCrop crop = alignFace(photo, a);
        cv::Mat result = photo.clone();
        pasteChanges(result, crop.image, crop.image, a);
        QCOMPARE(test::maxAbsDiff(result, photo), 0.0);
    }

    void editedRegionIsPastedAndTheRestIsUntouched_data() { unchangedCropRoundTripIsExact_data(); }
    void editedRegionIsPastedAndTheRestIsUntouched() {
        QFETCH(double, cx);
        QFETCH(double, cy);
        QFETCH(double, degrees);
        const cv::Mat photo = test::syntheticPicture(640, 480, 3);
        const FaceAlignment a = computeAlignment(syntheticLandmarks({cx, cy}, 90, 100, degrees), 512);
        const AlignedCrop crop = alignFace(photo, a);
        cv::Mat edited = crop.image.clone();
        const cv::Scalar colour(10, 200, 60);
        cv::circle(edited, {256, 280}, 120, colour, cv::FILLED);
        const double featherCrop = 12;
        cv::Mat result = photo.clone();
        pasteChanges(result, edited, crop.image, a, featherCrop);

        // Every photo pixel: inside the edit -> the edit colour; further than the feather
        // (in photo pixels, plus one for resampling) -> untouched bytes.
        const double featherPhoto = featherCrop / a.scale() + 1.5;
        const double radiusPhoto = 120 / a.scale();
        const cv::Point2d centre = toImage(a, {256, 280});
        int inside = 0, outside = 0;
        for (int y = 0; y < photo.rows; ++y)
            for (int x = 0; x < photo.cols; ++x) {
                const double r = cv::norm(cv::Point2d(x, y) - centre);
                if (r < radiusPhoto - 2) {
                    ++inside;
                    const cv::Vec3b v = result.at<cv::Vec3b>(y, x);
                    QVERIFY(std::abs(v[0] - 10) <= 1 && std::abs(v[1] - 200) <= 1 && std::abs(v[2] - 60) <= 1);
                } else if (r > radiusPhoto + featherPhoto) {
                    ++outside;
                    QVERIFY(result.at<cv::Vec3b>(y, x) == photo.at<cv::Vec3b>(y, x));
                }
            }
        QVERIFY(inside > 100);
        QVERIFY(outside > 1000);
    }

    // Laid over the photo scaled alike, the layer is the paste at the view's scale; at scale
    // 1 up to its 8-bit alpha. It fades out to nothing at its edge (no seam against the photo
    // drawn around it), and an unchanged crop gives none.
    void pasteLayerOverThePhotoIsThePaste_data() {
        QTest::addColumn<double>("scale");
        QTest::addColumn<double>("tolerance");  // mean absolute difference over the layer, grey levels
        QTest::addColumn<double>("eyeDistance");  // photo pixels
        // A large face (the crop, larger than the photo, enlarged 2.3x by the paste) ...
        QTest::newRow("large face, full resolution") << 1.0 << 0.05 << 300.0;
        QTest::newRow("large face, a third") << 0.33 << 1.5 << 300.0;
        QTest::newRow("large face, a tenth (the crop halved twice first)") << 0.1 << 1.5 << 300.0;
        // ... and a small one (the crop shrunk 2.1x by the paste).
        QTest::newRow("small face, full resolution") << 1.0 << 0.05 << 60.0;
        QTest::newRow("small face, a third") << 0.33 << 1.5 << 60.0;
    }
    void pasteLayerOverThePhotoIsThePaste() {
        QFETCH(double, scale);
        QFETCH(double, tolerance);
        QFETCH(double, eyeDistance);
        const cv::Mat photo = test::syntheticPicture(1280, 960, 5);
        const FaceAlignment a = computeAlignment(syntheticLandmarks({600, 500}, eyeDistance, 1.1 * eyeDistance, 20), 512);
        const AlignedCrop crop = alignFace(photo, a);
        cv::Mat edited = crop.image.clone();
        cv::circle(edited, {256, 280}, 120, cv::Scalar(10, 200, 60), cv::FILLED);
        cv::Mat pasted = photo.clone();
        pasteChanges(pasted, edited, crop.image, a, 8);

        cv::Point origin;
        const cv::Mat layer = pasteLayer(edited, crop.image, a, 8, photo.size(), scale, &origin);
        QCOMPARE(layer.type(), CV_8UC4);
        const cv::Size scaledSize(int(std::ceil(photo.cols * scale)), int(std::ceil(photo.rows * scale)));
        QVERIFY(cv::Rect(cv::Point(), scaledSize).contains(origin));
        QVERIFY(origin.x + layer.cols <= scaledSize.width && origin.y + layer.rows <= scaledSize.height);
        cv::Mat alpha;
        cv::extractChannel(layer, alpha, 3);
        QVERIFY(cv::countNonZero(alpha == 255) > 0.02 * alpha.total());
        // Where it lies, to a tenth of a pixel: the alpha's centroid is the edit's centre (the
        // scaled photo's pixel u is centred on the photo's (u + 0.5) / scale - 0.5).
        const cv::Moments m = cv::moments(alpha);
        const cv::Point2d centre = (toImage(a, {256, 280}) + cv::Point2d(0.5, 0.5)) * scale - cv::Point2d(0.5, 0.5);
        const cv::Point2d found = cv::Point2d(origin) + cv::Point2d(m.m10 / m.m00, m.m01 / m.m00);
        QVERIFY2(cv::norm(found - centre) < 0.1, qPrintable(QString("%1 %2 against %3 %4").arg(found.x).arg(found.y).arg(centre.x).arg(centre.y)));
        cv::Mat edge = alpha.clone();
        edge(cv::Rect(1, 1, edge.cols - 2, edge.rows - 2)).setTo(0);
        QCOMPARE(cv::countNonZero(edge), 0);

        cv::Mat photoScaled = photo, pastedScaled = pasted;
        if (scale < 1) {
            cv::resize(photo, photoScaled, scaledSize, 0, 0, cv::INTER_AREA);
            cv::resize(pasted, pastedScaled, scaledSize, 0, 0, cv::INTER_AREA);
        }
        const cv::Rect where(origin, layer.size());
        const cv::Mat shown = overlay(photoScaled, layer, origin);
        cv::Mat difference;
        cv::absdiff(shown(where), pastedScaled(where), difference);
        if (scale == 1) QVERIFY(test::maxAbsDiff(shown, pasted) <= 1);
        const double mean = cv::mean(difference.reshape(1))[0];
        QVERIFY2(mean <= tolerance, qPrintable(QString::number(mean)));
        // ... and the paste is there: where the layer is opaque, far from the photo as it was.
        cv::absdiff(photoScaled(where), pastedScaled(where), difference);
        QVERIFY(cv::mean(difference, alpha == 255)[1] > 10 * tolerance);

        QVERIFY(pasteLayer(crop.image, crop.image, a, 8, photo.size(), scale, &origin).empty());
    }

    void validMaskMarksPixelsOutsideThePhoto() {
        const cv::Mat photo = test::syntheticPicture(640, 480);
        const AlignedCrop inside = alignFace(photo, computeAlignment(syntheticLandmarks({320, 240}, 60, 70, 0)));
        QCOMPARE(cv::countNonZero(inside.valid), 512 * 512);
        const AlignedCrop border = alignFace(photo, computeAlignment(syntheticLandmarks({5, 240}, 60, 70, 0)));
        const int valid = cv::countNonZero(border.valid);
        QVERIFY(valid < 512 * 512 * 0.6 && valid > 512 * 512 * 0.3);
    }

    void realPhotoRoundTrip() {
        IDEU_REQUIRE_SHARED();
        const Image image = loadImage(test::facePhoto("zuckerberg/img14.jpg").toStdString());
        const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
        QCOMPARE(int(faces.size()), 1);
        const FaceAlignment a = computeAlignment(faces[0].landmarks);
        const AlignedCrop crop = alignFace(image.bgr, a);
        // The eyes land where FFHQ puts them: nearly level (the square's orientation also
        // follows the mouth), around 40-45 % of the height.
        const cv::Point2d l = toCrop(a, lm::rightEyeCentre(faces[0].landmarks));
        const cv::Point2d r = toCrop(a, lm::leftEyeCentre(faces[0].landmarks));
        QVERIFY(std::abs(l.y - r.y) < 0.05 * (r.x - l.x));
        QVERIFY(l.y > 0.35 * 512 && l.y < 0.5 * 512);
        cv::Mat result = image.bgr.clone();
        pasteChanges(result, crop.image, crop.image, a);
        QCOMPARE(test::maxAbsDiff(result, image.bgr), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestAlignment)
#include "test_alignment.moc"
