// Image loading and saving: every failure mode gives a clear error, orientation and odd pixel
// formats are handled, exports carry no metadata, writes are atomic and never hit an input.
#include "common/error.h"
#include "common/files.h"
#include "io/image_io.h"
#include "test_support.h"

#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

using namespace ideu;
using ideu::test::readBytes;
using ideu::test::writeBytes;

namespace {

std::vector<std::uint8_t> encode(const cv::Mat& image, const std::string& ext, std::vector<int> params = {}) {
    std::vector<std::uint8_t> bytes;
    cv::imencode(ext, image, bytes, params);
    return bytes;
}

// An APP1 EXIF block with an orientation tag and a GPS IFD pointer (as phones write).
std::vector<std::uint8_t> exifSegment(int orientation) {
    std::vector<std::uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0,  // header, IFD0 at 8
                                      2, 0,                         // two entries
                                      0x12, 0x01, 3, 0, 1, 0, 0, 0, std::uint8_t(orientation), 0, 0, 0,
                                      0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0,  // GPS IFD at 38
                                      0, 0, 0, 0,                                  // no next IFD
                                      1, 0,                                        // GPS IFD: one entry
                                      0x01, 0x00, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0,  // GPSLatitudeRef "N"
                                      0, 0, 0, 0};
    std::vector<std::uint8_t> segment = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
    segment.insert(segment.end(), tiff.begin(), tiff.end());
    const std::size_t length = segment.size() - 2;
    segment[2] = std::uint8_t(length >> 8);
    segment[3] = std::uint8_t(length & 0xFF);
    return segment;
}

