// The 3DMM pack reader (validation, clear errors) and the ICT-FaceKit OBJ converter.
#include "common/error.h"
#include "morphable/ict_converter.h"
#include "morphable/morphable_model.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace ideu;

namespace {

QString packJson() { return test::sharedDir() + "/models/ict-face-light/ict_face_light.json"; }

QString errorLoading(const QString& json) {
    try {
        loadMorphableModel(json.toStdString());
    } catch (const ModelError& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace

class TestMorphableModel : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    // Copies the pack into the temp dir with an edited header and/or binary.
    QString brokenPack(const QString& name, const std::function<void(nlohmann::json&)>& editHeader,
                       const std::function<void(std::vector<std::uint8_t>&)>& editBinary = {}) {
        std::ifstream in(packJson().toStdString());
        nlohmann::json header = nlohmann::json::parse(in);
        editHeader(header);
        auto bin = test::readBytes(test::sharedDir() + "/models/ict-face-light/ict_face_light.bin");
        if (editBinary) editBinary(bin);
        const QString json = dir_.filePath(name + ".json");
        std::ofstream(json.toStdString()) << header.dump();
        test::writeBytes(dir_.filePath(name + ".bin"), bin);
        return json;
    }

private slots:
    void initTestCase() { IDEU_REQUIRE_SHARED(); }

    void loadsThePack() {
        const MorphableModel m = loadMorphableModel(packJson().toStdString());
        QCOMPARE(m.vertexCount, 9409);
        QCOMPARE(m.identityCount(), 100);
        QCOMPARE(m.expressionCount(), 53);
        QCOMPARE(int(m.triangles.size()), 18460);
        QCOMPARE(m.expressionNames[26], std::string("jawOpen"));
        QCOMPARE(m.landmarks[30], 4857);
        // Shape synthesis: mean + identity + expression.
        Eigen::VectorXf a = Eigen::VectorXf::Zero(100), d = Eigen::VectorXf::Zero(53);
        a(0) = 1;
        d(26) = 1;
        const Eigen::VectorXf s = m.shape(a, d);
        QVERIFY((s - m.mean - m.identityBasis.col(0) - m.expressionBasis.col(26)).norm() < 1e-4);
    }

    void rejectsBadPacks() {
        QVERIFY(errorLoading(dir_.filePath("missing.json")).contains("cannot open"));
        {
            const QString json = dir_.filePath("garbage.json");
            std::ofstream(json.toStdString()) << "{ not json";
            QVERIFY(errorLoading(json).contains("not valid JSON"));
        }
        QVERIFY(errorLoading(brokenPack("format", [](nlohmann::json& h) { h["format"] = "other"; })).contains("not an ideu-3dmm-pack"));
        QVERIFY(errorLoading(brokenPack("shape", [](nlohmann::json& h) { h["arrays"]["mean"]["shape"] = {9408, 3}; }))
                    .contains("unexpected shape"));
        QVERIFY(errorLoading(brokenPack("dtype", [](nlohmann::json& h) { h["arrays"]["uv"]["dtype"] = "float64"; }))
                    .contains("float64"));
        QVERIFY(errorLoading(brokenPack("offset", [](nlohmann::json& h) {
                                h["arrays"]["landmarks68"]["offset"] = 17684896;
                                h.erase("sha256");
                            })).contains("outside the binary"));
        const QString corrupt = errorLoading(brokenPack("corrupt", [](nlohmann::json&) {}, [](std::vector<std::uint8_t>& b) { b[1000] ^= 1; }));
        QVERIFY2(corrupt.contains("corrupt"), qPrintable(corrupt));
        const QString range = errorLoading(brokenPack(
            "range", [](nlohmann::json& h) { h.erase("sha256"); },
            [](std::vector<std::uint8_t>& b) { b[17387832] = 0xFF, b[17387833] = 0xFF, b[17387834] = 0xFF, b[17387835] = 0x7F; }));
        QVERIFY2(range.contains("out of range"), qPrintable(range));
        QVERIFY(errorLoading(brokenPack("nobin", [](nlohmann::json&) {})).isEmpty());  // an unedited copy loads
        QFile::remove(dir_.filePath("nobin.bin"));
        QVERIFY(errorLoading(dir_.filePath("nobin.json")).contains("model pack binary"));
    }

    void converterReproducesThePack() {
        IctConversionOptions options;
        options.allowMissing = true;  // the fixture has identity000, identity001 and jawOpen only
        const IctConversionResult result =
            convertIctFaceKit((test::sharedDir() + "/fixtures/ict-obj").toStdString(), options);
        const MorphableModel& converted = result.model;
        const MorphableModel pack = loadMorphableModel(packJson().toStdString());
        QCOMPARE(int(result.missing.size()), 98 + 52);
        QCOMPARE(converted.vertexCount, pack.vertexCount);
        QVERIFY((converted.mean - pack.mean).cwiseAbs().maxCoeff() < 1e-6f);
        QVERIFY((converted.identityBasis.col(0) - pack.identityBasis.col(0)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY((converted.identityBasis.col(1) - pack.identityBasis.col(1)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY((converted.expressionBasis.col(26) - pack.expressionBasis.col(26)).cwiseAbs().maxCoeff() < 1e-5f);
        QCOMPARE(converted.triangles.size(), pack.triangles.size());
        QVERIFY(converted.triangles == pack.triangles);
        float uvError = 0;
        for (int i = 0; i < pack.vertexCount; ++i) uvError = std::max(uvError, (converted.uv[std::size_t(i)] - pack.uv[std::size_t(i)]).cwiseAbs().maxCoeff());
        QVERIFY(uvError < 1e-6f);
        QVERIFY(converted.landmarks == pack.landmarks);
        QVERIFY(converted.expressionNames == pack.expressionNames);

        // Written and read back as a pack, it loads and validates.
        writeMorphableModel(converted, dir_.filePath("converted.json").toStdString(), {{"test", true}});
        const MorphableModel back = loadMorphableModel(dir_.filePath("converted.json").toStdString());
        QVERIFY((back.mean - pack.mean).cwiseAbs().maxCoeff() < 1e-6f);
    }

    void converterErrorsNameTheFile() {
        try {
            convertIctFaceKit((test::sharedDir() + "/fixtures/ict-obj").toStdString());  // strict: identity002 is missing
            QFAIL("no error");
        } catch (const ModelError& e) {
            QVERIFY2(QString(e.what()).contains("identity002.obj"), e.what());
        }
        try {
            convertIctFaceKit(dir_.path().toStdString());
            QFAIL("no error");
        } catch (const ModelError& e) {
            QVERIFY2(QString(e.what()).contains("vertex_indices.json"), e.what());
        }
        const QString obj = dir_.filePath("bad.obj");
        std::ofstream(obj.toStdString()) << "v 1 2 3\nv 1 x 3\n";
        try {
            readObj(obj.toStdString(), false);
            QFAIL("no error");
        } catch (const ModelError& e) {
            QVERIFY2(QString(e.what()).contains("line 2"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestMorphableModel)
#include "test_morphable_model.moc"
