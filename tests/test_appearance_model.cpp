// The learned appearance model: the builder (determinism, screening reasons, a validating
// reader), the albedo code (projection, scale 0), and what it means for the output: nothing
// of the photo's own skin marks on the face reaches X' (above the face model, on the upper
// forehead, they still do: an expected failure, a known defect), occluders such as glasses
// frames stay.
#include "align/face_align.h"
#include "appearance/appearance_builder.h"
#include "appearance/model_albedo.h"
#include "common/error.h"
#include "deid/perturbed_face.h"
#include "io/image_io.h"
#include "pipeline/deid_pipeline.h"
#include "test_support.h"

#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <tuple>

using namespace ideu;
namespace fs = std::filesystem;

namespace {

QString gallery() { return test::sharedDir() + "/models/synthetic-faces/tpdne"; }

// Weighted RMS difference of two model-grid images where `weight` >= 0.5.
double rms(const cv::Mat& a, const cv::Mat& b, const cv::Mat& weight) {
    cv::Mat d = a - b;
    d = d.mul(d);
    std::vector<cv::Mat> c;
    cv::split(d, c);
    const cv::Mat sum = c[0] + c[1] + c[2];
    return std::sqrt(cv::mean(sum, weight >= 0.5f)[0] / 3);
}

// A point on the subject's cheek (photo coordinates): between the jaw point `jaw` and the
// nostril `nostril` (13/35 the left cheek, 3/31 the right), raised towards the eyes.
cv::Point2d cheekPoint(const DetectedFace& face, int jaw, int nostril) {
    return (face.landmarks[std::size_t(jaw)] * 0.55 + face.landmarks[std::size_t(nostril)] * 0.45) +
           (face.landmarks[29] - face.landmarks[30]) * 0.3;
}

// A dark disc painted at `at` (the subject's left cheek, its upper forehead), 12 px across in
// the aligned crop.
void paintMark(cv::Mat& bgr, const cv::Point2d& at, const FaceAlignment& alignment) {
    const double radius = 6.0 / alignment.scale();
    cv::circle(bgr, at, int(std::lround(radius)), cv::Scalar(40, 45, 60), cv::FILLED, cv::LINE_AA);
}

// A broad, soft darkening there instead (a birthmark or a stain; a Gaussian of 20 px in the
// aligned crop, 35 % darker at its centre): too smooth for the albedo code's outliers, it is
// what the photo's broad field would carry.
void paintCheekStain(cv::Mat& bgr, const cv::Point2d& cheek, const FaceAlignment& alignment) {
    const double sigma = 20.0 / alignment.scale();
    for (int y = 0; y < bgr.rows; ++y)
        for (int x = 0; x < bgr.cols; ++x) {
            const double r2 = (x - cheek.x) * (x - cheek.x) + (y - cheek.y) * (y - cheek.y);
            if (r2 > 16 * sigma * sigma) continue;
            const double keep = 1.0 - 0.35 * std::exp(-0.5 * r2 / (sigma * sigma));
            cv::Vec3b& p = bgr.at<cv::Vec3b>(y, x);
            for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<std::uint8_t>(p[c] * keep);
        }
}

// obama.jpg anonymized at the default, with seeds 1-6 (a single seed can hide or fake a leak:
// each draws another face), as it is and with something painted on its left cheek; `at` and
// `other` are the left and right cheek points in the crop.
struct PaintedRun {
    std::vector<FaceResult> clean, painted;  // per seed
    cv::Point2d at, other;
    Image cleanPhoto, paintedPhoto;
    DetectedFace face;  // in the clean photo
};
PaintedRun anonymizeWithPaint(void (*paint)(cv::Mat&, const cv::Point2d&, const FaceAlignment&)) {
    const Image clean = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
    DeidPipeline reference(clean);
    const DetectedFace face = reference.faces().at(0);
    const FaceAlignment alignment = reference.fitted(0)->crop.alignment;
    Image painted = clean;
    painted.bgr = clean.bgr.clone();
    paint(painted.bgr, cheekPoint(face, 13, 35), alignment);
    DeidPipeline withPaint(painted);
    PaintedRun run;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        DeidSettings settings;
        settings.seed = seed;
        run.clean.push_back(reference.processFace(0, settings));
        run.painted.push_back(withPaint.processFace(0, settings));
    }
    run.cleanPhoto = clean;
    run.paintedPhoto = painted;
    run.face = face;
    run.at = toCrop(alignment, cheekPoint(face, 13, 35));
    run.other = toCrop(alignment, cheekPoint(face, 3, 31));
    return run;
}

// Where a mark painted at `at` is measured: 14 px round it.
cv::Rect markWindow(const cv::Point2d& at) { return {cvRound(at.x) - 14, cvRound(at.y) - 14, 29, 29}; }

// How much darker `with` is than `without` at most in markWindow(at) (grey levels, smoothed by
// a Gaussian of 2 px): a painted mark's contrast.
double darkestNear(const cv::Mat& with, const cv::Mat& without, const cv::Point2d& at) {
    const cv::Rect window = markWindow(at);
    cv::Mat d;
    cv::subtract(without(window), with(window), d, cv::noArray(), CV_32FC3);
    cv::cvtColor(d, d, cv::COLOR_BGR2GRAY);
    cv::GaussianBlur(d, d, cv::Size(0, 0), 2.0);
    double maxDark = 0;
    cv::minMaxLoc(d, nullptr, &maxDark);
    return maxDark;
}

// How much darker `with` is than `without` on average within `radius` of `at`.
double meanDarkening(const cv::Mat& with, const cv::Mat& without, const cv::Point2d& at, int radius) {
    cv::Mat d, grey;
    cv::subtract(without, with, d, cv::noArray(), CV_32FC3);
    cv::cvtColor(d, grey, cv::COLOR_BGR2GRAY);
    cv::Mat disc = cv::Mat::zeros(grey.size(), CV_8U);
    cv::circle(disc, cv::Point(cvRound(at.x), cvRound(at.y)), radius, cv::Scalar(255), cv::FILLED);
    return cv::mean(grey, disc)[0];
}

// obama.jpg fitted, and the three bank faces a seed picks for its detail.
struct SeedDetail {
    FittedFace face;
    DetailMix mix;
};
SeedDetail obamaAndSeedDetail(std::uint64_t seed) {
    const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
    SeedDetail out;
    out.face = fitFace(FaceModelContext::shared(), sharedAppearanceModel(), image.bgr,
                       FaceDetector::shared()->detect(image.bgr).faces.at(0));
    out.mix = chooseDetail(out.face.appearance, seed);
    return out;
}

// A landmark's position on the model's detail grid, relative to the detail roi.
cv::Point2f onDetailGrid(const FaceModelContext& context, const AppearanceModel& model, int landmark) {
    const int f = context.uvSize() / model.detailUvSize;
    return context.landmarkUv(landmark) / f - cv::Point2f(model.detailRoi.tl());
}

}  // namespace

