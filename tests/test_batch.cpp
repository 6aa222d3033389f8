// Folder runs of `ideudemon-cli anonymize` as a user meets them: same-name inputs, loops,
// outputs inside the input folder, leftovers of a killed run, SIGINT, resuming, early usage
// errors, faces that can only be blurred, and memory that does not grow with the faces.
#include "evaluation/detection_recall.h"
#include "io/image_io.h"
#include "pipeline/deid_pipeline.h"
#include "test_support.h"

#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <csignal>
#include <fcntl.h>
#include <map>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ideu;
using ideu::test::cliPath;
using ideu::test::runProcess;

namespace {

// Peak resident memory (MB) of one CLI run, read with getrusage from the finished child.
double peakRssMb(const QStringList& args, const QString& stdoutFile, int* exitCode) {
    std::vector<std::string> storage = {cliPath().toStdString()};
    for (const QString& a : args) storage.push_back(a.toStdString());
    std::vector<char*> argv;
    for (std::string& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int log = ::open(stdoutFile.toLocal8Bit().constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int devNull = ::open("/dev/null", O_WRONLY);
        dup2(log, 1);
        dup2(devNull, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    *exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return usage.ru_maxrss / 1024.0;
}

void writePng(const QString& path, const cv::Mat& image) {
    std::vector<std::uint8_t> bytes;
    cv::imencode(".png", image, bytes);
    test::writeBytes(path, bytes);
}

}  // namespace

class TestBatch : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString amy_, raj_;

    QString path(const QString& relative) const { return dir_.filePath(relative); }

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        amy_ = test::facePhoto("bbt_amy/amy1.png");
        raj_ = test::facePhoto("bbt_raj/raj2.png");
    }

    void sameNameInputsGiveTwoOutputs() {
        QDir().mkpath(path("same/a"));
        QDir().mkpath(path("same/b"));
        QVERIFY(QFile::copy(amy_, path("same/a/x.png")));
        QVERIFY(QFile::copy(raj_, path("same/b/x.png")));
        // x.tif and x.png both export as x.png: the second gets a suffix.
        cv::imwrite(path("same/a/x.tif").toStdString(), cv::imread(amy_.toStdString()));
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("same/a/x.png"), path("same/b/x.png"), path("same/a/x.tif"), "-o",
                                        path("same_out"), "--seed", "1"}, &out, &err), 0);
        QVERIFY(out.contains("mirrored"));  // the policy is stated
        QVERIFY(QFile::exists(path("same_out/a/x.png")));
        QVERIFY(QFile::exists(path("same_out/b/x.png")));
        QVERIFY2(QFile::exists(path("same_out/a/x-2.png")), out.constData());
        QVERIFY(test::fileSha256(path("same_out/a/x.png")) != test::fileSha256(path("same_out/b/x.png")));
        QVERIFY(out.contains("anonymized 3 of 3"));
        // Two folders of the same name.
        QDir().mkpath(path("twins/one/pics"));
        QDir().mkpath(path("twins/two/pics"));
        QVERIFY(QFile::copy(amy_, path("twins/one/pics/p.png")));
        QVERIFY(QFile::copy(raj_, path("twins/two/pics/p.png")));
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("twins/one/pics"), path("twins/two/pics"), "-o", path("twins_out"),
                                        "--seed", "1", "--jobs", "2"}, &out, &err), 0);
        QVERIFY(QFile::exists(path("twins_out/one/pics/p.png")));
        QVERIFY(QFile::exists(path("twins_out/two/pics/p.png")));
    }

    void loopsAreReportedAndTheRestProcessed() {
        QDir().mkpath(path("loop/sub"));
        QVERIFY(QFile::copy(amy_, path("loop/sub/p.png")));
        QVERIFY(QFile::link(".", path("loop/self")));
        QVERIFY(QFile::link(path("loop"), path("loop/sub/up")));
        QVERIFY(QFile::link(path("nowhere"), path("loop/broken")));
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("loop"), "-o", path("loop_out"), "--seed", "1"}, &out, &err), 0);
        QVERIFY2(err.contains("loop/self") && err.contains("already searched"), err.constData());
        QVERIFY(err.contains("loop/sub/up"));
        QVERIFY(QFile::exists(path("loop_out/loop/sub/p.png")));
        QVERIFY(out.contains("anonymized 1 of 1"));
    }

    void outputInsideTheInputIsNotReadBack() {
        QDir().mkpath(path("album"));
        QVERIFY(QFile::copy(amy_, path("album/p.png")));
        QByteArray out, err;
        for (int run = 0; run < 2; ++run) {
            QCOMPARE(runProcess(cliPath(), {"anonymize", path("album"), "-o", path("album/out"), "--seed", "1"}, &out, &err), 0);
            QVERIFY2(out.contains("anonymized 1 of 1"), out.constData());
        }
        QVERIFY(!QDir(path("album/out/album/out")).exists());
    }

    void leftoversAreCleanedAndRunsResume() {
        QDir().mkpath(path("resume"));
        QVERIFY(QFile::copy(amy_, path("resume/a.png")));
        QVERIFY(QFile::copy(raj_, path("resume/b.png")));
        QDir().mkpath(path("resume_out/resume"));
        test::writeBytes(path("resume_out/resume/.a.png.tmp-Ab12Cd"), {1, 2, 3});
        test::writeBytes(path("resume_out/resume/keep.tmp-notours"), {1});
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("resume"), "-o", path("resume_out"), "--seed", "1", "--faces", "0"}, &out, &err), 0);
        QVERIFY(!QFile::exists(path("resume_out/resume/.a.png.tmp-Ab12Cd")));
        QVERIFY(QFile::exists(path("resume_out/resume/keep.tmp-notours")));  // not a name the writer uses
        QVERIFY(err.contains("removed 1 temporary file(s)"));
        // --skip-existing leaves what is there and does the rest.
        QVERIFY(QFile::remove(path("resume_out/resume/b.png")));
        const std::string a = test::fileSha256(path("resume_out/resume/a.png"));
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("resume"), "-o", path("resume_out"), "--seed", "2", "--skip-existing"}, &out, &err), 0);
        QCOMPARE(test::fileSha256(path("resume_out/resume/a.png")), a);
        QVERIFY(QFile::exists(path("resume_out/resume/b.png")));
        QVERIFY(out.contains("skipped 1"));
    }

    void sigintFinishesThePhotoAndPrintsTheSummary() {
        QDir().mkpath(path("many"));
        for (int i = 0; i < 8; ++i) QVERIFY(QFile::copy(amy_, path("many/p%1.png").arg(i)));
        QProcess process;
        process.start(cliPath(), {"anonymize", path("many"), "-o", path("many_out"), "--seed", "1"});
        QVERIFY(process.waitForStarted());
        QByteArray out;
        while (!out.contains(" -> ") && process.state() == QProcess::Running) {
            process.waitForReadyRead(1000);
            out += process.readAllStandardOutput();
        }
        ::kill(pid_t(process.processId()), SIGINT);
        QVERIFY(process.waitForFinished(120000));
        out += process.readAllStandardOutput();
        QCOMPARE(process.exitCode(), 130);
        QVERIFY2(out.contains("interrupted by SIGINT"), out.constData());
        QVERIFY(out.contains("anonymized "));
        QVERIFY(out.contains("not started"));
        // Every photo reported as written exists, complete; no temporary file is left.
        int written = 0;
        for (const QByteArray& line : out.split('\n'))
            if (line.contains(" -> ")) {
                const QString target = QString::fromUtf8(line.mid(line.indexOf(" -> ") + 4)).section(" (", 0, 0);
                QVERIFY2(!loadImage(target.toStdString()).bgr.empty(), qPrintable(target));
                ++written;
            }
        QVERIFY(written >= 1 && written < 8);
        QCOMPARE(QDir(path("many_out/many")).entryList(QDir::Hidden | QDir::Files).filter(".tmp-").size(), 0);
    }

    void usageErrorsComeFirst() {
        QByteArray out, err;
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.gif")}, &out, &err), 2);
        QVERIFY(err.contains("x.gif") && err.contains("unknown output format"));
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.png"), "--scale", "0.9"}, &out, &err), 2);
        QVERIFY(err.contains("--scale"));
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.png"), "--min-face", "5"}, &out, &err), 2);
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.png"), "--faces", "-1"}, &out, &err), 2);
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.png"), "--quality", "0"}, &out, &err), 2);
        QVERIFY(!QFile::exists(path("x.png")));
        QCOMPARE(runProcess(cliPath(), {"anonymize", "--help"}, &out, &err), 0);
        QVERIFY(out.contains(QString("0-%1").arg(kMaxScale).toUtf8()));
        // A face number the photo does not have names the photo.
        QCOMPARE(runProcess(cliPath(), {"anonymize", amy_, "-o", path("x.png"), "--faces", "3"}, &out, &err), 1);
        QVERIFY2(err.contains(amy_.toUtf8()) && err.contains("face 3"), err.constData());
    }

    void corruptAndMultiPageFilesNameTheFile() {
        // A JPEG whose header claims 9000 x 9000 over the stream of a small image.
        cv::Mat small = cv::imread(amy_.toStdString());
        std::vector<std::uint8_t> jpeg;
        cv::imencode(".jpg", small, jpeg);
        for (std::size_t i = 2; i + 8 < jpeg.size(); ++i)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
                jpeg[i + 5] = 0x23, jpeg[i + 6] = 0x28;  // height 9000
                jpeg[i + 7] = 0x23, jpeg[i + 8] = 0x28;  // width 9000
                break;
            }
        test::writeBytes(path("claims9000.jpg"), jpeg);
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("claims9000.jpg"), "-o", path("c.png")}, &out, &err), 1);
        QVERIFY2(err.contains("claims9000.jpg") && err.contains("corrupt JPEG"), err.constData());
        QVERIFY(!err.contains("\nPremature"));  // no bare libjpeg warning
        // Two pages: the first is processed, and the run says so.
        cv::imwritemulti(path("pages.tif").toStdString(), std::vector<cv::Mat>{small, small});
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("pages.tif"), "-o", path("pages.png"), "--seed", "1"}, &out, &err), 0);
        QVERIFY2(err.contains("pages.tif") && err.contains("2 pages") && err.contains("only the first page"), err.constData());
    }

    void turnedFacesAreBlurredAndReported() {
        QDir().mkpath(path("profile"));
        writePng(path("profile/turned.png"), test::renderedProfile(75).image);
        QByteArray out, err;
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("profile/turned.png"), "-o", path("turned_out.png"), "--seed", "1"}, &out, &err), 0);
        QVERIFY2(err.contains("turned.png: face 0 blurred, not anonymized: turned"), err.constData());
        QVERIFY(out.contains("1 blurred (not anonymized)"));
        // Strong blur: the face's fine detail is gone, the backdrop untouched.
        const cv::Mat before = cv::imread(path("profile/turned.png").toStdString()), after = cv::imread(path("turned_out.png").toStdString());
        const DetectionResult found = FaceDetector::shared()->detect(before);
        QCOMPARE(int(found.faces.size()), 1);
        const cv::Rect box = cv::Rect(found.faces[0].box) & cv::Rect(0, 0, before.cols, before.rows);
        auto detail = [&](const cv::Mat& image) {
            cv::Mat grey, lap;
            cv::cvtColor(image(box), grey, cv::COLOR_BGR2GRAY);
            cv::Laplacian(grey, lap, CV_32F);
            cv::Scalar mean, sd;
            cv::meanStdDev(lap, mean, sd);
            return sd[0];
        };
        qInfo("face detail (Laplacian sd) before %.2f, after %.2f", detail(before), detail(after));
        QVERIFY(detail(after) < 0.5 * detail(before));
        QCOMPARE(cv::norm(before(cv::Rect(0, 0, 20, 20)), after(cv::Rect(0, 0, 20, 20)), cv::NORM_INF), 0.0);
        // --strict makes it an error.
        QCOMPARE(runProcess(cliPath(), {"anonymize", path("profile/turned.png"), "-o", path("turned_strict.png"), "--strict"}, &out, &err), 1);
        QVERIFY(err.contains("--strict"));
    }

    void memoryDoesNotGrowWithFaces() {
        // 32 faces of the developer set in a 3200 x 1600 photo; the same canvas with 8 and 1.
        std::vector<std::string> photos = test::allFacePhotos();
        const std::vector<RecallSource> sources = recallSources(photos);
        QVERIFY(sources.size() >= 32);
        std::map<int, double> peak;
        for (int count : {1, 8, 32}) {
            cv::Mat canvas(1600, 3200, CV_8UC3, cv::Scalar(110, 120, 130));
            for (int i = 0; i < count; ++i) {
                const RecallSource& s = sources[std::size_t(i)];
                const double side = 2.0 * s.box.width;
                cv::Rect2d crop(s.box.x + s.box.width / 2 - side / 2, s.box.y + s.box.height / 2 - side / 2, side, side);
                crop &= cv::Rect2d(0, 0, s.bgr.cols, s.bgr.rows);
                cv::Mat tile;
                cv::resize(s.bgr(cv::Rect(crop)), tile, cv::Size(400, 400), 0, 0, cv::INTER_AREA);
                tile.copyTo(canvas(cv::Rect((i % 8) * 400, (i / 8) * 400, 400, 400)));
            }
            const QString in = path(QString("crowd%1.png").arg(count));
            writePng(in, canvas);
            int code = 0;
            const QString log = path(QString("crowd%1.log").arg(count));
            peak[count] = peakRssMb({"anonymize", in, "-o", path(QString("crowd%1_out.png").arg(count)), "--seed", "1"}, log, &code);
            QCOMPARE(code, 0);
            QFile logFile(log);
            QVERIFY(logFile.open(QIODevice::ReadOnly));
            const QByteArray printed = logFile.readAll();
            QVERIFY2(printed.contains(QString("(%1 face(s))").arg(count).toUtf8()), printed.constData());
        }
        cv::imwrite("/tmp/crowd32_out.jpg", cv::imread(path("crowd32_out.png").toStdString()));
        qInfo("peak RSS: 1 face %.0f MB, 8 faces %.0f MB, 32 faces %.0f MB", peak[1], peak[8], peak[32]);
        // The budget: what one face needs, plus 150 MB for the faces' small records and the
        // allocator's slack; the 32-face photo needed 5.2 GB before faces were streamed.
        QVERIFY(peak[32] < peak[1] + 150);
        QVERIFY(peak[32] < 1400);
    }
};

QTEST_GUILESS_MAIN(TestBatch)
#include "test_batch.moc"
