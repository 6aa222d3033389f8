// ideudemon-cli as a user runs it: exit codes, messages, JSON output, files written.
#include "identity/identity_code.h"
#include "morphable/morphable_model.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

using ideu::test::cliPath;
using ideu::test::runProcess;

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void usageErrorsExitTwo() {
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {}, &out, &err), 2);
        QVERIFY(err.contains("Usage"));
        QCOMPARE(runProcess(cliPath(), {"frobnicate"}, &out, &err), 2);
        QVERIFY(err.contains("unknown command 'frobnicate'"));
        QCOMPARE(runProcess(cliPath(), {"detect"}, &out, &err), 2);
        QVERIFY(err.contains("expected exactly one IMAGE"));
        QCOMPARE(runProcess(cliPath(), {"detect", "a.png", "--bogus"}, &out, &err), 2);
        QVERIFY(err.contains("bogus"));
        QCOMPARE(runProcess(cliPath(), {"detect", "a.png", "--min-face", "abc"}, &out, &err), 2);
        QCOMPARE(runProcess(cliPath(), {"align", "a.png"}, &out, &err), 2);
        QVERIFY(err.contains("-o DIR is required"));
    }

    void helpForEveryCommand_data() {
        QTest::addColumn<QString>("command");
        for (const char* c : {"detect", "align", "fit", "anonymize", "evaluate", "bench", "convert-ict"}) QTest::newRow(c) << QString(c);
    }
    void helpForEveryCommand() {
        QFETCH(QString, command);
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {command, "--help"}, &out, &err), 0);
        QVERIFY(out.contains("Usage"));
        QVERIFY(out.contains("--help"));
        QCOMPARE(runProcess(cliPath(), {"--help"}, &out, &err), 0);
        QVERIFY(out.contains(command.toUtf8()));
    }

    void corruptFileExitsOneWithOneLine() {
        const QString file = dir_.filePath("broken.jpg");
        ideu::test::writeBytes(file, {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'});
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"detect", file}, &out, &err), 1);
        QCOMPARE(err.count('\n'), 1);
        QVERIFY(err.contains(file.toUtf8()));
        QVERIFY(err.contains("truncated JPEG"));
        QCOMPARE(runProcess(cliPath(), {"detect", dir_.filePath("missing.png")}, &out, &err), 1);
        QVERIFY(err.contains("No such file"));
    }

    void detectPrintsJson() {
        IDEU_REQUIRE_SHARED();
        const QString photo = ideu::test::facePhoto("obama/obama.jpg");
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"detect", photo, "--json"}, &out, &err), 0);
        const auto json = nlohmann::json::parse(out.toStdString());
        QCOMPARE(QString::fromStdString(json.at("image")), photo);
        QVERIFY(json.at("width").get<int>() > 0 && json.at("height").get<int>() > 0);
        QCOMPARE(json.at("faces").size(), std::size_t(1));
        const auto& face = json.at("faces")[0];
        QCOMPARE(face.at("box").size(), std::size_t(4));
        QVERIFY(face.at("score").get<double>() > 0);
        QCOMPARE(face.at("landmarks").size(), std::size_t(68));
        QCOMPARE(face.at("landmarks")[0].size(), std::size_t(2));

        QCOMPARE(runProcess(cliPath(), {"detect", photo}, &out, &err), 0);
        QVERIFY(out.contains("1 face(s)"));
    }

    void alignWritesCropsAndTransforms() {
        IDEU_REQUIRE_SHARED();
        const QString photo = ideu::test::facePhoto("biden/biden.jpg");
        const QString outDir = dir_.filePath("aligned");
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"align", photo, "-o", outDir}, &out, &err), 0);
        QVERIFY(QFile::exists(outDir + "/face_00.png"));
        QFile jsonFile(outDir + "/alignment.json");
        QVERIFY(jsonFile.open(QIODevice::ReadOnly));
        const auto json = nlohmann::json::parse(jsonFile.readAll().toStdString());
        QCOMPARE(json.at("faces").size(), std::size_t(1));
        QCOMPARE(json.at("faces")[0].at("crop_from_image").size(), std::size_t(2));
        QCOMPARE(json.at("size").get<int>(), 512);
    }

    void fitWritesStagesAndCodes() {
        IDEU_REQUIRE_SHARED();
        const QString out = dir_.filePath("fit");
        QByteArray stdoutText, err;
        QCOMPARE(runProcess(cliPath(), {"fit", ideu::test::facePhoto("obama/obama.jpg"), "--stages", out, "--json"}, &stdoutText, &err), 0);
        const auto json = nlohmann::json::parse(stdoutText.toStdString());
        const auto& face = json.at("faces").at(0);
        QVERIFY(face.at("landmark_error").get<double>() < 0.04);
        QCOMPARE(face.at("identity").size(), std::size_t(100 + face.at("identity_layout").at("albedo").get<int>()));
        QCOMPARE(face.at("expression").size(), std::size_t(53));
        QCOMPARE(face.at("sh").size(), std::size_t(27));
        QVERIFY(face.at("pose").contains("yaw_deg"));
        // X_p's mesh is the model's mesh of z'_id at the fitted face's size and place.
        const auto& kept = face.at("perturbed").at("size_and_place");
        QVERIFY(kept.at("scale").get<double>() > 0.5 && kept.at("scale").get<double>() < 2);
        QCOMPARE(kept.at("to_centre_cm").size(), std::size_t(3));
        QCOMPARE(kept.at("from_centre_cm").size(), std::size_t(3));
        for (const char* stage : {"X", "landmarks", "fit", "X_f", "X_p"})
            QVERIFY2(QFile::exists(QString::fromStdString(face.at("stages").at(stage).get<std::string>())), stage);
    }

    // A child's face is anonymized, and the command says why its protection may be weaker,
    // on stderr and in the sidecar.
    void aChildsFaceIsAnonymizedWithACaution() {
        IDEU_REQUIRE_SHARED();
        const QString target = dir_.filePath("out/child_anon.png");
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", ideu::test::facePhoto("justin_timberlake/Justin_Timberlake_crop.png"), "-o",
                                        target, "--seed", "2", "--sidecar"},
                            &out, &err),
                 0);
        QVERIFY2(err.contains("face 0 anonymized, with a caution: apparent age"), err.constData());
        QVERIFY2(out.contains("1 face(s) anonymized (1 with a caution)"), out.constData());
        QFile sidecarFile(target + ".json");
        QVERIFY(sidecarFile.open(QIODevice::ReadOnly));
        const auto sidecar = nlohmann::json::parse(sidecarFile.readAll().toStdString());
        QCOMPARE(sidecar.at("faces")[0].at("protection").get<std::string>(), std::string("anonymized"));
        QVERIFY(sidecar.at("faces")[0].at("caution").get<std::string>().find("gallery") != std::string::npos);
    }

    // calibrate over folders without both kinds of pair has no ROC to print: a clear error
    // naming the folder, not a table of zeros.
    void calibrateNeedsSameAndDifferentPairs() {
        IDEU_REQUIRE_SHARED();
        const QString faces = dir_.filePath("calibrate_faces");
        for (const char* person : {"a", "b"}) QVERIFY(QDir().mkpath(faces + "/" + person));
        QVERIFY(QFile::copy(ideu::test::facePhoto("biden/biden.jpg"), faces + "/a/1.jpg"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("obama/obama.jpg"), faces + "/b/1.jpg"));
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"calibrate", faces}, &out, &err), 1);
        QVERIFY2(err.contains("calibrate_faces") && err.contains("0 same-person and 1 different-person pairs"), err.constData());
        QVERIFY(!out.contains("EER"));
    }

    void anonymizeWritesOutputLeavesInputAlone() {
        IDEU_REQUIRE_SHARED();
        // Work on copies so the shared photos are never at risk.
        const QString in = dir_.filePath("in/biden.jpg");
        QDir().mkpath(dir_.filePath("in"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("biden/biden.jpg"), in));
        const std::string before = ideu::test::fileSha256(in);
        QByteArray out, err;
        const QString target = dir_.filePath("out/biden_anon.jpg");
        QCOMPARE(runProcess(cliPath(), {"anonymize", in, "-o", target, "--seed", "5", "--sidecar", "--stages", dir_.filePath("stages")}, &out, &err), 0);
        QVERIFY(QFile::exists(target));
        QCOMPARE(ideu::test::fileSha256(in), before);
        QVERIFY(out.contains("seed 5"));
        // Sidecar: settings, boxes, model hashes, nothing that describes the original face.
        QFile sidecarFile(target + ".json");
        QVERIFY(sidecarFile.open(QIODevice::ReadOnly));
        const auto sidecar = nlohmann::json::parse(sidecarFile.readAll().toStdString());
        QCOMPARE(sidecar.at("seed").get<int>(), 5);
        QCOMPARE(sidecar.at("faces").size(), std::size_t(1));
        QVERIFY(sidecar.at("faces")[0].contains("box"));
        QVERIFY(!sidecar.at("faces")[0].contains("landmarks"));
        QVERIFY(!sidecar.at("faces")[0].contains("caution"));
        QVERIFY(!err.contains("caution"));
        QVERIFY(sidecar.at("models").size() >= 3);
        QCOMPARE(sidecar.at("identity_check").get<bool>(), false);
        QVERIFY(QFile::exists(dir_.filePath("stages/biden/face_00_X_final.png")));
        // Same seed -> same bytes.
        const QString again = dir_.filePath("out/again.jpg");
        QCOMPARE(runProcess(cliPath(), {"anonymize", in, "-o", again, "--seed", "5"}, &out, &err), 0);
        QCOMPARE(ideu::test::fileSha256(again), ideu::test::fileSha256(target));
        // --check prints both recognisers' distances; the sidecar only says a check was done.
        const QString checked = dir_.filePath("out/checked.jpg");
        QCOMPARE(runProcess(cliPath(), {"anonymize", in, "-o", checked, "--seed", "5", "--check", "--sidecar"}, &out, &err), 0);
        const QString line = QString::fromUtf8(out).split('\n').filter("distance to the original").value(0);
        QVERIFY2(line.contains("face 0") && line.contains("dlib ResNet") && line.contains("FaceRes"), out.constData());
        QVERIFY(line.contains("matched by") || line.contains("not matched by either"));
        QFile checkedSidecar(checked + ".json");
        QVERIFY(checkedSidecar.open(QIODevice::ReadOnly));
        const QByteArray checkedText = checkedSidecar.readAll();
        const auto checkedJson = nlohmann::json::parse(checkedText.toStdString());
        QCOMPARE(checkedJson.at("identity_check").get<bool>(), true);
        QVERIFY(!checkedText.contains("distance"));
        QCOMPARE(ideu::test::fileSha256(checked), ideu::test::fileSha256(target));  // checking changes nothing
        // The output may not be the input.
        QCOMPARE(runProcess(cliPath(), {"anonymize", in, "-o", in, "--seed", "5"}, &out, &err), 1);
        QVERIFY(err.contains("refusing to overwrite input"));
        QCOMPARE(ideu::test::fileSha256(in), before);
    }

    void anonymizeFoldersAndNoFace() {
        IDEU_REQUIRE_SHARED();
        const QString root = dir_.filePath("album");
        QDir().mkpath(root + "/trip/day1");
        QVERIFY(QFile::copy(ideu::test::facePhoto("bbt_amy/amy1.png"), root + "/a.png"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("bbt_raj/raj2.png"), root + "/trip/day1/b.png"));
        const cv::Mat nothing = ideu::test::syntheticPicture(200, 150);
        std::vector<std::uint8_t> bytes;
        cv::imencode(".png", nothing, bytes);
        ideu::test::writeBytes(root + "/trip/empty.png", bytes);
        QByteArray out, err;
        const QString target = dir_.filePath("album_out");
        QCOMPARE(runProcess(cliPath(), {"anonymize", root, "-o", target, "--seed", "1", "--jobs", "2"}, &out, &err), 3);
        QVERIFY(QFile::exists(target + "/album/a.png"));
        QVERIFY(QFile::exists(target + "/album/trip/day1/b.png"));
        QVERIFY(!QFile::exists(target + "/album/trip/empty.png"));  // not passed off as anonymized
        QVERIFY(err.contains("no face found"));
        QVERIFY(out.contains("no face found in 1"));
        // --faces beyond the faces present is an error for that photo.
        QCOMPARE(runProcess(cliPath(), {"anonymize", root + "/a.png", "-o", dir_.filePath("x.png"), "--faces", "3"}, &out, &err), 1);
        QCOMPARE(runProcess(cliPath(), {"anonymize", root + "/a.png", "-o", dir_.filePath("x.png"), "--faces", "zero"}, &out, &err), 2);
    }

    void evaluateProducesAllFiles() {
        IDEU_REQUIRE_SHARED();
        const QString faces = dir_.filePath("people");
        QDir().mkpath(faces + "/obama");
        QDir().mkpath(faces + "/jolie");
        QVERIFY(QFile::copy(ideu::test::facePhoto("obama/obama.jpg"), faces + "/obama/1.jpg"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("obama/obama2.jpg"), faces + "/obama/2.jpg"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("jolie/img2.jpg"), faces + "/jolie/1.jpg"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("jolie/img5.jpg"), faces + "/jolie/2.jpg"));
        const QString report = dir_.filePath("report");
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"evaluate", faces, "-o", report, "--scales", "0,0.35", "--jobs", "2"}, &out, &err), 0);
        for (const char* f : {"evaluation.csv", "evaluation.json", "evaluation.png"}) QVERIFY2(QFile::exists(report + "/" + f), f);
        QFile jsonFile(report + "/evaluation.json");
        QVERIFY(jsonFile.open(QIODevice::ReadOnly));
        const auto json = nlohmann::json::parse(jsonFile.readAll().toStdString());
        QCOMPARE(json.at("photos").get<int>(), 4);
        const auto& s0 = json.at("summary")[0];
        const auto& s1 = json.at("summary")[1];
        // Scale 0 is the face re-rendered from its 3DMM fit (no noise): closer to the original
        // than the default by every measure; the default changes identity measurably and
        // keeps a detectable face of the same apparent gender. (That the metric can fail at
        // all is checked on copies below.)
        QVERIFY(s1.at("dis_mean").get<double>() > s0.at("dis_mean").get<double>() + 0.05);
        QVERIFY(s1.at("dis2_mean").get<double>() > s0.at("dis2_mean").get<double>() + 0.05);
        QVERIFY(s0.at("match_rate").get<double>() >= s1.at("match_rate").get<double>());
        QVERIFY(s0.at("crop_psnr").get<double>() > s1.at("crop_psnr").get<double>() + 3);
        QVERIFY(s0.at("crop_psnr").get<double>() > 26);
        QCOMPARE(s0.at("detected_rate").get<double>(), 1.0);
        QCOMPARE(s1.at("detected_rate").get<double>(), 1.0);
        QVERIFY(s1.at("crop_ssim").get<double>() > 0.5 && s1.at("crop_ssim").get<double>() < 1.0);
        // Both readers of apparent age and gender report, and the signed shift is the mean of
        // the rows' after − before (never larger than the mean |Δ|).
        for (const auto* s : {&s0, &s1}) {
            QVERIFY(s->at("gender_kept2_rate").get<double>() >= 0 && s->at("gender_kept2_rate").get<double>() <= 1);
            QVERIFY(std::abs(s->at("age_shift_years").get<double>()) <= s->at("age_change_years").get<double>() + 1e-9);
            QVERIFY(std::abs(s->at("age_shift2_years").get<double>()) <= s->at("age_change2_years").get<double>() + 1e-9);
        }
        QFile csv(report + "/evaluation.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 1 + 4 * 2);
        const QList<QByteArray> header = lines[0].split(',');
        const int scaleColumn = int(header.indexOf("scale")), before = int(header.indexOf("age2_before")),
                  after = int(header.indexOf("age2_after"));
        QVERIFY(before > 0 && after > 0 && header.contains("gender2_kept"));
        double shift = 0;
        int rows = 0;
        for (int i = 1; i < lines.size(); ++i) {
            // The photo's path is quoted and has no comma here.
            const QList<QByteArray> cells = lines[i].split(',');
            if (cells[scaleColumn].toDouble() != 0.35) continue;
            shift += cells[after].toDouble() - cells[before].toDouble();
            ++rows;
        }
        QCOMPARE(rows, 4);
        QVERIFY(std::abs(shift / rows - s1.at("age_shift2_years").get<double>()) < 1e-3);
    }

    void evaluateOfACopyMatches() {
        IDEU_REQUIRE_SHARED();
        // The identity metric on an unchanged photo: distance 0, match 100 %.
        // (evaluate at scale 0 still re-renders; the recogniser itself is checked here.)
        QByteArray out, err;
        const QString faces = dir_.filePath("copies");
        QDir().mkpath(faces + "/p");
        QVERIFY(QFile::copy(ideu::test::facePhoto("obama/obama.jpg"), faces + "/p/a.jpg"));
        QVERIFY(QFile::copy(ideu::test::facePhoto("obama/obama.jpg"), faces + "/p/b.jpg"));
        // (Settings other than the defaults, which scale 0 does not use, are recorded in the report.)
        QCOMPARE(runProcess(cliPath(), {"evaluate", faces, "-o", dir_.filePath("copies_report"), "--scales", "0",
                                        "--albedo-gain", "2.5", "--components", "shape,detail"}, &out, &err), 0);
        QFile jsonFile(dir_.filePath("copies_report/evaluation.json"));
        QVERIFY(jsonFile.open(QIODevice::ReadOnly));
        const auto json = nlohmann::json::parse(jsonFile.readAll().toStdString());
        const auto& settings = json.at("settings");
        QCOMPARE(settings.at("albedo_gain").get<double>(), 2.5);
        QCOMPARE(settings.at("shape_gain").get<double>(), ideu::NoiseSettings().shapeGain);
        QCOMPARE(settings.at("components"), nlohmann::json::parse(R"(["shape", "detail"])"));
        QCOMPARE(settings.at("parser").get<std::string>(), std::string("mesh"));
        QVERIFY(out.contains(QString("noise on: shape detail; shape gain %1, albedo gain 2.5").arg(ideu::NoiseSettings().shapeGain).toUtf8()));
        QCOMPARE(json.at("baseline_same_person_match_rate").get<double>(), 1.0);  // the two copies: distance 0
        QCOMPARE(json.at("baseline_same_person_match2_rate").get<double>(), 1.0);  // both recognisers
        QCOMPARE(json.at("summary")[0].at("reid_pair_rate").get<double>(), 1.0);
        QCOMPARE(json.at("summary")[0].at("reid2_pair_rate").get<double>(), 1.0);
        QCOMPARE(json.at("summary")[0].at("gender_kept_rate").get<double>(), 1.0);
    }

    void convertIctBuildsALoadablePack() {
        IDEU_REQUIRE_SHARED();
        // A FaceXModel-like folder: the fixture's neutral mesh and indices, its two identity
        // OBJs standing in for all 100, jawOpen for every expression.
        const QString fixtures = ideu::test::sharedDir() + "/fixtures/ict-obj";
        const QString model = dir_.filePath("FaceXModel");
        QDir().mkpath(model);
        QVERIFY(QFile::link(fixtures + "/generic_neutral_mesh.obj", model + "/generic_neutral_mesh.obj"));
        QVERIFY(QFile::link(fixtures + "/vertex_indices.json", model + "/vertex_indices.json"));
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"convert-ict", model, "-o", dir_.filePath("pack")}, &out, &err), 1);
        QVERIFY(err.contains("identity000.obj"));
        for (int i = 0; i < 100; ++i)
            QVERIFY(QFile::link(fixtures + (i % 2 ? "/identity001.obj" : "/identity000.obj"),
                                model + QString("/identity%1.obj").arg(i, 3, 10, QChar('0'))));
        QFile indices(fixtures + "/vertex_indices.json");
        QVERIFY(indices.open(QIODevice::ReadOnly));
        const nlohmann::json indexJson = nlohmann::json::parse(indices.readAll().toStdString());
        for (const auto& name : indexJson.at("expressions"))
            QVERIFY(QFile::link(fixtures + "/jawOpen.obj", model + "/" + QString::fromStdString(name.get<std::string>()) + ".obj"));
        const int code = runProcess(cliPath(), {"convert-ict", model, "-o", dir_.filePath("pack")}, &out, &err, 600000);
        QVERIFY2(code == 0, err.constData());
        const ideu::MorphableModel converted = ideu::loadMorphableModel(dir_.filePath("pack/ict_face_light.json").toStdString());
        const ideu::MorphableModel pack =
            ideu::loadMorphableModel((ideu::test::sharedDir() + "/models/ict-face-light/ict_face_light.json").toStdString());
        QVERIFY((converted.mean - pack.mean).cwiseAbs().maxCoeff() < 1e-6f);
        QVERIFY((converted.identityBasis.col(0) - pack.identityBasis.col(0)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY((converted.identityBasis.col(3) - pack.identityBasis.col(1)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY((converted.expressionBasis.col(26) - pack.expressionBasis.col(26)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY(converted.triangles == pack.triangles);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
