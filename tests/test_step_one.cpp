// Step I: fitting on synthetic ground truth, and the perturbed render on a real photo (the
// model fit and scale 0 are in test_appearance_model).
#include "deid/fitted_face.h"
#include "deid/hole_fill.h"
#include "deid/perturbed_face.h"
#include "identity/seeded_noise.h"
#include "io/image_io.h"
#include "test_support.h"

#include <QtTest>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

using namespace ideu;

namespace {

struct Truth {
    Eigen::VectorXd identity, expression;
    Pose pose;
};

Truth makeTruth(const MorphableModel& model, double yaw, double pitch, double roll) {
    Truth t;
    const std::vector<double> n = normalSamples(11, 0, model.identityCount());
    t.identity = Eigen::Map<const Eigen::VectorXd>(n.data(), model.identityCount()) * 0.5;
    t.expression = Eigen::VectorXd::Zero(model.expressionCount());
    t.expression(26) = 0.3;   // jawOpen
    t.expression(45) = 0.4;   // mouthSmile_L
    t.expression(46) = 0.35;  // mouthSmile_R
    t.expression(2) = 0.2;    // browInnerUp_L
    t.pose.rotation = Pose::fromAnglesDegrees(yaw, pitch, roll);
    t.pose.translation = {1.0, -2.0, 62.0};
    return t;
}

Landmarks68 projectTruth(const LandmarkFitter& fitter, const Truth& t, const Camera& camera) {
    const MorphableModel& model = fitter.model();
    const auto vertices = fitter.silhouetteLandmarks(t.identity, t.expression, t.pose, camera);
    const Eigen::VectorXf shape = model.shape(t.identity.cast<float>(), t.expression.cast<float>());
    Landmarks68 out;
    for (int i = 0; i < 68; ++i) {
        const Eigen::Vector2d p = camera.project(t.pose.apply(shape.segment<3>(3 * vertices[std::size_t(i)]).cast<double>()));
        out[std::size_t(i)] = {p.x(), p.y()};
    }
    return out;
}

double angleError(const Pose& a, const Pose& b) {
    return Eigen::AngleAxisd(a.rotation.transpose() * b.rotation).angle() * 180 / CV_PI;
}

// A mouth for the opening fill: landmarks whose inner lips are `gap` px apart about y = 150
// between corners at x = 60 and 140 (the eyes far above it, the nose's base at y = 120), and
// a render of uniform `lips` colour with the mesh's hole where the target's inner lips open.
using Points68 = std::array<Eigen::Vector2d, 68>;
Points68 mouthLandmarks(double gap) {
    Points68 p;
    for (int i = 0; i < 68; ++i) p[std::size_t(i)] = {100, 40};
    for (int i = 36; i < 48; ++i) p[std::size_t(i)] = {60.0 + 2 * i, i < 42 ? 40.0 : 44.0};
    p[33] = {100, 120};
    p[60] = {60, 150};
    p[64] = {140, 150};
    const double xs[3] = {80, 100, 120};
    for (int k = 0; k < 3; ++k) {
        p[std::size_t(61 + k)] = {xs[k], 150 - gap / 2};   // upper inner lip, left to right
        p[std::size_t(67 - k)] = {xs[k], 150 + gap / 2};   // lower inner lip
    }
    return p;
}

struct MouthRender {
    cv::Mat image, mask, hole;
};

MouthRender mouthRender(const Points68& target, const cv::Vec3f& lips) {
    MouthRender r;
    r.image = cv::Mat(200, 200, CV_32FC3, cv::Scalar(lips[0], lips[1], lips[2]));
    std::vector<cv::Point> polygon;
    for (int i = 60; i < 68; ++i) polygon.emplace_back(cvRound(target[std::size_t(i)].x()), cvRound(target[std::size_t(i)].y()));
    r.hole = cv::Mat::zeros(200, 200, CV_8U);
    cv::fillPoly(r.hole, std::vector<std::vector<cv::Point>>{polygon}, cv::Scalar(255));
    r.mask = ~r.hole;
    r.image.setTo(cv::Scalar::all(0), r.hole);
    return r;
}

cv::Vec3f meanOver(const cv::Mat& image, const cv::Mat& where) {
    const cv::Scalar m = cv::mean(image, where);
    return {float(m[0]), float(m[1]), float(m[2])};
}

}  // namespace

