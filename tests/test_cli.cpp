// ideudemon-cli as a user runs it: exit codes, messages, JSON output, files written.
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

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
        for (const char* c : {"detect", "align"}) QTest::newRow(c) << QString(c);
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
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
