// The neural backends in use: the converter on checkpoints nested like the official ones
// (python3-torch), the model store's record of user weights, the pipeline with each backend
// on the fixtures' random weights (shapes, ranges, determinism, backend really used), and a
// clear message with the default path still working when weights are missing.
#include <torch/torch.h>

#include "common/error.h"
#include "io/image_io.h"
#include "models/model_store.h"
#include "nets/flat_weights.h"
#include "nets/neural_backends.h"
#include "pipeline/deid_pipeline.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace ideu;

namespace {

const char* kPython = "/usr/bin/python3";  // Debian's python3 with python3-torch

QString fixture(const QString& net, const QString& file) { return test::sharedDir() + "/fixtures/nets/" + net + "/" + file; }
QString converter() { return QString(IDEU_SOURCE_DIR) + "/models/convert_weights.py"; }

}  // namespace

class TestBackends : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    // Runs a Python snippet with torch; returns its exit code.
    int python(const QString& code, QByteArray* err = nullptr) {
        QByteArray out;
        return test::runProcess(kPython, {"-c", code}, &out, err);
    }

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        QByteArray err;
        QVERIFY2(python("import torch", &err) == 0, "Debian's python3-torch is needed (packaging/setup.sh installs it)");
    }

    void converterRoundTripOnNestedCheckpoints_data() {
        QTest::addColumn<QString>("network");
        QTest::addColumn<QString>("nesting");  // Python building the official-like checkpoint from `w`
        QTest::addColumn<QString>("config");
        QTest::newRow("gfpgan params_ema, OrderedDict with _metadata")
            << "gfpgan" << "od = collections.OrderedDict(w); od._metadata = collections.OrderedDict(); ckpt = {'params_ema': od, 'params': od}"
            << R"({"out_size":64,"num_style_feat":128,"channel_multiplier":1,"narrow":0.125})";
        QTest::newRow("bisenet legacy file, DataParallel prefix")
            << "bisenet" << "ckpt = collections.OrderedDict(('module.' + k, v) for k, v in w.items()); legacy = True" << "";
        QTest::newRow("headnerf para + net")
            << "headnerf" << "ckpt = {'para': {'featmap_size': 8, 'featmap_nc': 256, 'pred_img_size': 128}, 'net': collections.OrderedDict(w)}"
            << "";
    }
    void converterRoundTripOnNestedCheckpoints() {
        QFETCH(QString, network);
        QFETCH(QString, nesting);
        QFETCH(QString, config);
        const QString checkpoint = dir_.filePath(network + "_official_like.pth");
        const QString code = QString("import torch, collections\nw = torch.load('%1')\nlegacy = False\n%2\n"
                                     "torch.save(ckpt, '%3', _use_new_zipfile_serialization=not legacy)\n")
                                 .arg(fixture(network, "weights.pt"), nesting, checkpoint);
        QByteArray err;
        QVERIFY2(python(code, &err) == 0, err.constData());
        const QString cache = dir_.filePath("cache");
        QStringList args{converter(), network, checkpoint, "-o", cache};
        if (!config.isEmpty()) args << "--config" << config;
        QByteArray out;
        QVERIFY2(test::runProcess(kPython, args, &out, &err) == 0, err.constData());
        // Same tensors under the same names, readable by LibTorch.
        const nets::TensorDict converted = nets::loadTensorDict((cache + "/user/" + network + ".pt").toStdString());
        const nets::TensorDict original = nets::loadTensorDict(fixture(network, "weights.pt").toStdString());
        QCOMPARE(converted.size(), original.size());
        for (const auto& [name, tensor] : original) {
            QVERIFY2(converted.count(name), name.c_str());
            QVERIFY2(torch::equal(converted.at(name), tensor), name.c_str());
        }
        // The record: hashes of source and result, and the licence.
        std::ifstream in((cache + "/user/" + network + ".pt.json").toStdString());
        const auto record = nlohmann::json::parse(in);
        QCOMPARE(QString::fromStdString(record.at("source_sha256")), QString::fromStdString(test::fileSha256(checkpoint)));
        QCOMPARE(QString::fromStdString(record.at("sha256")),
                 QString::fromStdString(test::fileSha256(cache + "/user/" + network + ".pt")));
        QVERIFY(record.at("licence").get<std::string>().find("non-commercial") != std::string::npos);
        // The model store accepts it, and refuses it once changed.
        ModelStore store(cache.toStdString());
        QVERIFY(store.isAvailable(network.toStdString()));
        QFile file(cache + "/user/" + network + ".pt");
        QVERIFY(file.open(QIODevice::Append));
        file.write("x");
        file.close();
        ModelStore again(cache.toStdString());
        QVERIFY(!again.isAvailable(network.toStdString()));
    }

    void missingWeightsGiveAClearMessage() {
        ModelStore store(dir_.filePath("empty").toStdString());
        for (const char* name : {"bisenet", "gfpgan", "headnerf"}) {
            try {
                store.require(name);
                QFAIL("no error");
            } catch (const ModelError& e) {
                QVERIFY2(QString(e.what()).contains("convert_weights.py"), e.what());
            }
        }
        // The default path still works.
        DeidPipeline pipeline(loadImage(test::facePhoto("bbt_amy/amy1.png").toStdString()));
        const FaceResult r = pipeline.processFace(0, {});
        QCOMPARE(QString::fromStdString(r.parser), QString("mesh"));
        QCOMPARE(QString::fromStdString(r.restorer), QString("blend"));
        QVERIFY(!r.final.empty());
    }

    void pipelineWithEveryBackend() {
        // Random weights give meaningless pictures: check that each backend ran, and the
        // shapes, ranges and determinism of what it produced.
        const QString gfpganConfig = dir_.filePath("gfpgan_fixture.json");
        std::ofstream(gfpganConfig.toStdString()) << R"({"config": {"out_size": 64, "num_style_feat": 128, "channel_multiplier": 1, "narrow": 0.125}})";
        const QString headConfig = dir_.filePath("headnerf_fixture.json");
        std::ofstream(headConfig.toStdString()) << R"({"config": {"featmap_size": 8, "featmap_nc": 256, "pred_img_size": 128}})";
        auto parser = makeBiSeNetParser(fixture("bisenet", "weights.pt").toStdString());
        auto restorer = makeGfpganRestorer(fixture("gfpgan", "weights.pt").toStdString(), gfpganConfig.toStdString());
        auto head = std::make_shared<HeadNerfHead>(fixture("headnerf", "weights.pt").toStdString(), headConfig.toStdString());
        QCOMPARE(head->imageSize(), 128);

        const Image photo = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        struct Run {
            cv::Mat out;
            FaceResult result;
            HeadNerfCodes codes;
            int progressCalls = 0;
            bool cached = false;
        };
        auto run = [&] {
            Run run;
            DeidPipeline pipeline(photo);
            pipeline.setParser(parser);
            pipeline.setRestorer(restorer);
            pipeline.setHead(head);
            run.codes = pipeline.fitHead(0, 3, [&](int, double loss) {
                ++run.progressCalls;
                return std::isfinite(loss);
            });
            run.cached = pipeline.hasHeadCodes(0);
            DeidSettings settings;
            settings.seed = 9;
            std::vector<FaceResult> results;
            run.out = pipeline.anonymize(settings, {}, {}, &results);
            run.result = results.at(0);
            return run;
        };
        const Run first = run();
        QCOMPARE(first.progressCalls, 3);
        QCOMPARE(first.codes.steps, 3);
        QCOMPARE(int(first.codes.shape.size()), 179);
        QCOMPARE(int(first.codes.appearance.size()), 127);
        QVERIFY(first.cached);
        const cv::Mat& out = first.out;
        const FaceResult& r = first.result;
        QCOMPARE(QString::fromStdString(r.parser), QString("bisenet"));
        QCOMPARE(QString::fromStdString(r.restorer), QString("gfpgan"));
        QCOMPARE(QString::fromStdString(r.head), QString("headnerf"));
        QCOMPARE(out.size(), photo.bgr.size());
        QCOMPARE(r.final.size(), cv::Size(512, 512));
        QCOMPARE(r.hybrid.parsingX.type(), CV_8U);
        double lo = 0, hi = 0;
        cv::minMaxLoc(r.hybrid.parsingX, &lo, &hi);
        QVERIFY(lo >= 0 && hi < kFaceLabelCount);
        QVERIFY(!r.headFitted.empty());
        cv::minMaxLoc(r.perturbed.image.reshape(1), &lo, &hi);
        QVERIFY(lo >= 0 && hi <= 255.01);
        // Deterministic: a fresh pipeline with the same weights and seed gives the same bytes.
        QCOMPARE(test::maxAbsDiff(out, run().out), 0.0);
        // The stages say which backend made them.
        bool finalNamed = false, headNamed = false;
        for (const StageImage& s : stageImages(FaceModelContext::shared(), r)) {
            finalNamed |= s.key == "X_final" && s.title.find("gfpgan") != std::string::npos;
            headNamed |= s.key == "X_f" && s.title.find("HeadNeRF") != std::string::npos;
        }
        QVERIFY(finalNamed && headNamed);
    }
};

QTEST_GUILESS_MAIN(TestBackends)
#include "test_backends.moc"
