// The detector's promise on synthetic canvases: faces of 40, 60, 100 and 200 px pasted into
// 2, 12 and 24 MP photos, rolled by 0, +-30 and +-45 degrees and mirrored, are found at every
// resolution (the minimum face size does not grow with the photo). Takes a few minutes.
#include "evaluation/detection_recall.h"
#include "test_support.h"

#include <QtTest>

using namespace ideu;

class TestDetectionRecall : public QObject {
    Q_OBJECT

private slots:
    void recallHoldsAtEveryResolution() {
        IDEU_REQUIRE_SHARED();
        const std::vector<RecallSource> sources = recallSources(
            {test::facePhoto("obama/obama.jpg").toStdString(), test::facePhoto("biden/biden.jpg").toStdString(),
             test::facePhoto("jolie/img1.jpg").toStdString()});
        QCOMPARE(int(sources.size()), 3);
        const std::vector<double> rolls = {0, 30, -30, 45, -45};
        const auto rows = measureRecallTable(*FaceDetector::shared(), sources, {2, 12, 24}, {40, 60, 100, 200}, rolls, {});
        QCOMPARE(int(rows.size()), 12);
        for (const RecallRow& row : rows) {
            const QByteArray where = QByteArray::number(row.megapixels) + " MP, " + QByteArray::number(row.faceSize) + " px";
            for (double roll : rolls) {
                const auto [found, placed] = row.byRoll.at(roll);
                qInfo("%s, roll %+.0f: %d of %d", where.constData(), roll, found, placed);
                QCOMPARE(placed, 6);  // 3 faces, each also mirrored
                // Upright and 30 degrees: every face, from the minimum size up, at every
                // resolution. 45 degrees is the HOG detector's edge: most faces.
                if (std::abs(roll) <= 30) QVERIFY2(found == placed, where.constData());
                else QVERIFY2(found >= 4, where.constData());
            }
            QVERIFY2(row.mirrored.first >= 13, where.constData());
            QVERIFY2(row.extraDetections <= 2, where.constData());
        }
    }
};

QTEST_GUILESS_MAIN(TestDetectionRecall)
#include "test_detection_recall.moc"