class TestStepOne : public QObject {
    Q_OBJECT
    const FaceModelContext* context_ = nullptr;

    // Step I on the first face found in a developer photo.
    FittedFace fitFirstFace(const char* photo) const {
        const Image image = loadImage(test::facePhoto(photo).toStdString());
        return fitFace(*context_, sharedAppearanceModel(), image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
    }

private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        context_ = &FaceModelContext::shared();
    }

    // The rendered triangles are those whose centre lies inside the face outline in UV, the
    // same at any atlas resolution (the atlas was 1024², it is 512²).
    void theRenderedTrianglesDoNotDependOnTheAtlasSize() {
        const FaceModelContext fine(context_->model(), 1024);
        QCOMPARE(context_->uvSize(), 512);
        QVERIFY(fine.faceTriangles() == context_->faceTriangles());
        QVERIFY(std::count(fine.faceTriangles().begin(), fine.faceTriangles().end(), 1) > 1000);
    }

    // Off the mesh the photo texture's shading is neutral in every channel: the renderer's
    // bilinear lookup mixes it into the texels at the mesh's edge, where it bounds the
    // re-shading (a (1, 0, 0) there darkened green and red along the edge of X_f and X_p).
    void theTextureShadingIsNeutralOffTheMesh() {
        const Image image = loadImage(test::facePhoto("obama/obama.jpg").toStdString());
        const FittedFace face =
            fitFaceGeometry(*context_, image.bgr, FaceDetector::shared()->detect(image.bgr).faces.at(0));
        const UvAtlas& atlas = context_->atlas();
        int offMesh = 0;
        for (int y = 0; y < atlas.size; y += 7)
            for (int x = 0; x < atlas.size; x += 7) {
                if (atlas.texels.triangle[atlas.texels.index(x, y)] >= 0) continue;
                ++offMesh;
                QCOMPARE(face.texture.shading.at<cv::Vec3f>(y, x), cv::Vec3f(1, 1, 1));
            }
        QVERIFY(offMesh > 100);
    }

    void poseAnglesRoundTrip() {
        Pose p;
        p.rotation = Pose::fromAnglesDegrees(20, -10, 5);
        const Eigen::Vector3d a = p.anglesDegrees();
        QVERIFY((a - Eigen::Vector3d(20, -10, 5)).norm() < 1e-9);
    }

    void syntheticFitRecoversPoseAndLandmarks_data() {
        QTest::addColumn<double>("yaw");
        QTest::addColumn<double>("pitch");
        QTest::addColumn<double>("roll");
        QTest::newRow("frontal") << 0.0 << 0.0 << 0.0;
        QTest::newRow("turned 25, down 10, rolled 5") << 25.0 << -10.0 << 5.0;
        QTest::newRow("turned -35, up 8") << -35.0 << 8.0 << -3.0;
    }
    void syntheticFitRecoversPoseAndLandmarks() {
        QFETCH(double, yaw);
        QFETCH(double, pitch);
        QFETCH(double, roll);
        const LandmarkFitter& fitter = context_->fitter();
        const Camera camera = Camera::forCrop(512);
        const Truth truth = makeTruth(fitter.model(), yaw, pitch, roll);
        const Landmarks68 landmarks = projectTruth(fitter, truth, camera);
        const FaceFit fit = fitter.fit(landmarks, camera);
        const double error = angleError(fit.pose, truth.pose);
        const Eigen::Vector3d d = fit.pose.anglesDegrees() - truth.pose.anglesDegrees();
        qInfo("rotation error %.3f deg (yaw %.2f pitch %.2f roll %.2f), landmark rms %.3f px", error, d.x(), d.y(), d.z(), fit.rmsPixels);
        QVERIFY2(error < 1.0, qPrintable(QString::number(error)));
        QVERIFY2(fit.rmsPixels < 1.0, qPrintable(QString::number(fit.rmsPixels)));
        QVERIFY(fit.expression.minCoeff() >= 0.f && fit.expression.maxCoeff() <= 1.f);
        // Deterministic.
        const FaceFit again = fitter.fit(landmarks, camera);
        QVERIFY(again.identity == fit.identity && again.pose.rotation == fit.pose.rotation);
    }