class TestAppearanceModel : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() { IDEU_REQUIRE_SHARED(); }

    void builderIsDeterministicAndReportsWhatItSkips() {
        // Ten faces of the gallery (one with glasses, one with a fringe over the brows, one
        // laughing with the mouth open) and a picture without a face.
        const QString fixture = dir_.filePath("gallery");
        QDir().mkpath(fixture);
        for (const char* f : {"tpdne_000_0002", "tpdne_000_0003", "tpdne_000_0010", "tpdne_000_0013", "tpdne_000_0016",
                              "tpdne_000_0026", "tpdne_000_0030", "tpdne_000_0036", "tpdne_000_0041", "tpdne_000_0054",
                              "tpdne_000_0066", "tpdne_000_0067", "tpdne_000_0033", "tpdne_000_0021", "tpdne_000_0065"})
            QVERIFY(QFile::copy(gallery() + "/" + f + ".jpg", fixture + "/" + f + ".jpg"));
        std::vector<std::uint8_t> png;
        cv::imencode(".png", test::syntheticPicture(320, 240), png);
        test::writeBytes(fixture + "/landscape.png", png);

        AppearanceBuildOptions options;
        options.jobs = 2;
        const AppearanceBuildResult a = buildAppearanceModel(fixture.toStdString(), options);
        std::map<std::string, std::string> reasons;
        for (const GalleryVerdict& v : a.verdicts) reasons[v.file] = v.reason;
        QCOMPARE(int(a.verdicts.size()), 16);
        QCOMPARE(reasons["tpdne_000_0033.jpg"], std::string("glasses"));
        QCOMPARE(reasons["tpdne_000_0021.jpg"], std::string("hair or a hat over the brows"));
        QCOMPARE(reasons["tpdne_000_0065.jpg"], std::string("mouth open"));
        QCOMPARE(reasons["landscape.png"], std::string("no face found"));
        QCOMPARE(int(a.model.bank.size()), 12);
        QVERIFY(a.model.varianceExplained > 0.9);
        // Built from the faces and their mirror images: every mode is mirror-symmetric or
        // antisymmetric.
        for (int k = 0; k < a.model.pca.components(); ++k) {
            const double share = a.model.pca.antisymmetricShare(a.model.pca.basis.col(k));
            QVERIFY2(share < 0.01 || share > 0.99, qPrintable(QString("mode %1: antisymmetric share %2").arg(k).arg(share)));
        }
        QVERIFY(!a.model.pca.antisymmetricModes.empty());
        const std::string pack1 = dir_.filePath("one/model.json").toStdString();
        const std::string pack2 = dir_.filePath("two/model.json").toStdString();
        writeAppearanceModel(a.model, pack1, a.info);
        options.jobs = 1;  // another thread count: the same bytes
        const AppearanceBuildResult b = buildAppearanceModel(fixture.toStdString(), options);
        writeAppearanceModel(b.model, pack2, b.info);
        QCOMPARE(test::fileSha256(QString::fromStdString(pack1)), test::fileSha256(QString::fromStdString(pack2)));
        const std::string bin1 = fs::path(pack1).replace_extension(".bin").string();
        QCOMPARE(test::fileSha256(QString::fromStdString(bin1)),
                 test::fileSha256(QString::fromStdString(fs::path(pack2).replace_extension(".bin").string())));

        // The reader validates: the pack loads back as written ...
        const AppearanceModel loaded = loadAppearanceModel(pack1);
        QCOMPARE(loaded.pca.components(), a.model.pca.components());
        QVERIFY((loaded.pca.basis - a.model.pca.basis).cwiseAbs().maxCoeff() == 0.f);
        QCOMPARE(loaded.bank[3].file, a.model.bank[3].file);
        // ... and a corrupt binary, a truncated one, another version or a missing file fail
        // with one line naming the file.
        auto refuses = [](const std::string& path, const char* what) {
            try {
                loadAppearanceModel(path);
            } catch (const ModelError& e) {
                const QString message = e.what();
                return message.contains(QString::fromStdString(fs::path(path).filename().replace_extension("").string())) &&
                       message.contains(what) && !message.contains('\n');
            }
            return false;
        };
        std::vector<std::uint8_t> bytes = test::readBytes(QString::fromStdString(bin1));
        bytes[bytes.size() / 2] ^= 0x10;
        test::writeBytes(QString::fromStdString(bin1), bytes);
        QVERIFY(refuses(pack1, "corrupt"));
        bytes.resize(bytes.size() / 3);
        test::writeBytes(QString::fromStdString(bin1), bytes);
        QVERIFY(refuses(pack1, "corrupt"));
        QFile header(QString::fromStdString(pack2));
        QVERIFY(header.open(QIODevice::ReadOnly));
        QByteArray text = header.readAll();
        header.close();
        text.replace("\"version\": 1", "\"version\": 7");
        test::writeBytes(QString::fromStdString(pack2), std::vector<std::uint8_t>(text.begin(), text.end()));
        QVERIFY(refuses(pack2, "version 7"));
        QVERIFY(refuses(dir_.filePath("nowhere/model.json").toStdString(), "cannot open"));
    }

    void projectionReconstructsAGalleryFaceBetterThanTheMean() {
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        QVERIFY(model.bank.size() >= 200);
        double ownSum = 0, meanSum = 0;
        for (int i : {0, 50, 100, 150}) {
            const Image image = loadImage((gallery() + "/" + QString::fromStdString(model.bank[std::size_t(i)].file)).toStdString());
            FittedFace face = fitFaceGeometry(context, image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
            face.appearance = fitAppearance(context, model, face.texture.albedo, face.texture.visibility, std::nullopt);
            // What the model learns of a face: its albedo over its tone and broad field.
            const cv::Vec3f tone = skinTone(context, face.texture.albedo, face.texture.visibility);
            const RelativeAlbedo own = relativeAlbedo(context, face.texture.albedo, face.texture.visibility, tone, false,
                                                      model.pca.uvSize, model.pca.roi);
            const double ownError = rms(own.structure, model.pca.toImage(model.pca.reconstruct(face.appearance.code)), own.weight);
            const double meanError = rms(own.structure, model.pca.toImage(model.pca.mean), own.weight);
            // The fitted code is near the one the builder stored for this face.
            const double codeDistance = (face.appearance.code - model.bank[std::size_t(i)].coefficients).norm() /
                                        model.bank[std::size_t(i)].coefficients.norm();
            qInfo("bank face %d: RMS relative albedo error %.4f (its projection) vs %.4f (the mean); code %.2f from the stored one",
                  i, ownError, meanError, codeDistance);
            QVERIFY(ownError < 0.7 * meanError);
            QVERIFY(codeDistance < 0.5);
            ownSum += ownError;
            meanSum += meanError;
        }
        QVERIFY(ownSum < 0.6 * meanSum);
    }

    // A black-and-white photo shows luminance only. Its code is fitted to the luminance the
    // model predicts, with the colour left to the prior: the colour face it reconstructs is
    // nearer the face's own than the one a fit asking every channel for the luminance gives
    // (that fit pales red lips and dark make-up), and it explains the luminance better.
    void aGreyPhotosCodeIsFittedToItsLuminance() {
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const AlbedoPca& pca = model.pca;
        auto luminanceOf = [](const cv::Mat& bgr) {
            std::vector<cv::Mat> c;
            cv::split(bgr, c);
            return cv::Mat(0.114f * c[0] + 0.587f * c[1] + 0.299f * c[2]);
        };
        for (int i : {0, 50, 100, 150}) {
            const Image image = loadImage((gallery() + "/" + QString::fromStdString(model.bank[std::size_t(i)].file)).toStdString());
            const FittedFace face = fitFaceGeometry(context, image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
            const cv::Mat& albedo = face.texture.albedo;
            const cv::Mat& visibility = face.texture.visibility;
            const cv::Vec3f tone = skinTone(context, albedo, visibility);
            const RelativeAlbedo colour = relativeAlbedo(context, albedo, visibility, tone, false, pca.uvSize, pca.roi);
            // The same face photographed in black and white: its luminance, and a grey tone.
            cv::Mat grey;
            cv::merge(std::vector<cv::Mat>(3, luminanceOf(albedo)), grey);
            const float level = 0.114f * tone[0] + 0.587f * tone[1] + 0.299f * tone[2];
            const RelativeAlbedo photo = relativeAlbedo(context, grey, visibility, cv::Vec3f(level, level, level), true,
                                                        pca.uvSize, pca.roi);
            const cv::Mat fitted = pca.toImage(pca.reconstruct(fitAlbedoCode(pca, photo.structure, photo.weight, true)));
            const cv::Mat allChannels = pca.toImage(pca.reconstruct(fitAlbedoCode(pca, photo.structure, photo.weight, false)));
            auto luminanceError = [&](const cv::Mat& reconstruction) {
                cv::Mat l;
                cv::merge(std::vector<cv::Mat>(3, luminanceOf(reconstruction)), l);
                return rms(photo.structure, l, photo.weight);
            };
            const double colourFitted = rms(colour.structure, fitted, colour.weight);
            const double colourAllChannels = rms(colour.structure, allChannels, colour.weight);
            qInfo("bank face %d in black and white: colour error %.4f (luminance fit) vs %.4f (every channel), "
                  "luminance error %.4f vs %.4f",
                  i, colourFitted, colourAllChannels, luminanceError(fitted), luminanceError(allChannels));
            QVERIFY(colourFitted < colourAllChannels);
            QVERIFY(luminanceError(fitted) < luminanceError(allChannels));
        }
    }

    // The slider path reuses the noise's product with the basis: its values are still the
    // model's reconstruction of z'_id, and a reused (or evicted and remade) product gives
    // the same bytes as a fresh one. z'_id keeps of the photo's β only its part along the age
    // and gender directions (fully from the detail's full scale on).
    void perturbedValuesAreTheReconstructionOfThePerturbedCode() {
        const AppearanceModel& model = sharedAppearanceModel();
        const AlbedoPca& pca = model.pca;
        const Eigen::MatrixXf& attributes = model.albedoKept;  // the age and gender directions, then the beard areas'
        QCOMPARE(attributes.cols(), Eigen::Index(2 + 4 * 3));
        FittedFace face;
        const Eigen::VectorXf code = model.bank.at(0).coefficients;  // a real face's code
        face.identity.shape = Eigen::VectorXf::Zero(4);
        face.identity.albedo = code;
        face.albedoValues = pca.reconstruct(code);
        face.keptValues = model.keptValues(code);
        const NoiseConstraints constraints{Eigen::MatrixXf(), attributes, model.albedoNoiseOff, Eigen::VectorXf()};
        for (const double scale : {0.05, 0.5}) {
            const IdentityCode perturbed = perturbIdentity(face.identity, scale, 11, {}, constraints);
            QCOMPARE(perturbed.albedoNoise.size(), Eigen::Index(pca.components()));
            const float keptOnly = float(std::min(1.0, scale / NoiseSettings().detailFullScale));
            QCOMPARE(perturbed.keptOnly, keptOnly);
            const Eigen::VectorXf kept = code + keptOnly * (attributes * (attributes.transpose() * code) - code);
            QVERIFY((perturbed.albedo - kept - float(scale) * perturbed.albedoNoise).cwiseAbs().maxCoeff() < 1e-5);
            // The noise is off the attribute directions: β' keeps the photo's β along them.
            QVERIFY((attributes.transpose() * (perturbed.albedo - code)).cwiseAbs().maxCoeff() < 1e-4);
            const Eigen::VectorXf values = perturbedAlbedoValues(model, face, perturbed);
            const double error = (values - pca.reconstruct(perturbed.albedo)).cwiseAbs().maxCoeff();
            qInfo("scale %.2f: perturbed values against the reconstruction of z'_id: max |difference| %.2g", scale, error);
            QVERIFY(error < 1e-4);
            QVERIFY((values - face.albedoValues).cwiseAbs().maxCoeff() > 0.05);
            // A face without the values made at fit time gets them from its code: the same.
            FittedFace bare = face;
            bare.albedoValues.resize(0);
            bare.keptValues.resize(0);
            QCOMPARE(perturbedAlbedoValues(model, bare, perturbed), values);
        }
        // The noise's product with the basis, kept and remade.
        const Eigen::VectorXf projection = face.albedoValues;
        const IdentityCode perturbed = perturbIdentity(face.identity, 0.5, 11);
        const Eigen::VectorXf values = pca.perturbedValues(projection, perturbed.albedoNoise, 0.5f);
        QVERIFY((values - pca.reconstruct(code + 0.5f * perturbed.albedoNoise)).cwiseAbs().maxCoeff() < 1e-4);
        QCOMPARE(pca.perturbedValues(projection, perturbed.albedoNoise, 0.5f), values);  // kept product
        for (std::uint64_t seed = 20; seed < 26; ++seed)  // more noises than are kept
            QVERIFY(pca.perturbedValues(projection, perturbIdentity(face.identity, 0.5, seed).albedoNoise, 0.5f) != values);
        QCOMPARE(pca.perturbedValues(projection, perturbed.albedoNoise, 0.5f), values);  // remade
        QCOMPARE(pca.perturbedValues(projection, perturbed.albedoNoise, 0.f), projection);
    }

    // z'_id's age and gender coordinates come from the photo's apparent age and gender, not
    // from its own code: two faces that differ only along the attribute directions and read
    // alike get the same β' and α'. After the shift the bank's regressions read the code as a
    // woman or a man of the bank's, confidently, and an older face as older.
    void theKeptAttributesComeFromTheApparentAttributes() {
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const NoiseConstraints constraints = identityNoiseConstraints(context, model);
        const AttributeRegression& albedo = model.albedoAttributes;
        const AttributeRegression& shape = model.shapeAttributes;
        QCOMPARE(albedo.directions.cols(), Eigen::Index(2));
        QCOMPARE(shape.directions.cols(), Eigen::Index(2));
        qInfo("bank readings: mean age %.1f, logit %.2f; range age %.1f-%.1f, logit %.2f-%.2f; slopes albedo %.2f %.2f, shape %.2f %.2f",
              albedo.readingMean(0), albedo.readingMean(1), albedo.low(0), albedo.high(0), albedo.low(1), albedo.high(1),
              albedo.slope(0), albedo.slope(1), shape.slope(0), shape.slope(1));
        const BankFace& face = model.bank.at(3);
        IdentityCode a;
        a.shape = face.shape;
        a.albedo = face.coefficients;
        IdentityCode b = a;  // the same face, another person along the attribute directions
        b.albedo += albedo.directions * Eigen::Vector2f(0.8f, -0.6f);
        b.shape += shape.directions * Eigen::Vector2f(-0.5f, 0.7f);
        for (IdentityCode* c : {&a, &b}) {
            c->shapeAttributeShift = shape.shiftTo(c->shape, 38.f, 0.15f);
            c->albedoAttributeShift = albedo.shiftTo(c->albedo, 38.f, 0.15f);
            // The shift lies along the directions.
            const Eigen::VectorXf& s = c->albedoAttributeShift;
            QVERIFY((s - albedo.directions * (albedo.directions.transpose() * s)).norm() < 1e-4f * std::max(1.f, s.norm()));
        }
        const Eigen::Vector2f womanReads = albedo.reads(shiftedAlbedoCode(a));
        QVERIFY(std::abs(womanReads(1) - (albedo.readingMean(1) + albedo.slope(1) * (albedo.low(1) - albedo.readingMean(1)))) < 1e-3f);
        QVERIFY(std::abs(womanReads(0) - (albedo.readingMean(0) + albedo.slope(0) * (38.f - albedo.readingMean(0)))) < 1e-3f);
        for (const std::uint64_t seed : {1ull, 4ull}) {
            const IdentityCode pa = perturbIdentity(a, 0.5, seed, {}, constraints);
            const IdentityCode pb = perturbIdentity(b, 0.5, seed, {}, constraints);
            QVERIFY((pa.albedo - pb.albedo).cwiseAbs().maxCoeff() < 1e-4f);
            QVERIFY((pa.shape - pb.shape).cwiseAbs().maxCoeff() < 1e-4f);
        }
        // Without the shifts the two faces keep their own coordinates: they differ.
        IdentityCode bare = a, otherBare = b;
        bare.shapeAttributeShift.resize(0);
        bare.albedoAttributeShift.resize(0);
        otherBare.shapeAttributeShift.resize(0);
        otherBare.albedoAttributeShift.resize(0);
        QVERIFY((perturbIdentity(bare, 0.5, 1, {}, constraints).albedo - perturbIdentity(otherBare, 0.5, 1, {}, constraints).albedo).norm() > 0.5f);
        // A man's reading, an older face's.
        const Eigen::Vector2f manReads = shape.reads(a.shape + shape.shiftTo(a.shape, 38.f, 0.7f));
        const Eigen::Vector2f olderReads = shape.reads(a.shape + shape.shiftTo(a.shape, 44.f, 0.7f));
        QVERIFY(manReads(1) > shape.reads(a.shape + a.shapeAttributeShift)(1) + 2.f);  // than the woman's
        QVERIFY(olderReads(0) > manReads(0) + 1.f);
        QVERIFY(std::abs(olderReads(1) - manReads(1)) < 1e-3f);
    }

    // The noise cannot draw a beard: over the upper lip, the chin and the lower cheeks z'_id's
    // albedo has the mean colour, against the skin above the nose, of the code it keeps, which
    // is that of the bank faces of its apparent sex and age (a woman's upper lip stays clean). Kept
    // off the attribute directions alone, the noise moves those colours.
    void theNoiseKeepsTheBeardAreasColour() {
        const AppearanceModel& model = sharedAppearanceModel();
        const AlbedoPca& pca = model.pca;
        const FaceModelContext& context = FaceModelContext::shared();
        const BeardAreas beard = beardAreas(context, pca);
        QCOMPARE(beard.areas.size(), std::size_t(4));
        const float noseBase = context.landmarkUv(33).y / float(context.uvSize() / pca.uvSize) - float(pca.roi.y);
        for (const cv::Mat& area : beard.areas) {
            QVERIFY(cv::countNonZero(area > 0.5f) >= 20);
            // Below the nose's base, and as wide on both sides of the face.
            cv::Mat rows;
            cv::reduce(area, rows, 1, cv::REDUCE_SUM);
            QCOMPARE(cv::countNonZero(rows(cv::Rect(0, 0, 1, int(noseBase))) > 0.5f), 0);
            cv::Mat mirrored;
            cv::flip(area, mirrored, 1);
            QVERIFY(cv::norm(area, mirrored, cv::NORM_L1) < 0.1 * cv::sum(area)[0]);
        }
        // Per area and channel: the mean over the area minus the mean over the reference.
        auto contrasts = [&](const Eigen::VectorXf& values) {
            const cv::Mat image = pca.toImage(values);
            auto mean = [&](const cv::Mat& weight) {
                cv::Mat w3;
                cv::merge(std::vector<cv::Mat>{weight, weight, weight}, w3);
                return cv::sum(image.mul(w3)) / cv::sum(weight)[0];
            };
            const cv::Scalar reference = mean(beard.reference);
            std::vector<double> out;
            for (const cv::Mat& area : beard.areas)
                for (int c = 0; c < 3; ++c) out.push_back(mean(area)[c] - reference[c]);
            return out;
        };
        const NoiseConstraints constraints = identityNoiseConstraints(context, model);
        QCOMPARE(constraints.albedo.cols(), Eigen::Index(2 + 4 * 3));
        const NoiseConstraints attributesOnly{Eigen::MatrixXf(), model.albedoAttributes.directions,
                                              Eigen::MatrixXf(), Eigen::VectorXf()};
        double keptWorst = 0, attributesOnlySmallest = 1e9;
        for (int face : {0, 7, 20}) {
            IdentityCode code;
            code.shape = model.bank.at(std::size_t(face)).shape;
            code.albedo = model.bank.at(std::size_t(face)).coefficients;
            const std::vector<double> kept = contrasts(model.keptValues(code.albedo));
            for (std::uint64_t seed = 1; seed <= 3; ++seed) {
                const IdentityCode p = perturbIdentity(code, 0.5, seed, {}, constraints);
                const IdentityCode q = perturbIdentity(code, 0.5, seed, {}, attributesOnly);
                const std::vector<double> withNoise = contrasts(pca.reconstruct(p.albedo));
                const std::vector<double> withoutAreas = contrasts(pca.reconstruct(q.albedo));
                double keptMove = 0, move = 0;
                for (std::size_t i = 0; i < kept.size(); ++i) {
                    keptMove = std::max(keptMove, std::abs(withNoise[i] - kept[i]));
                    move = std::max(move, std::abs(withoutAreas[i] - kept[i]));
                }
                keptWorst = std::max(keptWorst, keptMove);
                attributesOnlySmallest = std::min(attributesOnlySmallest, move);
            }
        }
        qInfo("largest change of a beard area's colour contrast by the noise: %.2g kept, at least %.3f per draw kept off the attributes alone",
              keptWorst, attributesOnlySmallest);
        QVERIFY(keptWorst < 1e-4);
        QVERIFY(attributesOnlySmallest > 0.02);
        // The colour kept there is that of the given bank faces, not the face's own: two
        // codes that differ only along the areas' directions keep the same values once shifted.
        const Eigen::VectorXf a = model.bank.at(3).coefficients;
        const Eigen::MatrixXf areas = model.albedoAreas();
        const Eigen::VectorXf b = a + areas * Eigen::VectorXf::LinSpaced(areas.cols(), -0.8f, 0.9f);
        const std::vector<int> neighbours = {5, 11, 40};
        const Eigen::VectorXf keptA = model.keptValues(a + model.areaShift(a, neighbours));
        const Eigen::VectorXf keptB = model.keptValues(b + model.areaShift(b, neighbours));
        QVERIFY((keptA - keptB).cwiseAbs().maxCoeff() < 1e-4f);
        QVERIFY((model.keptValues(a) - model.keptValues(b)).cwiseAbs().maxCoeff() > 0.05f);
    }

    // A face's albedo is mirror-symmetric; what the gallery holds of asymmetry is mostly light
    // from one side. The identity noise keeps off the antisymmetric modes (and the attribute
    // directions), so it adds no one-sided blotches; a plain draw over every mode would. The
    // same for the shape: ICT-FaceKit's antisymmetric modes bend the face to one side.
    void theIdentityNoiseIsMirrorSymmetric() {
        const AppearanceModel& model = sharedAppearanceModel();
        const AlbedoPca& pca = model.pca;
        const int antisymmetric = int(pca.antisymmetricModes.size());
        qInfo("%d of %d modes are antisymmetric", antisymmetric, pca.components());
        QVERIFY(antisymmetric >= pca.components() / 10);
        const Eigen::MatrixXf& off = model.albedoNoiseOff;
        QCOMPARE(off.cols(), model.albedoKept.cols() + antisymmetric);
        QVERIFY((off.transpose() * off - Eigen::MatrixXf::Identity(off.cols(), off.cols())).cwiseAbs().maxCoeff() < 1e-5);
        const FaceModelContext& context = FaceModelContext::shared();
        const std::vector<int>& bent = context.antisymmetricIdentityModes();
        qInfo("%zu of %d shape modes are antisymmetric", bent.size(), context.model().identityCount());
        QVERIFY(bent.size() >= 10);
        IdentityCode code;
        code.shape = Eigen::VectorXf::Zero(context.model().identityCount());
        code.albedo = model.bank.at(0).coefficients;
        const NoiseConstraints constraints = identityNoiseConstraints(context, model);
        for (std::uint64_t seed = 1; seed <= 6; ++seed) {
            const IdentityCode kept = perturbIdentity(code, 0.5, seed, {}, constraints);
            for (int mode : bent) QVERIFY(std::abs(kept.shape(mode)) < 1e-5f);
            QVERIFY(kept.shape.norm() > 1.f);
            const IdentityCode plain = perturbIdentity(code, 0.5, seed);
            const double keptShare = pca.antisymmetricShare(pca.basis * pca.stddev.cwiseProduct(kept.albedoNoise));
            const double plainShare = pca.antisymmetricShare(pca.basis * pca.stddev.cwiseProduct(plain.albedoNoise));
            qInfo("seed %d: antisymmetric share of the noise's albedo %.5f (a plain draw: %.3f)", int(seed), keptShare, plainShare);
            QVERIFY(keptShare < 1e-3);
            QVERIFY(plainShare > 0.05);
        }
    }

    void theAlbedoStaysInTheGalleryRange() {
        // The range is the central part of what the bank faces span at each value: about a
        // tenth of them lies below its low end, a tenth above its high end.
        const AppearanceModel& model = sharedAppearanceModel();
        const AlbedoPca& pca = model.pca;
        QCOMPARE(model.albedoLow.size(), pca.mean.size());
        QVERIFY((model.albedoHigh - model.albedoLow).minCoeff() >= 0);
        const int n = int(model.bank.size());
        double below = 0, above = 0;
        const int probes = 200;
        std::vector<Eigen::VectorXf> faces;
        for (int i = 0; i < n; ++i) faces.push_back(pca.reconstruct(model.bank[std::size_t(i)].coefficients));
        for (int p = 0; p < probes; ++p) {
            const Eigen::Index v = Eigen::Index(p) * (pca.mean.size() / probes);
            for (const Eigen::VectorXf& f : faces) {
                below += f(v) < model.albedoLow(v) - 1e-6f;
                above += f(v) > model.albedoHigh(v) + 1e-6f;
            }
        }
        below /= double(probes) * n;
        above /= double(probes) * n;
        qInfo("bank values below the range: %.1f %%, above: %.1f %%", 100 * below, 100 * above);
        QVERIFY(below > 0.07 && below < 0.11);
        QVERIFY(above > 0.07 && above < 0.11);
        // A code far out (3 standard deviations per mode) is pulled inside; the photo's own fit
        // widens the range, so scale 0 keeps X_f.
        const Eigen::VectorXf fitted = faces[0];
        Eigen::VectorXf far = Eigen::VectorXf::Constant(pca.components(), 3.f);
        for (int k = 1; k < pca.components(); k += 2) far(k) = -3.f;
        Eigen::VectorXf values = pca.reconstruct(far);
        const Eigen::VectorXf low = model.albedoLow.cwiseMin(fitted), high = model.albedoHigh.cwiseMax(fitted);
        const Eigen::Index outside = ((values.array() < low.array()) || (values.array() > high.array())).count();
        qInfo("a code of +-3 standard deviations: %ld of %ld values outside the range", long(outside), long(values.size()));
        QVERIFY(outside > values.size() / 10);
        keepInGalleryRange(model, fitted, values);
        QVERIFY(((values.array() >= low.array()) && (values.array() <= high.array())).all());
        Eigen::VectorXf same = fitted;
        keepInGalleryRange(model, fitted, same);
        QCOMPARE(same, fitted);
    }

    void scaleZeroRendersTheModelFit() {
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        const FittedFace face = fitFace(context, model, image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
        const PerturbedFace same = perturbFace(context, model, face, 0.0, 7);
        QCOMPARE(test::maxAbsDiff(same.image, face.fittedImage), 0.0);
        QCOMPARE(cv::countNonZero(same.mask != face.fittedMask), 0);
        // The model fit resembles the photo (it is a fit), without holes at the eyes and mouth.
        cv::Mat crop, diff, inner;
        face.crop.image.convertTo(crop, CV_32FC3);
        cv::absdiff(face.fittedImage, crop, diff);
        cv::erode(face.fittedMask, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
        const double mean = cv::mean(diff, inner)[0];
        qInfo("X_f vs X inside the face: mean |difference| %.1f levels", mean);
        QVERIFY(mean < 20);
        for (int i : {37, 38, 40, 41, 43, 44, 46, 47, 61, 62, 63, 65, 66, 67}) {
            const auto& p = same.landmarks[std::size_t(i)];
            QVERIFY2(same.mask.at<std::uint8_t>(cvRound(p.y()), cvRound(p.x())), qPrintable(QString::number(i)));
        }
        // Same seed: the same bytes; another seed: another face.
        const PerturbedFace a = perturbFace(context, model, face, 0.35, 3), b = perturbFace(context, model, face, 0.35, 3);
        QCOMPARE(test::maxAbsDiff(a.image, b.image), 0.0);
        QVERIFY(test::maxAbsDiff(a.albedo, perturbFace(context, model, face, 0.35, 4).albedo) > 20);
    }

    void theBankDetailIsTheMedianOfItsFaces() {
        // What one of the three bank faces alone has (a frame of glasses, a mole) is left out;
        // a crease two of them share stays.
        cv::Mat a(64, 64, CV_32F), b(64, 64, CV_32F), c(64, 64, CV_32F);
        cv::RNG rng(5);
        for (cv::Mat* m : {&a, &b, &c}) rng.fill(*m, cv::RNG::NORMAL, 0, 0.02);
        a.row(20).setTo(-0.2f);  // a line in one face
        b.row(40).setTo(-0.2f);  // a crease in two
        c.row(40).setTo(-0.2f);
        const cv::Mat mixed = medianRelief({a, b, c});
        double lineLow = 0, lineHigh = 0, creaseHigh = 0;
        cv::minMaxLoc(mixed.row(20), &lineLow, &lineHigh);
        cv::minMaxLoc(mixed.row(40), nullptr, &creaseHigh);
        qInfo("one face's line: %.3f..%.3f in the mix; two faces' crease: at most %.3f", lineLow, lineHigh, creaseHigh);
        QVERIFY(lineLow > -0.1);                 // the other two faces' texture, not the line
        QVERIFY(creaseHigh < -0.15);
        // Two faces: their mean.
        QCOMPARE(test::maxAbsDiff(medianRelief({a, b}), (a + b) * 0.5), 0.0);
    }

    void aBankFacesGlassesDoNotReachX_p() {
        // A frame drawn into the relief of one of the seed's three bank faces (as if the
        // builder's glasses screen had missed it) leaves X_p's albedo as it was; drawn into all
        // three, it shows.
        const AppearanceModel& shared = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const std::uint64_t seed = 77;
        const SeedDetail run = obamaAndSeedDetail(seed);
        const FittedFace& face = run.face;
        const DetailMix& mix = run.mix;
        QCOMPARE(int(mix.faces.size()), 3);
        // A line across the left cheek, in the detail grid: from below the eye towards the jaw.
        const cv::Point2f from = onDetailGrid(context, shared, 41), to = onDetailGrid(context, shared, 2);
        const cv::Point line0(cvRound(from.x), cvRound(0.5f * (from.y + to.y)));
        const cv::Point line1(cvRound(to.x), line0.y);
        auto withFrame = [&](int faces) {
            AppearanceModel model = shared;
            for (int i = 0; i < faces; ++i) {
                cv::Mat& d = model.detail.at(std::size_t(mix.faces[std::size_t(i)]));
                d = d.clone();
                cv::line(d, line0, line1, cv::Scalar(-110), 2);
            }
            return synthesizeAlbedo(context, model, face.appearance, face.albedoValues, 1.f, seed);
        };
        const cv::Mat clean = withFrame(0), one = withFrame(1), all = withFrame(3);
        cv::Mat along = cv::Mat::zeros(clean.size(), CV_8U);
        cv::line(along, line0 + shared.detailRoi.tl(), line1 + shared.detailRoi.tl(), cv::Scalar(255), 2);
        auto darkening = [&](const cv::Mat& framed) {
            cv::Mat ratio;
            cv::divide(framed, cv::max(clean, 1e-3), ratio);
            return 1.0 - cv::mean(ratio, along)[1];
        };
        qInfo("a frame in one bank face darkens X_p's albedo along it by %.3f, in all three by %.3f", darkening(one), darkening(all));
        QVERIFY(std::abs(darkening(one)) < 0.02);
        QVERIFY(darkening(all) > 0.08);
    }

    void aCreaseTheBankFacesShareKeepsTheirStrength() {
        // A crease drawn into all three of the seed's bank faces, at the same depth in each,
        // shows in X_p's albedo at that depth: the median of the three keeps what they share
        // as they have it. (Brought back to unit variance, it came out about a third deeper,
        // since the median of three faces' own texture varies less than each.)
        const AppearanceModel& shared = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const std::uint64_t seed = 77;
        const SeedDetail run = obamaAndSeedDetail(seed);
        const FittedFace& face = run.face;
        const DetailMix& mix = run.mix;
        QCOMPARE(int(mix.faces.size()), 3);
        // One strength for the three, below the photo's, so the crease's depth is the
        // quantised value drawn.
        AppearanceModel model = shared;
        const float strength = std::min(face.appearance.reliefSd, 0.04f);
        for (int i : mix.faces) model.bank.at(std::size_t(i)).detailSd = strength;
        const cv::Point2f from = onDetailGrid(context, shared, 31), to = onDetailGrid(context, shared, 3);  // nostril to jaw
        const cv::Point line0(cvRound(from.x), cvRound(to.y));
        const cv::Point line1(cvRound(to.x), line0.y);
        const cv::Mat clean = synthesizeAlbedo(context, model, face.appearance, face.albedoValues, 1.f, seed);
        const int depth = -40;  // quanta
        for (int i : mix.faces) {
            cv::Mat& d = model.detail.at(std::size_t(i));
            d = d.clone();
            cv::line(d, line0, line1, cv::Scalar(depth), 3);
        }
        const cv::Mat creased = synthesizeAlbedo(context, model, face.appearance, face.albedoValues, 1.f, seed);
        cv::Mat along = cv::Mat::zeros(clean.size(), CV_8U);
        cv::line(along, line0 + shared.detailRoi.tl(), line1 + shared.detailRoi.tl(), cv::Scalar(255), 1);
        cv::Mat fullStrength = cv::Mat::zeros(clean.size(), CV_8U);
        fullStrength(shared.detailRoi).setTo(255, eyeMarginFade(context, shared.detailUvSize, shared.detailRoi) >= 1.f);
        along &= fullStrength;
        QVERIFY(cv::countNonZero(along) > 20);
        // X_p's albedo is the model's times (1 + detail): the crease's relative depth is the
        // ratio of the two albedos less the clean detail's share, close to the drawn depth.
        cv::Mat ratio;
        cv::divide(creased, cv::max(clean, 1e-3), ratio);
        const double drawn = -depth * shared.detailQuantum;
        const double shown = 1.0 - cv::mean(ratio, along)[1];
        qInfo("a crease %.3f deep in all three bank faces is %.3f deep in X_p's albedo", drawn, shown);
        QVERIFY(shown > 0.8 * drawn);
        QVERIFY(shown < 1.15 * drawn);
    }

    void theBankDetailFadesOutAtTheEyes() {
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const cv::Mat fade = eyeMarginFade(context, model.detailUvSize, model.detailRoi);
        QCOMPARE(fade.size(), model.detailRoi.size());
        const int f = context.uvSize() / model.detailUvSize;
        auto at = [&](int landmark) {
            const cv::Point2f p = context.landmarkUv(landmark) / f;
            return fade.at<float>(cvRound(p.y) - model.detailRoi.y, cvRound(p.x) - model.detailRoi.x);
        };
        // Zero on the lid margins (the eye landmarks) and at full strength on the cheeks and
        // the forehead.
        for (int i = 36; i <= 47; ++i) QCOMPARE(at(i), 0.f);
        for (int i : {2, 14, 31, 35, 48, 54}) QCOMPARE(at(i), 1.f);
        double low = 0, high = 0;
        cv::minMaxLoc(fade, &low, &high);
        QVERIFY(low >= 0 && high <= 1);
    }

    void aMarkOnTheCheekDoesNotReachTheOutput() {
        // The photo's own skin (here a dark 12-px disc on the cheek) is not in X_p: the albedo
        // is the model's, the mark is neither projected nor kept as an occluder.
        const PaintedRun run = anonymizeWithPaint(paintMark);
        // In the crop: the mark's contrast before, and what differs at its place after.
        auto darkest = [&](const cv::Mat& with, const cv::Mat& without) { return darkestNear(with, without, run.at); };
        const double before = darkest(run.painted[0].fitted->crop.image, run.clean[0].fitted->crop.image);
        QVERIFY(before > 40);
        // The mark moves the photo's code a little; the bank faces its detail is mixed from
        // stay the same (the seed picks from the set of near faces, whatever their order).
        const AppearanceFit& painted = run.painted[0].fitted->appearance;
        const AppearanceFit& clean = run.clean[0].fitted->appearance;
        QVERIFY(painted.code != clean.code);
        for (std::uint64_t seed = 1; seed <= 6; ++seed)
            QVERIFY(chooseDetail(painted, seed).faces == chooseDetail(clean, seed).faces);
        for (std::size_t i = 0; i < run.clean.size(); ++i) {
            const double after = darkest(run.painted[i].final, run.clean[i].final);
            qInfo("cheek mark: %.1f levels darker than the skin in X, %.1f at most in X' (seed %zu)", before, after, i + 1);
            QVERIFY(after < 0.15 * before);
        }
    }

    void aMarkOnTheUpperForeheadReachesTheOutput() {
        // KNOWN DEFECT (README, Privacy: what stays of the person): the face model ends about
        // halfway up the forehead, and between it and the hairline X' keeps the photo's skin.
        // A dark 12-px disc there, on biden2.jpg (a high hairline), stays in X'.
        const Image clean = loadImage(test::facePhoto("biden/biden2.jpg").toStdString());
        DeidPipeline reference(clean);
        const FittedFace& fitted = *reference.fitted(0);
        const FaceAlignment& alignment = fitted.crop.alignment;
        // Above the brows' middle by 0.85 of their distance to the nose's tip: between the new
        // face's top and the hairline (crop y 106 of 512; the face mask begins at about 144).
        const cv::Point2d brows = (fitted.landmarks[19] + fitted.landmarks[24]) * 0.5;
        const cv::Point2d at = brows + (brows - fitted.landmarks[30]) * 0.85;
        Image painted = clean;
        painted.bgr = clean.bgr.clone();
        paintMark(painted.bgr, toImage(alignment, at), alignment);
        DeidPipeline withPaint(painted);
        auto darkest = [&](const cv::Mat& with, const cv::Mat& without) { return darkestNear(with, without, at); };
        DeidSettings settings;
        const FaceResult before = reference.processFace(0, settings), after = withPaint.processFace(0, settings);
        const double inX = darkest(withPaint.fitted(0)->crop.image, fitted.crop.image);
        const double inOutput = darkest(after.final, before.final);
        qInfo("upper-forehead mark: %.1f levels darker than the skin in X, %.1f at most in X'", inX, inOutput);
        QVERIFY(inX > 40);
        QVERIFY(cv::countNonZero(before.hybrid.faceMask(markWindow(at))) == 0);  // above the new face
        QEXPECT_FAIL("", "the skin above the face mesh is the photo's (README, Privacy); not fixed", Continue);
        QVERIFY(inOutput < 0.15 * inX);
    }

    void aBroadStainOnTheCheekDoesNotReachTheOutput() {
        // Nor is the photo's own skin colour field: X_f keeps it (the real fit), X_p keeps only
        // the photo's light and the part of its albedo code along the age and gender directions.
        const PaintedRun run = anonymizeWithPaint(paintCheekStain);
        // The stain's own contrast: the darkening at its place less the darkening at the same
        // place on the other cheek (the stain also darkens the measured skin tone, so the whole
        // new face a little).
        auto contrast = [&](const cv::Mat& with, const cv::Mat& without) {
            return meanDarkening(with, without, run.at, 20) - meanDarkening(with, without, run.other, 20);
        };
        const double before = contrast(run.painted[0].fitted->crop.image, run.clean[0].fitted->crop.image);
        QVERIFY(before > 25);

        // Step I with both photos fitted on the clean photo's landmarks, so both faces have the
        // same geometry and what differs is what the stain did to the appearance fit.
        const AppearanceModel& model = sharedAppearanceModel();
        const FaceModelContext& context = FaceModelContext::shared();
        const FittedFace clean = fitFace(context, model, run.cleanPhoto.bgr, run.face);
        const FittedFace painted = fitFace(context, model, run.paintedPhoto.bgr, run.face);
        QCOMPARE(painted.fit.identity, clean.fit.identity);
        QVERIFY(painted.appearance.code != clean.appearance.code);  // the stain is in the photo's β
        const double fitted = contrast(painted.fittedImage, clean.fittedImage);
        qInfo("cheek stain: %.1f levels darker than the other cheek in X, %.1f in X_f", before, fitted);
        QVERIFY(fitted > 0.4 * before);
        for (std::uint64_t seed = 1; seed <= 6; ++seed) {
            const double inXp = contrast(perturbFace(context, model, painted, kDefaultScale, seed).image,
                                         perturbFace(context, model, clean, kDefaultScale, seed).image);
            qInfo("cheek stain: %.1f levels in X_p on the same geometry (seed %d)", inXp, int(seed));
            // What remains (at most 15 %, seeds 1 and 6) is what the photo's light and SH fit take of it:
            // a stain this broad is in part indistinguishable from light.
            QVERIFY(std::abs(inXp) < 0.2 * before);
        }

        // The whole pipeline, each photo with its own detection.
        double worst = 0, sum = 0;
        for (std::size_t i = 0; i < run.clean.size(); ++i) {
            const double after = contrast(run.painted[i].final, run.clean[i].final);
            qInfo("cheek stain: %.1f levels in X' (seed %zu)", after, i + 1);
            worst = std::max(worst, std::abs(after));
            sum += after;
        }
        const double mean = sum / double(run.clean.size());
        qInfo("cheek stain in X': mean %.1f, worst %.1f levels (%.0f %% and %.0f %% of X's)", mean, worst, 100 * mean / before,
              100 * worst / before);
        // The stain also moves the detected landmarks (by about 6 px on the jaw), so the new face
        // is fitted and placed a little differently: what differs at the stain's place on some
        // seeds is the new face's own shading moved, not the stain (README, Privacy).
        QEXPECT_FAIL("", "the stain moves the landmarks, and with them the new face's shading", Continue);
        QVERIFY(worst < 0.15 * before);
        QVERIFY(std::abs(mean) < 0.25 * before);
    }

    void theGlassesScreenTellsGlassesFromBareFaces_data() {
        QTest::addColumn<QString>("photo");
        QTest::addColumn<bool>("glasses");
        // All the developer photos with glasses, and the bare faces the screen scores highest.
        for (const char* photo : {"bbt_amy/amy4.png", "bbt_bernadette/bernadette1.png", "bbt_bernadette/bernadette2.png",
                                  "bbt_bernadette/bernadette3.png", "bbt_bernadette/bernadette4.png",
                                  "bbt_bernadette/bernadette5.png", "bbt_leonard/leonard1.png", "bbt_leonard/leonard4.png",
                                  "bbt_leonard/leonard5.png"})
            QTest::newRow(photo) << photo << true;
        for (const char* photo : {"messi/messi5.jpg", "kit_harington/john2.jpg", "kit_harington/johnsnow_test1.jpg",
                                  "jolie/img11.jpg", "bbt_leonard/leonard2.png"})
            QTest::newRow(photo) << photo << false;
    }
    void theGlassesScreenTellsGlassesFromBareFaces() {
        // It decides whether the appearance code is fitted round the eyes (and which gallery
        // photos the builder leaves out).
        QFETCH(QString, photo);
        QFETCH(bool, glasses);
        const Image image = loadImage(test::facePhoto(photo).toStdString());
        const FittedFace face =
            fitFaceGeometry(FaceModelContext::shared(), image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
        qInfo("glasses score %.3f (threshold %.2f)", glassesScore(face), kGlassesThreshold);
        QCOMPARE(wearsGlasses(face), glasses);
    }
    void glassesFramesStayCrispInTheOutput_data() {
        QTest::addColumn<QString>("photo");
        QTest::addColumn<int>("seed");
        QTest::newRow("leonard1") << "bbt_leonard/leonard1.png" << 5;
        // Dark frames where the model draws brows and sockets: kept because the appearance
        // code is not fitted round the eyes of a face with glasses (X_f would take them in).
        QTest::newRow("bernadette1") << "bbt_bernadette/bernadette1.png" << 6;
        QTest::newRow("amy4") << "bbt_amy/amy4.png" << 1;
    }
    void glassesFramesStayCrispInTheOutput() {
        // The frames, found as occluders the model cannot explain, are kept from the photo (moved
        // with the new head shape like the rest of it: the warped photo of the hybrid).
        QFETCH(QString, photo);
        QFETCH(int, seed);
        DeidPipeline p(loadImage(test::facePhoto(photo).toStdString()));
        std::vector<FaceResult> results;
        DeidSettings settings;
        settings.seed = std::uint64_t(seed);
        p.anonymize(settings, {}, {}, &results);
        const FaceResult& r = results[0];
        const FittedFace& f = *r.fitted;
        // The frame: dark, thin structures around the eyes (a black-hat filter) of the warped
        // photo, outside the eye openings.
        cv::Mat grey, blackHat;
        cv::cvtColor(r.hybrid.warped, grey, cv::COLOR_BGR2GRAY);
        const int eye = int(cv::norm(f.landmarks[45] - f.landmarks[36]) * 0.12) | 1;
        cv::morphologyEx(grey, blackHat, cv::MORPH_BLACKHAT, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(eye, eye)));
        // Where a frame is and brows and lashes are not: the bridge between the eyes and the
        // rims under them.
        cv::Mat around = cv::Mat::zeros(grey.size(), CV_8U), openings = cv::Mat::zeros(grey.size(), CV_8U);
        const auto& q = r.perturbed.landmarks;
        auto pt = [&](int i) { return cv::Point(cvRound(q[std::size_t(i)].x()), cvRound(q[std::size_t(i)].y())); };
        const int eyeWidth = pt(39).x - pt(36).x;
        cv::rectangle(around, cv::Rect(cv::Point(pt(39).x + eyeWidth / 8, std::min(pt(39).y, pt(42).y) - eyeWidth / 3),
                                       cv::Point(pt(42).x - eyeWidth / 8, std::max(pt(39).y, pt(42).y) + eyeWidth / 6)),
                      cv::Scalar(255), cv::FILLED);
        for (const auto& [outer, inner, lid] : {std::tuple{36, 39, 41}, std::tuple{45, 42, 46}}) {
            const int bottom = std::max(pt(lid).y, pt(lid + 1 > 47 ? lid : lid + 1).y);
            cv::rectangle(around, cv::Rect(cv::Point(std::min(pt(outer).x, pt(inner).x), bottom + eyeWidth / 6),
                                           cv::Point(std::max(pt(outer).x, pt(inner).x), bottom + eyeWidth * 2 / 3)),
                          cv::Scalar(255), cv::FILLED);
        }
        for (const auto& [first, last] : {std::pair{36, 41}, std::pair{42, 47}}) {
            std::vector<cv::Point> eyePoly;
            for (int i = first; i <= last; ++i) eyePoly.push_back(pt(i));
            cv::fillConvexPoly(openings, eyePoly, cv::Scalar(255));
        }
        const cv::Mat frame = (blackHat > 40) & around & ~openings;
        QVERIFY2(cv::countNonZero(frame) > 300, "the test photo should show a frame");
        // Found: most of the frame is in the styling mask (kept from the photo; the black-hat
        // measure also takes the shadows along the frame's edges, hence the 2-px margin) ...
        cv::Mat styling;
        cv::dilate(r.hybrid.styling, styling, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
        const double found = double(cv::countNonZero(frame & styling)) / cv::countNonZero(frame);
        // ... opaque: there X' is the photo's pixels themselves ...
        cv::Mat inner, diff;
        cv::erode(r.hybrid.styling, inner, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
        cv::absdiff(r.final, r.hybrid.warped, diff);
        const double opaque = cv::mean(diff, inner & frame)[0];
        // ... and crisp: the frame's edges keep their energy.
        auto edgeEnergy = [&](const cv::Mat& image) {
            cv::Mat g, gx, gy, magnitude, near;
            cv::cvtColor(image, g, cv::COLOR_BGR2GRAY);
            cv::Sobel(g, gx, CV_32F, 1, 0);
            cv::Sobel(g, gy, CV_32F, 0, 1);
            cv::magnitude(gx, gy, magnitude);
            cv::dilate(frame, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
            return cv::mean(magnitude, near)[0];
        };
        const double before = edgeEnergy(r.hybrid.warped), after = edgeEnergy(r.final);
        qInfo("glasses frame: %.0f %% of it kept as an occluder, mean |X' - photo| %.2f levels on it, edge energy %.0f %% of "
              "the photo's", 100 * found, opaque, 100 * after / before);
        QVERIFY(found > 0.7);
        QVERIFY(opaque < 2.0);
        QVERIFY(after > 0.85 * before);
    }
};

QTEST_GUILESS_MAIN(TestAppearanceModel)
#include "test_appearance_model.moc"
