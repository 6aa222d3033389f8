// The LibTorch port of face-api's SSD MobileNet-v1 face detector against the original (TF.js,
// wasm backend) on PNG photos of the developer set: tests/data/ssd_reference.json, made by
// tests/reference/ssd_reference.js.
#include "face/ssd_detector.h"
#include "io/image_io.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>

using namespace ideu;

namespace {

nlohmann::json reference() {
    std::ifstream in(std::string(IDEU_SOURCE_DIR) + "/tests/data/ssd_reference.json");
    return nlohmann::json::parse(in);
}

struct Worst {
    double box = 0, score = 0;
    int compared = 0;
};

void compareDetections(const std::vector<SsdDetection>& got, const nlohmann::json& expected, Worst& worst, const std::string& what) {
    QVERIFY2(got.size() == expected.size(), (what + ": " + std::to_string(got.size()) + " detections, expected " +
                                             std::to_string(expected.size())).c_str());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& e = expected[i];
        const cv::Rect2d& b = got[i].box;
        const double d = std::max({std::abs(b.x - e["box"][0].get<double>()), std::abs(b.y - e["box"][1].get<double>()),
                                   std::abs(b.width - e["box"][2].get<double>()), std::abs(b.height - e["box"][3].get<double>())});
        worst.box = std::max(worst.box, d);
        worst.score = std::max(worst.score, std::abs(got[i].score - e["score"].get<double>()));
        ++worst.compared;
    }
}

}  // namespace

class TestSsdDetector : public QObject {
    Q_OBJECT
    std::shared_ptr<const SsdFaceDetector> detector_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        try {
            detector_ = SsdFaceDetector::shared();
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void detectionsMatchTheOriginal() {
        const auto ref = reference();
        Worst worst;
        for (const auto& p : ref.at("photos")) {
            const std::string name = p.at("photo");
            const Image image = loadImage(test::facePhoto(QString::fromStdString(name)).toStdString());
            QCOMPARE(image.bgr.cols, p.at("width").get<int>());
            compareDetections(detector_->detect(image.bgr, 0.3), p.at("detections"), worst, name);
            if (p.contains("bordered_detections")) {
                const int border = p.at("border");
                cv::Mat bordered;
                cv::copyMakeBorder(image.bgr, bordered, border, border, border, border, cv::BORDER_CONSTANT, cv::Scalar::all(0));
                compareDetections(detector_->detect(bordered, 0.3), p.at("bordered_detections"), worst, name + " (bordered)");
            }
        }
        qInfo("%d detections compared: boxes within %.3g px, scores within %.3g of the original", worst.compared, worst.box,
              worst.score);
        QVERIFY(worst.compared >= 8);
        QVERIFY(worst.box < 0.5);
        QVERIFY(worst.score < 1e-3);
    }

    void rawAnchorsMatchTheOriginal() {
        // The network alone: the strongest 100 anchors' scores and boxes.
        double worstScore = 0, worstBox = 0;
        int checked = 0;
        const auto ref = reference();
        for (const auto& p : ref.at("photos")) {
            if (!p.contains("top_anchors")) continue;
            const Image image = loadImage(test::facePhoto(QString::fromStdString(p.at("photo"))).toStdString());
            std::vector<cv::Vec4f> boxes;
            std::vector<float> scores;
            detector_->run(SsdFaceDetector::networkInput(image.bgr), boxes, scores);
            QCOMPARE(int(scores.size()), 5118);
            for (const auto& a : p.at("top_anchors")) {
                const std::size_t i = a.at("index");
                worstScore = std::max(worstScore, std::abs(double(scores[i]) - a.at("score").get<double>()));
                for (int k = 0; k < 4; ++k) worstBox = std::max(worstBox, std::abs(double(boxes[i][k]) - a.at("box")[std::size_t(k)].get<double>()));
                ++checked;
            }
        }
        qInfo("%d anchors: scores within %.3g, boxes within %.3g (of the input's side)", checked, worstScore, worstBox);
        QCOMPARE(checked, 200);
        QVERIFY(worstScore < 1e-3);
        QVERIFY(worstBox < 1e-3);
    }

    void nonMaxSuppressionIsFaceApis() {
        // Overlap 0.5 or less keeps both; more keeps the stronger; below the threshold none.
        const std::vector<cv::Vec4f> boxes = {{0, 0, 1, 1}, {0, 0, 1, 0.5f}, {0, 0.5f, 1, 1}, {0, 0.1f, 1, 1.1f}};
        const std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.95f};
        const std::vector<int> kept = ssdNonMaxSuppression(boxes, scores, 100, 0.5, 0.3);
        QCOMPARE(kept, (std::vector<int>{3, 1, 2}));
        QVERIFY(ssdNonMaxSuppression(boxes, scores, 100, 0.5, 0.99).empty());
        QCOMPARE(int(ssdNonMaxSuppression(boxes, scores, 1, 0.5, 0.3).size()), 1);
    }
};

QTEST_GUILESS_MAIN(TestSsdDetector)
#include "test_ssd_detector.moc"