    void robustToWrongAndMissingLandmarks() {
        const LandmarkFitter& fitter = context_->fitter();
        const Camera camera = Camera::forCrop(512);
        const Truth truth = makeTruth(fitter.model(), 15, 5, 0);
        Landmarks68 landmarks = projectTruth(fitter, truth, camera);
        // Three landmarks far off (a detector slip), two missing.
        landmarks[30].x += 45;
        landmarks[48].y -= 40;
        landmarks[10].x += 60;
        std::array<bool, 68> valid;
        valid.fill(true);
        valid[37] = valid[62] = false;
        landmarks[37] = {0, 0};
        landmarks[62] = {511, 511};
        const FaceFit fit = fitter.fit(landmarks, camera, {}, &valid);
        const double error = angleError(fit.pose, truth.pose);
        qInfo("rotation error with outliers %.3f deg; outlier weights %.3f %.3f %.3f", error, fit.landmarkWeights[30],
              fit.landmarkWeights[48], fit.landmarkWeights[10]);
        QVERIFY(error < 2.0);
        QVERIFY(fit.landmarkWeights[30] < 0.2 && fit.landmarkWeights[48] < 0.2 && fit.landmarkWeights[10] < 0.2);
        QCOMPARE(fit.landmarkWeights[37], 0.0);
        // Without the down-weighting the same outliers would pull the fit much further.
        FitOptions plain;
        plain.robustScale = 1e6;
        const double plainError = angleError(fitter.fit(landmarks, camera, plain, &valid).pose, truth.pose);
        QVERIFY(plainError > error);
    }

