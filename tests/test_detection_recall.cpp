// The detector's promise on synthetic canvases: faces of 40, 60, 100 and 200 px pasted into
// 2, 12 and 24 MP photos, rolled by 0, +-30 and +-45 degrees and mirrored, are found at every
// resolution (the minimum face size does not grow with the photo); faces on their side and
// upside down are found turned. Takes a few minutes.
#include "evaluation/detection_recall.h"
#include "test_support.h"

#include <QtTest>

using namespace ideu;

class TestDetectionRecall : public QObject {
    Q_OBJECT

    std::vector<RecallSource> sources_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        sources_ = recallSources({test::facePhoto("obama/obama.jpg").toStdString(), test::facePhoto("biden/biden.jpg").toStdString(),
                                  test::facePhoto("jolie/img1.jpg").toStdString()});
        QCOMPARE(int(sources_.size()), 3);
    }

    // One row per canvas and face size (each well within Qt Test's per-function watchdog).
    void recallHoldsAtEveryResolution_data() {
        QTest::addColumn<double>("megapixels");
        QTest::addColumn<int>("faceSize");
        for (double mp : {2.0, 12.0, 24.0})
            for (int size : {40, 60, 100, 200})
                QTest::newRow((QByteArray::number(mp) + " MP, " + QByteArray::number(size) + " px").constData()) << mp << size;
    }
    void recallHoldsAtEveryResolution() {
        QFETCH(double, megapixels);
        QFETCH(int, faceSize);
        const std::vector<double> rolls = {0, 30, -30, 45, -45};
        const auto rows = measureRecallTable(*FaceDetector::shared(), sources_, {megapixels}, {faceSize}, rolls, {});
        QCOMPARE(int(rows.size()), 1);
        const RecallRow& row = rows.front();
        for (double roll : rolls) {
            const auto [found, placed] = row.byRoll.at(roll);
            qInfo("roll %+.0f: %d of %d", roll, found, placed);
            QCOMPARE(placed, 6);  // 3 faces, each also mirrored
            // Upright and 30 degrees: every face, from the minimum size up, at every
            // resolution. 45 degrees is the HOG detector's edge: most faces.
            if (std::abs(roll) <= 30) QCOMPARE(found, placed);
            else QVERIFY(found >= 4);
        }
        QVERIFY(row.mirrored.first >= 13);
        QVERIFY(row.extraDetections <= 2);
    }

    // Faces on their side (rolled a quarter turn) are all found at these sizes, nearly all by
    // the frontal detector turned, so they are fitted (the others, below its turned score, are
    // blurred). Upside down, a face is looked for only around an SSD box, which misses some.
    void facesOnTheirSideAreFoundAndFitted() {
        const std::vector<double> rolls = {90, -90, 180};
        const auto rows = measureRecallTable(*FaceDetector::shared(), sources_, {2.0}, {100, 200}, rolls, {});
        for (const RecallRow& row : rows) {
            for (double roll : rolls) {
                const auto [found, placed] = row.byRoll.at(roll);
                const int fitted = row.fittedByRoll.at(roll);
                qInfo("%d px, roll %+.0f: %d found, %d fitted, of %d", row.faceSize, roll, found, fitted, placed);
                QCOMPARE(placed, 6);
                if (roll == 180) {
                    QVERIFY(found >= 4);
                    QCOMPARE(fitted, found);
                } else {
                    QCOMPARE(found, placed);
                    QVERIFY(fitted >= placed - 1);
                }
            }
            QVERIFY(row.extraDetections <= 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestDetectionRecall)
#include "test_detection_recall.moc"
