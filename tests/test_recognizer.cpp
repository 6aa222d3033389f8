// The LibTorch port of the face-api (dlib ResNet) descriptor and the dlib-style chip cutter
// against the reference fixtures in ../shared/fixtures/facerec.
#include "face/face_detector.h"
#include "io/image_io.h"
#include "recognition/face_chip.h"
#include "recognition/face_recognizer.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <map>

using namespace ideu;

namespace {

nlohmann::json readJson(const QString& path) {
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in);
}

cv::Mat readChipRgb(const QString& path) {
    cv::Mat rgb;
    cv::cvtColor(loadImage(path.toStdString()).bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

}  // namespace

class TestRecognizer : public QObject {
    Q_OBJECT
    QString fixtures_;
    std::shared_ptr<const FaceRecognizer> recognizer_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        fixtures_ = test::sharedDir() + "/fixtures/facerec";
        recognizer_ = FaceRecognizer::shared();
    }

    void descriptorsMatchTheReference() {
        const auto reference = readJson(fixtures_ + "/descriptors.json");
        QCOMPARE(int(reference.size()), 67);
        std::vector<cv::Mat> chips;
        for (const auto& r : reference) chips.push_back(readChipRgb(fixtures_ + "/" + QString::fromStdString(r.at("chip"))));
        const auto descriptors = recognizer_->describeChips(chips);
        double worst = 0, worstL2 = 0, sum = 0;
        for (std::size_t i = 0; i < reference.size(); ++i) {
            const auto expected = reference[i].at("descriptor").get<std::vector<float>>();
            double l2 = 0;
            for (int k = 0; k < 128; ++k) {
                const double d = std::abs(double(descriptors[i][std::size_t(k)]) - expected[std::size_t(k)]);
                worst = std::max(worst, d);
                sum += d;
                l2 += d * d;
            }
            worstL2 = std::max(worstL2, std::sqrt(l2));
        }
        qInfo("67 chips: max |difference| %.3g, mean %.3g, max L2 %.3g", worst, sum / (67 * 128), worstL2);
        QVERIFY(worst < 1e-5);
        QVERIFY(worstL2 < 1e-4);
    }

    void batchEqualsSingle() {
        const cv::Mat a = readChipRgb(fixtures_ + "/obama__obama.png");
        const cv::Mat b = readChipRgb(fixtures_ + "/jolie__img1.png");
        const auto both = recognizer_->describeChips({a, b});
        const auto single = recognizer_->describeChip(b);
        QVERIFY(descriptorDistance(both[1], single) < 1e-5);
    }

    void chipCutterMatchesTheHarness() {
        // Same five landmarks -> same transform, pyramid level and (after rounding) pixels.
        const auto alignment = readJson(fixtures_ + "/alignment.json");
        int checked = 0;
        double worstMean = 0;
        std::vector<cv::Mat> jpegChips;
        std::vector<std::string> jpegNames;
        for (const auto& a : alignment) {
            if (a.at("padded_retry").get<bool>()) continue;  // detected on a padded copy
            std::array<cv::Point2d, 5> points;
            for (int k = 0; k < 5; ++k) points[std::size_t(k)] = {a["landmarks5"][k][0], a["landmarks5"][k][1]};
            const ChipTransform t = chipTransform(points);
            const auto& expected = a.at("transform");
            // The stored landmarks have 4 decimals: compare relative to the chip scale.
            QVERIFY(std::abs(t.a - expected.at("a").get<double>()) < 2e-5 * t.scale());
            QVERIFY(std::abs(t.b - expected.at("b").get<double>()) < 2e-5 * t.scale());
            QVERIFY(std::abs(t.tx - expected.at("tx").get<double>()) < 2e-3);
            QVERIFY(std::abs(t.ty - expected.at("ty").get<double>()) < 2e-3);
            QCOMPARE(t.pyramidLevel, expected.at("pyramid_level").get<int>());
            const std::string source = a.at("source");
            const Image photo = loadImage((test::sharedDir() + "/faces/" + QString::fromStdString(source)).toStdString());
            cv::Mat chip = extractChip(photo.bgr, t), rounded;
            chip.convertTo(rounded, CV_8UC3);
            cv::Mat diff;
            cv::absdiff(rounded, readChipRgb(fixtures_ + "/" + QString::fromStdString(a.at("chip"))), diff);
            const double mean = cv::mean(diff.reshape(1))[0];
            double maxDiff = 0;
            cv::minMaxLoc(diff.reshape(1), nullptr, &maxDiff);
            if (QString::fromStdString(source).endsWith(".png")) {
                // Lossless source: identical up to the last-bit rounding of the stored chip.
                QVERIFY2(maxDiff <= 1 && mean < 1e-3, a.at("chip").get<std::string>().c_str());
                worstMean = std::max(worstMean, mean);
            } else {
                // JPEG sources: the harness's JPEG decoder differs from libjpeg's in the last
                // bits (IDCT, chroma upsampling), magnified for small faces; what must agree
                // is the identity the recogniser reads from the chip.
                jpegChips.push_back(chip);
                jpegNames.push_back(a.at("chip"));
            }
            ++checked;
        }
        std::map<std::string, std::vector<float>> reference;
        for (const auto& r : readJson(fixtures_ + "/descriptors.json")) reference[r.at("chip")] = r.at("descriptor").get<std::vector<float>>();
        const auto descriptors = recognizer_->describeChips(jpegChips);
        double worstDistance = 0;
        for (std::size_t i = 0; i < jpegChips.size(); ++i) {
            FaceDescriptor expected;
            std::copy(reference[jpegNames[i]].begin(), reference[jpegNames[i]].end(), expected.begin());
            worstDistance = std::max(worstDistance, descriptorDistance(descriptors[i], expected));
        }
        qInfo("%d chips cut like the harness (PNG sources: worst mean |difference| %.4f levels; JPEG sources: "
              "descriptor distance to the reference at most %.4f)", checked, worstMean, worstDistance);
        QVERIFY(worstDistance < 0.05);
        QVERIFY(checked >= 40);  // the others were cut from an edge-padded copy of the photo
    }

    void samePersonMatchesOthersDoNot() {
        // With our own dlib landmarks and chips: every photo of the developer set.
        const auto detector = FaceDetector::shared();
        std::vector<std::pair<std::string, FaceDescriptor>> items;
        for (const std::string& file : test::allFacePhotos()) {
            const Image image = loadImage(file);
            const auto faces = detector->detect(image.bgr).faces;
            QVERIFY(!faces.empty());
            const std::string person = QFileInfo(QString::fromStdString(file)).dir().dirName().toStdString();
            items.emplace_back(person, recognizer_->describe(image.bgr, faces[0].landmarks));
        }
        int same = 0, sameMatch = 0, diff = 0, diffMatch = 0;
        for (std::size_t i = 0; i < items.size(); ++i)
            for (std::size_t j = i + 1; j < items.size(); ++j) {
                const bool match = descriptorDistance(items[i].second, items[j].second) < kMatchThreshold;
                if (items[i].first == items[j].first) ++same, sameMatch += match;
                else ++diff, diffMatch += match;
            }
        qInfo("same person: %d of %d pairs match (%.1f %%); different people: %d of %d pairs match (%.2f %%)",
              sameMatch, same, 100.0 * sameMatch / same, diffMatch, diff, 100.0 * diffMatch / diff);
        QVERIFY(sameMatch >= 0.95 * same);
        QVERIFY(diffMatch <= 0.01 * diff);
    }
};

QTEST_GUILESS_MAIN(TestRecognizer)
#include "test_recognizer.moc"