    void perturbationChangesIdentityOnly() {
        const FittedFace face = fitFirstFace("jolie/img2.jpg");
        const AppearanceModel& model = sharedAppearanceModel();
        const PerturbedFace p = perturbFace(*context_, model, face, 0.3, 3);
        // Geometry: landmarks move.
        double shift = 0;
        for (int i = 0; i < 68; ++i) shift += (p.landmarks[std::size_t(i)] - face.fittedLandmarks[std::size_t(i)]).norm();
        shift /= 68;
        qInfo("scale 0.3: landmarks move %.2f px on average", shift);
        QVERIFY(shift > 2.0);
        // Appearance: the albedo changes from the fitted code's, the skin-tone family stays.
        const cv::Mat fitted = synthesizeAlbedo(*context_, model, face.appearance, face.albedoValues, 0.f, 0);
        cv::Mat diff, faceTexels;
        cv::absdiff(p.albedo, fitted, diff);
        cv::resize(context_->faceMask(), faceTexels, fitted.size(), 0, 0, cv::INTER_NEAREST);
        QVERIFY(cv::mean(diff, faceTexels)[0] > 2.0);
        QVERIFY((p.identity.albedo - face.identity.albedo).norm() > 1);
        const cv::Scalar toneBefore = cv::mean(fitted, faceTexels), toneAfter = cv::mean(p.albedo, faceTexels);
        for (int c = 0; c < 3; ++c) QVERIFY(std::abs(toneAfter[c] / toneBefore[c] - 1) < 0.15);
        // Expression and pose stay: the perturbed mesh is the perturbed identity with the
        // fitted expression under the fitted pose, at the fitted face's size and place.
        Eigen::VectorXf shape = context_->model().shape(p.identity.shape, face.fit.expression);
        for (Eigen::Index i = 0; i < shape.size(); i += 3)
            shape.segment<3>(i) = p.sizeAndPlace.apply(Eigen::Vector3f(shape.segment<3>(i)));
        QVERIFY((shape - p.geometry.vertices).cwiseAbs().maxCoeff() < 1e-4f);
        const auto screen = projectVertices(shape, face.fit.pose, face.fit.camera);
        QVERIFY((screen - p.geometry.screen).cwiseAbs().maxCoeff() < 1e-3f);
        // Same seed, same result; another seed, another face.
        const PerturbedFace again = perturbFace(*context_, model, face, 0.3, 3);
        QCOMPARE(test::maxAbsDiff(again.image, p.image), 0.0);
        const PerturbedFace other = perturbFace(*context_, model, face, 0.3, 4);
        QVERIFY(test::maxAbsDiff(other.image, p.image) > 10);
        // z'_id's beard areas are coloured as the bank faces of the face's apparent sex and age
        // band (its peers) are on average, not as the photo, nor as its nearest codes.
        const std::vector<int>& peers = face.appearance.peers;
        QVERIFY(peers.size() >= 10);
        const bool male = face.appearance.attributes.gender > 0.5f;
        for (int i : peers) QCOMPARE(model.bank.at(std::size_t(i)).gender > 0.5f, male);
        QVERIFY(peers.size() > face.appearance.neighbours.size());
        auto meanOf = [&](const std::vector<int>& faces) {
            Eigen::VectorXf mean = Eigen::VectorXf::Zero(face.identity.albedo.size());
            for (int i : faces) mean += model.bank.at(std::size_t(i)).coefficients / float(faces.size());
            return mean;
        };
        const Eigen::VectorXf peerMean = meanOf(peers);
        const Eigen::MatrixXf areas = model.albedoAreas();
        QVERIFY(areas.cols() > 0);
        QVERIFY((areas.transpose() * (p.identity.albedo - peerMean)).cwiseAbs().maxCoeff() < 1e-4f);
        QVERIFY((areas.transpose() * (face.identity.albedo - peerMean)).norm() > 0.1f);
        QVERIFY((areas.transpose() * (meanOf(face.appearance.neighbours) - peerMean)).norm() > 0.01f);
    }

