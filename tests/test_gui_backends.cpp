// The editor's backend choice: neural backends are greyed out with the reason when their
// weights are missing, selectable when converted weights are installed, and their "final
// quality" result follows the fast preview, saying which backend made it.
#include "main_window.h"
#include "models/model_store.h"
#include "test_support.h"

#include <QComboBox>
#include <QDockWidget>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QtTest>

using namespace ideu::ui;

class TestGuiBackends : public QObject {
    Q_OBJECT
    QTemporaryDir cache_;

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        QCoreApplication::setOrganizationName("IDEudemon-tests");
        QCoreApplication::setApplicationName("test_gui_backends");
        QSettings().clear();
        // A model cache with the usual models and the GFPGAN fixture converted as a user would.
        const QString models = QString(IDEU_DEFAULT_MODELS);
        QVERIFY(QFile::link(models + "/ict-face-light", cache_.filePath("ict-face-light")));
        QVERIFY(QFile::link(models + "/face-api", cache_.filePath("face-api")));
        QVERIFY(QFile::link(models + "/human-models", cache_.filePath("human-models")));
        QVERIFY(QFile::link(models + "/appearance", cache_.filePath("appearance")));
        QByteArray out, err;
        const QString fixture = ideu::test::sharedDir() + "/fixtures/nets/gfpgan/weights.pt";
        QVERIFY2(ideu::test::runProcess("/usr/bin/python3",
                                        {QString(IDEU_SOURCE_DIR) + "/models/convert_weights.py", "gfpgan", fixture, "-o",
                                         cache_.path(), "--config",
                                         R"({"out_size":64,"num_style_feat":128,"channel_multiplier":1,"narrow":0.125})"},
                                        &out, &err) == 0,
                 err.constData());
        qputenv("IDEU_MODELS", cache_.path().toUtf8());  // before the model store is first used
        QCOMPARE(QString::fromStdString(ideu::ModelStore::instance().cacheDir()), cache_.path());
    }

    void missingBackendsAreGreyedOutWithTheReason() {
        MainWindow w;
        const auto* parserModel = qobject_cast<QStandardItemModel*>(w.findChildren<QComboBox*>().at(0)->model());
        QVERIFY(parserModel);
        QStandardItem* bisenet = parserModel->item(1);
        QVERIFY(!bisenet->isEnabled());
        QVERIFY(bisenet->toolTip().contains("convert_weights.py"));
        const auto* restorerModel = qobject_cast<QStandardItemModel*>(w.restorerBox()->model());
        QVERIFY(restorerModel->item(1)->isEnabled());
        QVERIFY(restorerModel->item(1)->toolTip().contains("non-commercial"));
    }

    void neuralResultFollowsThePreview() {
        MainWindow w;
        w.show();
        QSignalSpy opened(w.controller(), &PipelineController::photoOpened);
        w.openPhoto(ideu::test::facePhoto("bbt_howard/howard2.png"));
        QVERIFY(opened.wait(60000));
        QSignalSpy results(w.controller(), &PipelineController::resultReady);
        w.restorerBox()->setCurrentIndex(1);  // GFPGAN
        bool refined = false;
        QElapsedTimer timer;
        timer.start();
        while (!refined && timer.elapsed() < 60000) {
            QTest::qWait(50);
            for (const QList<QVariant>& args : results)
                refined |= args.at(0).value<PipelineResult>().refined;
        }
        QVERIFY(refined);
        QVERIFY(w.lastResult().refined);
        QVERIFY(w.lastResult().backends.contains("gfpgan"));
        bool named = false;
        for (QDockWidget* dock : w.findChildren<QDockWidget*>()) named |= dock->windowTitle().contains("gfpgan");
        QVERIFY(named);
        // Back to the fast path: previews only.
        w.restorerBox()->setCurrentIndex(0);
        QTest::qWait(500);
    }
};

QTEST_MAIN(TestGuiBackends)
#include "test_gui_backends.moc"