std::vector<std::uint8_t> jpegWithExif(const cv::Mat& stored, int orientation) {
    std::vector<std::uint8_t> jpeg = encode(stored, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
    const auto segment = exifSegment(orientation);
    jpeg.insert(jpeg.begin() + 2, segment.begin(), segment.end());
    // An XMP block and a comment too, to check that exports drop them.
    const std::string xmp = std::string("http://ns.adobe.com/xap/1.0/") + '\0' + "<x:xmpmeta>secret</x:xmpmeta>";
    std::vector<std::uint8_t> app1 = {0xFF, 0xE1, std::uint8_t((xmp.size() + 2) >> 8), std::uint8_t((xmp.size() + 2) & 0xFF)};
    app1.insert(app1.end(), xmp.begin(), xmp.end());
    jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
    const std::string comment = "camera owner: Jane Doe";
    std::vector<std::uint8_t> com = {0xFF, 0xFE, std::uint8_t(0), std::uint8_t(comment.size() + 2)};
    com.insert(com.end(), comment.begin(), comment.end());
    jpeg.insert(jpeg.begin() + 2, com.begin(), com.end());
    return jpeg;
}

bool containsText(const std::vector<std::uint8_t>& bytes, const std::string& text) {
    return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

// A PNG whose header claims a size, with a tiny (invalid) IDAT: the limit must trip first.
std::vector<std::uint8_t> pngClaiming(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    auto chunk = [&](const char* type, std::vector<std::uint8_t> data) {
        const std::uint32_t n = std::uint32_t(data.size());
        png.insert(png.end(), {std::uint8_t(n >> 24), std::uint8_t(n >> 16), std::uint8_t(n >> 8), std::uint8_t(n)});
        png.insert(png.end(), type, type + 4);
        png.insert(png.end(), data.begin(), data.end());
        png.insert(png.end(), {0, 0, 0, 0});  // CRC (not checked by the probe)
    };
    chunk("IHDR", {std::uint8_t(width >> 24), std::uint8_t(width >> 16), std::uint8_t(width >> 8), std::uint8_t(width),
                   std::uint8_t(height >> 24), std::uint8_t(height >> 16), std::uint8_t(height >> 8), std::uint8_t(height),
                   8, 2, 0, 0, 0});
    chunk("IDAT", {0x78, 0x9C, 0x03, 0x00});
    chunk("IEND", {});
    return png;
}

}  // namespace

class TestImageIo : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    cv::Mat picture_;
    cv::Mat smooth_;

    QString path(const QString& name) const { return dir_.filePath(name); }
    void expectLoadError(const QString& file, const QString& reasonPart) {
        try {
            loadImage(file.toStdString());
            QFAIL(qPrintable("no error for " + file));
        } catch (const ImageError& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(file), qPrintable(message));
            QVERIFY2(message.contains(reasonPart, Qt::CaseInsensitive), qPrintable(message));
            QVERIFY2(!message.contains('\n'), "one line");
        }
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        picture_ = test::syntheticPicture(160, 120);
        // JPEG's chroma subsampling blurs sharp colour edges; its tests use a smooth picture.
        cv::GaussianBlur(picture_, smooth_, cv::Size(0, 0), 2.0);
    }
    void cleanup() { InputRegistry::clear(); }

    void missingFile() { expectLoadError(path("does-not-exist.png"), "No such file"); }
    void folderInsteadOfFile() { expectLoadError(dir_.path(), "folder"); }

    void emptyFile() {
        writeBytes(path("empty.jpg"), {});
        expectLoadError(path("empty.jpg"), "empty");
    }

    void notAnImage() {
        const std::string text = "hello, this is not a picture\n";
        writeBytes(path("text.png"), {text.begin(), text.end()});
        expectLoadError(path("text.png"), "not an image");
    }

    void truncatedFiles_data() {
        QTest::addColumn<QString>("ext");
        QTest::addColumn<double>("keep");
        for (const char* ext : {".jpg", ".png", ".webp", ".bmp", ".tiff"}) {
            QTest::newRow((std::string(ext) + " half").c_str()) << QString(ext) << 0.5;
            QTest::newRow((std::string(ext) + " all but 1 byte").c_str()) << QString(ext) << -1.0;
            QTest::newRow((std::string(ext) + " header only").c_str()) << QString(ext) << 0.05;
        }
    }
    void truncatedFiles() {
        QFETCH(QString, ext);
        QFETCH(double, keep);
        auto bytes = encode(picture_, ext.toStdString());
        QVERIFY(bytes.size() > 100);
        const std::size_t n = keep < 0 ? bytes.size() - 1 : std::size_t(bytes.size() * keep);
        bytes.resize(n);
        const QString file = path("cut" + ext);
        writeBytes(file, bytes);
        try {
            loadImage(file.toStdString());
            QFAIL("truncated file loaded");
        } catch (const ImageError& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.startsWith(file + ":"), qPrintable(message));
            QVERIFY2(message.contains("truncated") || message.contains("corrupt"), qPrintable(message));
        }
    }

    void corruptPixelData() {
        auto bytes = encode(picture_, ".png");
        // Damage the compressed stream inside IDAT (libpng detects it by CRC/zlib checks).
        for (std::size_t i = 60; i < 90 && i < bytes.size() - 20; ++i) bytes[i] ^= 0x5A;
        writeBytes(path("damaged.png"), bytes);
        expectLoadError(path("damaged.png"), "corrupt");
    }

    void corruptJpegMarker() {
        auto bytes = encode(picture_, ".jpg");
        bytes[2] = 0x00;  // first marker destroyed
        writeBytes(path("badmarker.jpg"), bytes);
        expectLoadError(path("badmarker.jpg"), "corrupt JPEG");
    }

    void jpegStreamThatContradictsItsHeader() {
        // The header claims 4000 x 4000 over the stream of a 160 x 120 image: libjpeg would
        // decode grey with a warning; the loader refuses the file by name.
        auto bytes = encode(smooth_, ".jpg");
        for (std::size_t i = 2; i + 8 < bytes.size(); ++i)
            if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
                bytes[i + 5] = 0x0F, bytes[i + 6] = 0xA0, bytes[i + 7] = 0x0F, bytes[i + 8] = 0xA0;
                break;
            }
        writeBytes(path("claims4000.jpg"), bytes);
        expectLoadError(path("claims4000.jpg"), "does not match its 4000x4000 header");
        // A stream cut short (the end-of-image marker kept, so the container looks whole).
        auto cut = encode(smooth_, ".jpg");
        cut.erase(cut.begin() + long(cut.size() / 2), cut.end() - 2);
        writeBytes(path("cut.jpg"), cut);
        expectLoadError(path("cut.jpg"), "corrupt JPEG");
        // A sound JPEG has no stream problem.
        const auto sound = encode(smooth_, ".jpg");
        QCOMPARE(jpegStreamProblem(sound.data(), sound.size()), std::string());
    }

    void multiPageTiffCountsItsPages() {
        QVERIFY(cv::imwritemulti(path("pages.tif").toStdString(), std::vector<cv::Mat>{picture_, picture_, picture_}));
        const auto bytes = test::readBytes(path("pages.tif"));
        QCOMPARE(probeImage(bytes.data(), bytes.size(), "pages.tif").pages, 3);
        const auto one = encode(picture_, ".tiff");
        QCOMPARE(probeImage(one.data(), one.size(), "one.tif").pages, 1);
    }

    void hugeImageRefusedBeforeDecoding() {
        writeBytes(path("huge.png"), pngClaiming(20000, 20000));
        expectLoadError(path("huge.png"), "above the limit of 100 MP");
    }

    void pixelLimitIsConfigurable() {
        writeBytes(path("small.png"), encode(picture_, ".png"));
        ImageLoadOptions options;
        options.maxPixels = 5000;
        QVERIFY_THROWS_EXCEPTION(ImageError, loadImage(path("small.png").toStdString(), options));
        options.maxPixels = 160 * 120;
        QCOMPARE(loadImage(path("small.png").toStdString(), options).bgr.cols, 160);
    }

    void everyFormatLoads_data() {
        QTest::addColumn<QString>("ext");
        for (const char* ext : {".jpg", ".png", ".webp", ".bmp", ".tiff"}) QTest::newRow(ext) << QString(ext);
    }
    void everyFormatLoads() {
        QFETCH(QString, ext);
        const QString file = path("ok" + ext);
        std::vector<int> params;
        if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};
        writeBytes(file, encode(picture_, ext.toStdString(), params));
        const Image image = loadImage(file.toStdString());
        QCOMPARE(image.bgr.type(), CV_8UC3);
        QCOMPARE(image.bgr.size(), picture_.size());
        QVERIFY(!image.hasAlpha());
        QVERIFY2(test::maxAbsDiff(image.bgr, picture_) == 0 || ext == ".jpg", qPrintable(ext));
        cv::Mat diff;
        cv::absdiff(image.bgr, picture_, diff);
        QVERIFY(cv::mean(diff)[0] < 8);
    }

    void grayBecomesBgr() {
        cv::Mat gray;
        cv::cvtColor(picture_, gray, cv::COLOR_BGR2GRAY);
        writeBytes(path("gray.png"), encode(gray, ".png"));
        const Image image = loadImage(path("gray.png").toStdString());
        QCOMPARE(image.bgr.type(), CV_8UC3);
        QCOMPARE(image.sourceChannels, 1);
        std::vector<cv::Mat> planes;
        cv::split(image.bgr, planes);
        QCOMPARE(test::maxAbsDiff(planes[0], gray), 0.0);
        QCOMPARE(test::maxAbsDiff(planes[2], gray), 0.0);
    }

    void sixteenBitBecomesEightBit() {
        cv::Mat wide;
        picture_.convertTo(wide, CV_16UC3, 257.0);
        for (const char* ext : {".png", ".tiff"}) {
            const QString file = path(QString("wide") + ext);
            writeBytes(file, encode(wide, ext));
            const Image image = loadImage(file.toStdString());
            QCOMPARE(image.sourceBitDepth, 16);
            QCOMPARE(image.bgr.type(), CV_8UC3);
            QCOMPARE(test::maxAbsDiff(image.bgr, picture_), 0.0);
        }
    }

    void alphaIsKeptForPngAndFlattenedForJpeg() {
        cv::Mat alpha(picture_.size(), CV_8UC1, cv::Scalar(255));
        alpha(cv::Rect(0, 0, 40, 40)).setTo(0);
        cv::Mat bgra;
        cv::merge(std::vector<cv::Mat>{picture_, alpha}, bgra);
        writeBytes(path("alpha.png"), encode(bgra, ".png"));
        const Image image = loadImage(path("alpha.png").toStdString());
        QVERIFY(image.hasAlpha());
        QCOMPARE(test::maxAbsDiff(image.alpha, alpha), 0.0);
        QCOMPARE(test::maxAbsDiff(image.bgr, picture_), 0.0);

        saveImage(path("alpha-out.png").toStdString(), image.bgr, image.alpha);
        const Image again = loadImage(path("alpha-out.png").toStdString());
        QVERIFY(again.hasAlpha());
        QCOMPARE(test::maxAbsDiff(again.alpha, alpha), 0.0);

        saveImage(path("alpha-out.jpg").toStdString(), image.bgr, image.alpha);
        const Image flat = loadImage(path("alpha-out.jpg").toStdString());
        QVERIFY(!flat.hasAlpha());
        const cv::Scalar corner = cv::mean(flat.bgr(cv::Rect(5, 5, 30, 30)));
        QVERIFY2(corner[0] > 245 && corner[1] > 245 && corner[2] > 245, "transparent area becomes white");
    }

    void opaqueAlphaIsDropped() {
        cv::Mat bgra;
        cv::cvtColor(picture_, bgra, cv::COLOR_BGR2BGRA);
        writeBytes(path("opaque.png"), encode(bgra, ".png"));
        QVERIFY(!loadImage(path("opaque.png").toStdString()).hasAlpha());
    }

    void exifOrientationIsApplied_data() {
        QTest::addColumn<int>("orientation");
        for (int o = 1; o <= 8; ++o) QTest::newRow(qPrintable(QString::number(o))) << o;
    }
    void exifOrientationIsApplied() {
        QFETCH(int, orientation);
        // What a camera stores for an upright scene, per orientation value.
        cv::Mat stored;
        const cv::Mat& upright = smooth_;
        switch (orientation) {
            case 1: stored = upright.clone(); break;
            case 2: cv::flip(upright, stored, 1); break;
            case 3: cv::rotate(upright, stored, cv::ROTATE_180); break;
            case 4: cv::flip(upright, stored, 0); break;
            case 5: cv::transpose(upright, stored); break;
            case 6: cv::rotate(upright, stored, cv::ROTATE_90_COUNTERCLOCKWISE); break;
            case 7: cv::rotate(upright, stored, cv::ROTATE_180); cv::transpose(stored, stored); break;
            case 8: cv::rotate(upright, stored, cv::ROTATE_90_CLOCKWISE); break;
        }
        const QString file = path(QString("exif%1.jpg").arg(orientation));
        writeBytes(file, jpegWithExif(stored, orientation));
        const Image image = loadImage(file.toStdString());
        QCOMPARE(image.header.orientation, orientation);
        QCOMPARE(image.bgr.size(), upright.size());
        cv::Mat diff, flipped;
        cv::absdiff(image.bgr, upright, diff);
        const double error = cv::mean(diff)[0];
        QVERIFY2(error < 2, qPrintable(QString("upright after orientation, mean error %1").arg(error)));
        cv::flip(upright, flipped, 1);
        cv::absdiff(image.bgr, flipped, diff);
        QVERIFY(cv::mean(diff)[0] > 5 * error);
    }

    void exportsCarryNoMetadata_data() {
        QTest::addColumn<QString>("ext");
        for (const char* ext : {".jpg", ".png", ".webp"}) QTest::newRow(ext) << QString(ext);
    }
    void exportsCarryNoMetadata() {
        QFETCH(QString, ext);
        const QString source = path("with-exif.jpg");
        writeBytes(source, jpegWithExif(picture_, 1));
        const Image image = loadImage(source.toStdString());
        QCOMPARE(image.header.metadata.size(), std::size_t(3));  // EXIF, XMP, comment found in the source

        const QString out = path("export" + ext);
        saveImage(out.toStdString(), image.bgr, image.alpha);
        const auto bytes = readBytes(out);
        const ImageHeader header = probeImage(bytes.data(), bytes.size(), "export");
        QVERIFY(header.metadata.empty());
        for (const char* needle : {"Exif", "GPS", "xmpmeta", "ns.adobe.com", "Jane Doe", "ICC_PROFILE", "tEXt", "iTXt"})
            QVERIFY2(!containsText(bytes, needle), needle);
    }

    void saveCreatesFoldersAndReplacesAtomically() {
        const QString out = path("deep/er/folder/out.png");
        saveImage(out.toStdString(), picture_);
        QVERIFY(QFile::exists(out));
        cv::Mat other = picture_.clone();
        other.setTo(cv::Scalar(10, 20, 30));
        saveImage(out.toStdString(), other);
        QCOMPARE(test::maxAbsDiff(loadImage(out.toStdString()).bgr, other), 0.0);
        const QStringList leftovers = QDir(path("deep/er/folder")).entryList(QDir::Files | QDir::Hidden);
        QCOMPARE(leftovers, QStringList{"out.png"});
    }

    void failedWriteLeavesTargetAlone() {
        // A parent that is a file cannot hold the output: clear error, nothing written.
        writeBytes(path("plainfile"), {1, 2, 3});
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(path("plainfile/out.png").toStdString(), picture_));
        QCOMPARE(readBytes(path("plainfile")), (std::vector<std::uint8_t>{1, 2, 3}));
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(path("out.gif").toStdString(), picture_));
    }

    void neverOverwritesAnInput() {
        const QString input = path("input.png");
        writeBytes(input, encode(picture_, ".png"));
        const std::string before = test::fileSha256(input);
        loadImage(input.toStdString());
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(input.toStdString(), picture_ * 0.5));
        // Other spellings of the same file: relative-ish path, symlink, hard link.
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage((dir_.path() + "/./input.png").toStdString(), picture_));
        QVERIFY(QFile::link(input, path("link.png")));
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(path("link.png").toStdString(), picture_));
        std::filesystem::create_hard_link(input.toStdString(), path("hard.png").toStdString());
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(path("hard.png").toStdString(), picture_));
        QCOMPARE(test::fileSha256(input), before);
    }

    void protectedPathsAreRespected() {
        const QString other = path("protected.png");
        writeBytes(other, encode(picture_, ".png"));
        ImageSaveOptions options;
        options.protectedPaths = {other.toStdString()};
        QVERIFY_THROWS_EXCEPTION(WriteError, saveImage(other.toStdString(), picture_, cv::Mat(), options));
    }

    void findsPhotosByExtensionRecursivelyInPathOrder() {
        namespace fs = std::filesystem;
        const fs::path root = fs::path(dir_.filePath("find").toStdString());
        fs::create_directories(root / "a");
        fs::create_directories(root / "a-b");
        for (const fs::path& f : {root / "a" / "x.JPG", root / "a-b" / "y.webp", root / "z.tiff", root / "notes.txt",
                                  root / "a" / "noext"})
            test::writeBytes(QString::fromStdString(f.string()), {1});
        const std::vector<std::string> expected = {(root / "a" / "x.JPG").string(), (root / "a-b" / "y.webp").string(),
                                                   (root / "z.tiff").string()};
        QVERIFY(findImages(root.string()) == expected);
        QVERIFY_THROWS_EXCEPTION(ideu::Error, findImages((root / "missing").string()));
        // A loop and a broken link are reported and skipped; the excluded folder is not searched.
        fs::create_symlink(".", root / "a" / "self");
        fs::create_symlink(root / "nowhere", root / "broken");
        fs::create_directories(root / "out");
        test::writeBytes(QString::fromStdString((root / "out" / "w.png").string()), {1});
        std::vector<std::string> problems;
        QVERIFY(findImages(root.string(), &problems, (root / "out").string()) == expected);
        QCOMPARE(int(problems.size()), 2);
        QVERIFY(QString::fromStdString(problems[0] + problems[1]).contains("already searched"));
        QVERIFY(QString::fromStdString(problems[0] + problems[1]).contains("broken"));
        QVERIFY(hasImageExtension("photo.Bmp") && !hasImageExtension("photo.gif") && !hasImageExtension("jpg"));
        QCOMPARE(exportName("d/p.TIF"), std::string("d/p.png"));
        QCOMPARE(exportName("d/p.jpeg"), std::string("d/p.jpeg"));
    }
};

QTEST_GUILESS_MAIN(TestImageIo)
#include "test_image_io.moc"