    // The model opens the mouth of a photo whose lips are closed (its "opening" is 2 px of its
    // own lips): the gap takes the new lips' tone instead of showing the photo's lips as a
    // slot of another tone (a flat grey slot on bbt_stuart/stuart5.png at seed 6).
    void aMouthTheModelOpensShowsThePhotosLipsInTheNewLipsTone() {
        const cv::Vec3f photoLips(70, 60, 120), newLips(105, 95, 175);
        const Points68 source = mouthLandmarks(2), target = mouthLandmarks(16);
        cv::Mat crop(200, 200, CV_8UC3, cv::Scalar(photoLips[0], photoLips[1], photoLips[2]));
        MouthRender r = mouthRender(target, newLips);
        fillHolesFromCrop(crop, source, target, r.image, r.mask);
        QCOMPARE(cv::countNonZero(r.mask), 200 * 200);
        cv::Mat inside;
        cv::erode(r.hole, inside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
        QVERIFY(cv::countNonZero(inside) > 300);
        const cv::Vec3f filled = meanOver(r.image, inside);
        qInfo("gap filled with %.1f %.1f %.1f (new lips %.0f %.0f %.0f, photo's %.0f %.0f %.0f)", filled[0], filled[1],
              filled[2], newLips[0], newLips[1], newLips[2], photoLips[0], photoLips[1], photoLips[2]);
        for (int c = 0; c < 3; ++c) QVERIFY(std::abs(filled[c] - newLips[c]) < 3);
    }

    // Teeth in the photo's open mouth are not lips: they keep the photo's tone (taking the new
    // lips' ratio blew them out on obama2.jpg), and the mesh's aliased edge round the opening
    // is softened by a pixel or so, no further.
    void teethKeepThePhotosToneAndTheOpeningsEdgeIsSoftened() {
        const cv::Vec3f photoLips(70, 60, 120), newLips(105, 95, 175);
        const Points68 source = mouthLandmarks(16), target = mouthLandmarks(16);
        cv::Mat crop(200, 200, CV_8UC3, cv::Scalar(photoLips[0], photoLips[1], photoLips[2]));
        MouthRender r = mouthRender(target, newLips);
        crop.setTo(cv::Scalar::all(230), r.hole);  // the photo's teeth fill its opening
        const cv::Mat before = r.image.clone();
        fillHolesFromCrop(crop, source, target, r.image, r.mask);
        cv::Mat inside;
        cv::erode(r.hole, inside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
        const cv::Vec3f teeth = meanOver(r.image, inside);
        qInfo("teeth %.1f %.1f %.1f (photo's 230)", teeth[0], teeth[1], teeth[2]);
        for (int c = 0; c < 3; ++c) QVERIFY(std::abs(teeth[c] - 230) < 3);
        // Just above the upper lip's edge the render moves towards the teeth; 6 px above it
        // is the render's own.
        const cv::Vec3f atEdge = r.image.at<cv::Vec3f>(141, 100), away = r.image.at<cv::Vec3f>(135, 100);
        QVERIFY(r.hole.at<std::uint8_t>(142, 100) && !r.hole.at<std::uint8_t>(141, 100));
        QVERIFY(atEdge[0] > newLips[0] + 5);
        QCOMPARE(away, before.at<cv::Vec3f>(135, 100));
    }

    void thePerturbedFaceKeepsItsSizeAndPlace() {
        // The identity noise of this seed shrinks the whole face and moves it up the head: its
        // chin rose far above the photo's and showed a strip of neck the photo never had, in
        // a band down to the collar. Size and place are not identity a recogniser reads (it
        // aligns the face first), so X_p keeps X_f's centroid and spread over the face-area
        // vertices and only the proportions change.
        const FittedFace face = fitFirstFace("obama/obama.jpg");
        const PerturbedFace p = perturbFace(*context_, sharedAppearanceModel(), face, 0.5, 2924986878241221310ull);
        const std::vector<int>& vertices = context_->faceVertices();
        auto centreAndSpread = [&](const Eigen::VectorXf& shape) {
            Eigen::Vector3d centre = Eigen::Vector3d::Zero();
            for (int v : vertices) centre += shape.segment<3>(3 * v).cast<double>() / double(vertices.size());
            double spread = 0;
            for (int v : vertices) spread += (shape.segment<3>(3 * v).cast<double>() - centre).squaredNorm() / double(vertices.size());
            return std::pair(centre, std::sqrt(spread));
        };
        const auto [fittedCentre, fittedSpread] = centreAndSpread(face.geometry.vertices);
        const auto [rawCentre, rawSpread] = centreAndSpread(context_->model().shape(p.identity.shape, face.fit.expression));
        const auto [keptCentre, keptSpread] = centreAndSpread(p.geometry.vertices);
        qInfo("the noise alone moves the face's centre %.2f cm and scales it by %.3f", (rawCentre - fittedCentre).norm(),
              rawSpread / fittedSpread);
        QVERIFY((rawCentre - fittedCentre).norm() > 0.3 || std::abs(rawSpread / fittedSpread - 1) > 0.03);
        QVERIFY((keptCentre - fittedCentre).norm() < 1e-3);
        QVERIFY(std::abs(keptSpread / fittedSpread - 1) < 1e-5);
        // The chin stays near the photo's; the proportions still move the landmarks.
        const double chin = (p.landmarks[8] - face.fittedLandmarks[8]).norm();
        double shift = 0;
        for (int i = 0; i < 68; ++i) shift += (p.landmarks[std::size_t(i)] - face.fittedLandmarks[std::size_t(i)]).norm() / 68;
        qInfo("chin landmark moves %.1f px, landmarks %.1f px on average (crop of %d px)", chin, shift, face.fit.camera.width);
        QVERIFY(chin < 15);
        QVERIFY(shift > 2);
    }
};

QTEST_GUILESS_MAIN(TestStepOne)
#include "test_step_one.moc"
