// The model manifest and cache: clear one-line errors for missing or corrupt files.
#include "common/error.h"
#include "models/model_store.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

using namespace ideu;

class TestModelStore : public QObject {
    Q_OBJECT
    QTemporaryDir cache_;

    static QString errorOf(const ModelStore& store, const std::string& name) {
        try {
            store.require(name);
        } catch (const ModelError& e) {
            return QString::fromUtf8(e.what());
        }
        return {};
    }

private slots:
    void manifestIsComplete() {
        const auto manifest = nlohmann::json::parse(embeddedModelManifest());
        for (const auto& m : manifest.at("models"))
            for (const char* key : {"name", "file", "sha256", "source", "version", "licence", "fetch"}) {
                // Weights the user converts get their hash recorded beside the file instead; a
                // pack built here records its binary's hash in its own header.
                if (std::string(key) == "sha256" && (m.at("fetch") == "user" || m.at("fetch") == "build")) continue;
                QVERIFY2(m.contains(key) && !m.at(key).get<std::string>().empty(), key);
            }
        ModelStore store(cache_.path().toStdString());
        QVERIFY(store.entries().size() >= 5);
        // The appearance model names its gallery and its non-commercial licence.
        const ModelEntry& appearance = store.entry("appearance-model");
        QCOMPARE(appearance.fetch, std::string("build"));
        QVERIFY(QString::fromStdString(appearance.licence).contains("non-commercial"));
    }

    void missingBuiltPackSaysHowToBuildIt() {
        ModelStore store(cache_.path().toStdString());
        const QString message = errorOf(store, "appearance-model");
        QVERIFY2(message.contains("appearance/appearance_model.json") && message.contains("build-appearance-model"), qPrintable(message));
    }

    void unknownModelIsAnError() {
        ModelStore store(cache_.path().toStdString());
        QVERIFY(errorOf(store, "no-such-model").contains("not in the model manifest"));
    }

    void missingFileSaysWhichWhereAndHow() {
        ModelStore store(cache_.path().toStdString());
        const QString message = errorOf(store, "ict-face-light");
        QVERIFY2(message.contains("ict-face-light/ict_face_light.bin"), qPrintable(message));
        QVERIFY2(message.contains(cache_.path()), qPrintable(message));
        QVERIFY2(message.contains("packaging/setup.sh"), qPrintable(message));
        QVERIFY(!message.contains('\n'));
        QVERIFY(!store.isAvailable("ict-face-light"));
    }

    void corruptFileIsRefused() {
        QDir(cache_.path()).mkpath("face-api");
        test::writeBytes(cache_.filePath("face-api/face_recognition_model-weights_manifest.json"), {'[', ']'});
        ModelStore store(cache_.path().toStdString());
        const QString message = errorOf(store, "face-recognition-manifest");
        QVERIFY2(message.contains("corrupt"), qPrintable(message));
        QVERIFY2(message.contains("SHA-256"), qPrintable(message));
    }

    void goodFileIsAcceptedAndStamped() {
        IDEU_REQUIRE_SHARED();
        QDir(cache_.path()).mkpath("ict-face-light");
        const QString target = cache_.filePath("ict-face-light/ict_face_light.json");
        QVERIFY(QFile::copy(test::sharedDir() + "/models/ict-face-light/ict_face_light.json", target));
        {
            ModelStore store(cache_.path().toStdString());
            QCOMPARE(QString::fromStdString(store.require("ict-face-light-header")), target);
        }
        QVERIFY(QFile::exists(cache_.filePath(".verified/ict-face-light-header.sha256")));
        // A later change of the file is caught although a stamp exists.
        QFile file(target);
        QVERIFY(file.open(QIODevice::Append));
        file.write(" ");
        file.close();
        ModelStore fresh(cache_.path().toStdString());
        QVERIFY(errorOf(fresh, "ict-face-light-header").contains("corrupt"));
    }
};

QTEST_GUILESS_MAIN(TestModelStore)
#include "test_model_store.moc"
