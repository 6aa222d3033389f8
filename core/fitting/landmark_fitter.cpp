#include "fitting/landmark_fitter.h"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>

namespace ideu {
namespace {

Eigen::Matrix3d skew(const Eigen::Vector3d& v) {
    Eigen::Matrix3d m;
    m << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
    return m;
}

Eigen::Matrix3d rotationFromVector(const Eigen::Vector3d& w) {
    const double angle = w.norm();
    if (angle < 1e-12) return Eigen::Matrix3d::Identity() + skew(w);
    return Eigen::AngleAxisd(angle, w / angle).toRotationMatrix();
}

// Landmark vertex positions and their basis rows, for the current coefficients.
struct LandmarkModel {
    const MorphableModel& model;
    int kId, kExp;
    Eigen::Vector3d vertex(int v, const Eigen::VectorXd& a, const Eigen::VectorXd& d) const {
        Eigen::Vector3d p = model.mean.segment<3>(3 * v).cast<double>();
        p += model.identityBasis.block(3 * v, 0, 3, kId).cast<double>() * a;
        p += model.expressionBasis.block(3 * v, 0, 3, kExp).cast<double>() * d;
        return p;
    }
};

}  // namespace

ContourCandidates ContourCandidates::build(const MorphableModel& model) {
    ContourCandidates c;
    const Eigen::VectorXf& m = model.mean;
    // Vertices that belong to a triangle (the mesh has no loose points, but be safe).
    std::vector<char> used(std::size_t(model.vertexCount), 0);
    for (const auto& t : model.triangles)
        for (int v : t) used[std::size_t(v)] = 1;
    for (int j = 0; j < 17; ++j) {
        const int lv = model.landmarks[std::size_t(j)];
        const Eigen::Vector3f p = m.segment<3>(3 * lv);
        c.vertices[std::size_t(j)].push_back(lv);
        if (j == 8) continue;  // the chin stays on the midline
        for (int v = 0; v < model.vertexCount; ++v) {
            if (!used[std::size_t(v)] || v == lv) continue;
            const Eigen::Vector3f q = m.segment<3>(3 * v);
            // Same height band, same side, from a little inside the frontal contour back
            // towards (not onto) the ear.
            if (std::abs(q.y() - p.y()) > 0.35f) continue;
            if (q.x() * p.x() <= 0) continue;
            if (std::abs(q.x()) < std::abs(p.x()) - 1.0f) continue;
            if (q.z() < p.z() - 3.5f || q.z() > p.z() + 1.5f) continue;
            c.vertices[std::size_t(j)].push_back(v);
        }
    }
    return c;
}

std::array<Eigen::Vector2d, 68> FaceFit::projectedLandmarks(const MorphableModel& model) const {
    std::array<Eigen::Vector2d, 68> out;
    const LandmarkModel lm{model, int(identity.size()), int(expression.size())};
    const Eigen::VectorXd a = identity.cast<double>(), d = expression.cast<double>();
    for (int i = 0; i < 68; ++i) out[std::size_t(i)] = camera.project(pose.apply(lm.vertex(landmarkVertices[std::size_t(i)], a, d)));
    return out;
}

double innerNme(const std::array<Eigen::Vector2d, 68>& predicted, const Landmarks68& truth) {
    const double io = cv::norm(truth[36] - truth[45]);
    double sum = 0;
    for (int i = 17; i < 68; ++i)
        sum += (predicted[std::size_t(i)] - Eigen::Vector2d(truth[std::size_t(i)].x, truth[std::size_t(i)].y)).norm();
    return sum / 51.0 / std::max(io, 1e-9);
}

Eigen::Matrix<float, 3, Eigen::Dynamic> projectVertices(const Eigen::VectorXf& shape, const Pose& pose,
                                                        const Camera& camera) {
    const Eigen::Index n = shape.size() / 3;
    Eigen::Matrix<float, 3, Eigen::Dynamic> out(3, n);
    const Eigen::Matrix3f r = pose.rotation.cast<float>();
    const Eigen::Vector3f t = pose.translation.cast<float>();
    const float f = float(camera.focal), cx = float(camera.cx), cy = float(camera.cy);
    for (Eigen::Index i = 0; i < n; ++i) {
        const Eigen::Vector3f p = r * shape.segment<3>(3 * i) + t;
        out(0, i) = cx + f * p.x() / p.z();
        out(1, i) = cy + f * p.y() / p.z();
        out(2, i) = p.z();
    }
    return out;
}

LandmarkFitter::LandmarkFitter(const MorphableModel& model) : model_(model), contour_(ContourCandidates::build(model)) {}

std::array<int, 68> LandmarkFitter::silhouetteLandmarks(const Eigen::VectorXd& a, const Eigen::VectorXd& d,
                                                        const Pose& pose, const Camera& camera) const {
    const LandmarkModel lmModel{model_, int(a.size()), int(d.size())};
    std::array<int, 68> vertices = model_.landmarks;
    const Eigen::Vector3d axis = pose.rotation.col(0);  // model +x in camera space
    for (int j = 0; j < 17; ++j) {
        if (j == 8) continue;
        const double side = j < 8 ? -1.0 : 1.0;
        double best = -1e300;
        for (int v : contour_.vertices[std::size_t(j)]) {
            const Eigen::Vector3d pc = pose.apply(lmModel.vertex(v, a, d));
            const Eigen::Vector2d img = camera.project(pc);
            const Eigen::Vector2d h = (camera.project(pc + axis) - img).normalized();
            const double outward = side * h.dot(img);
            if (outward > best) best = outward, vertices[std::size_t(j)] = v;
        }
    }
    return vertices;
}

FaceFit LandmarkFitter::fit(const Landmarks68& landmarks, const Camera& camera, const FitOptions& options,
                            const std::array<bool, 68>* valid) const {
    const MorphableModel& model = model_;
    const int kId = model.identityCount(), kExp = model.expressionCount();
    const LandmarkModel lmModel{model, kId, kExp};
    const int nParams = 6 + kId + kExp;
    const double sigma = options.landmarkSigmaPx * camera.width / 512.0;
    // The jaw contour is annotated less precisely than the inner points (and the silhouette
    // is only approximated by mesh vertices): it counts with a doubled sigma.
    auto sigmaOf = [&](int i) { return i < 17 ? options.contourSigmaFactor * sigma : sigma; };

    FaceFit fit;
    fit.camera = camera;
    fit.landmarkVertices = model.landmarks;
    Eigen::VectorXd a = Eigen::VectorXd::Zero(kId), d = Eigen::VectorXd::Zero(kExp);
    std::array<double, 68> inlier;
    for (int i = 0; i < 68; ++i) inlier[std::size_t(i)] = (valid && !(*valid)[std::size_t(i)]) ? 0.0 : 1.0;

    // Initial pose: frontal, placed from the eye distance and the landmark centroid.
    {
        const double modelEye = (lmModel.vertex(model.landmarks[36], a, d) - lmModel.vertex(model.landmarks[45], a, d)).norm();
        const double imageEye = std::max(cv::norm(landmarks[36] - landmarks[45]), 1.0);
        const double z = camera.focal * modelEye / imageEye;
        Eigen::Vector2d c2(0, 0);
        Eigen::Vector3d c3(0, 0, 0);
        for (int i = 17; i < 68; ++i) {
            c2 += Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y);
            c3 += fit.pose.rotation * lmModel.vertex(model.landmarks[std::size_t(i)], a, d);
        }
        c2 /= 51;
        c3 /= 51;
        fit.pose.translation = Eigen::Vector3d((c2.x() - camera.cx) * z / camera.focal, (c2.y() - camera.cy) * z / camera.focal, z) - c3;
    }

    auto energyOf = [&](const Pose& pose, const Eigen::VectorXd& ai, const Eigen::VectorXd& di,
                        const std::array<double, 68>& w) {
        double e = options.identityPrior * ai.squaredNorm() + options.expressionPrior * di.squaredNorm();
        for (int i = 0; i < 68; ++i) {
            if (w[std::size_t(i)] <= 0) continue;
            const Eigen::Vector2d r = camera.project(pose.apply(lmModel.vertex(fit.landmarkVertices[std::size_t(i)], ai, di))) -
                                      Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y);
            e += w[std::size_t(i)] * r.squaredNorm() / (sigmaOf(i) * sigmaOf(i));
        }
        return e;
    };

    std::array<double, 68> weights = inlier;
    double lambda = 1e-3;
    for (int iter = 0; iter < options.iterations; ++iter) {
        const bool poseOnly = iter < 5;
        if (options.dynamicContour && iter >= 3) fit.landmarkVertices = silhouetteLandmarks(a, d, fit.pose, camera);
        // Robust (Cauchy) weights from the current residuals.
        for (int i = 0; i < 68; ++i) {
            if (inlier[std::size_t(i)] <= 0) continue;
            const Eigen::Vector2d r = camera.project(fit.pose.apply(lmModel.vertex(fit.landmarkVertices[std::size_t(i)], a, d))) -
                                      Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y);
            const double u = r.norm() / (options.robustScale * sigmaOf(i));
            weights[std::size_t(i)] = iter < 3 ? 1.0 : 1.0 / (1.0 + u * u);
        }

        // Normal equations J^T W J Δ = -J^T W r, with the priors.
        Eigen::MatrixXd jtj = Eigen::MatrixXd::Zero(nParams, nParams);
        Eigen::VectorXd jtr = Eigen::VectorXd::Zero(nParams);
        Eigen::Matrix<double, 2, Eigen::Dynamic> j(2, nParams);
        for (int i = 0; i < 68; ++i) {
            const double w = weights[std::size_t(i)];
            if (w <= 0) continue;
            const int v = fit.landmarkVertices[std::size_t(i)];
            const Eigen::Vector3d pm = lmModel.vertex(v, a, d);
            const Eigen::Vector3d pc = fit.pose.apply(pm);
            const double z = pc.z();
            Eigen::Matrix<double, 2, 3> dproj;
            dproj << camera.focal / z, 0, -camera.focal * pc.x() / (z * z), 0, camera.focal / z, -camera.focal * pc.y() / (z * z);
            j.setZero();
            j.block<2, 3>(0, 0) = dproj * (-skew(fit.pose.rotation * pm));
            j.block<2, 3>(0, 3) = dproj;
            if (!poseOnly) {
                const Eigen::Matrix<double, 2, 3> dr = dproj * fit.pose.rotation;
                j.block(0, 6, 2, kId) = dr * model.identityBasis.block(3 * v, 0, 3, kId).cast<double>();
                j.block(0, 6 + kId, 2, kExp) = dr * model.expressionBasis.block(3 * v, 0, 3, kExp).cast<double>();
            }
            const Eigen::Vector2d r = camera.project(pc) - Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y);
            const double s = w / (sigmaOf(i) * sigmaOf(i));
            jtj.noalias() += s * j.transpose() * j;
            jtr.noalias() += s * j.transpose() * r;
        }
        for (int k = 0; k < kId; ++k) {
            jtj(6 + k, 6 + k) += options.identityPrior;
            jtr(6 + k) += options.identityPrior * a(k);
        }
        for (int k = 0; k < kExp; ++k) {
            jtj(6 + kId + k, 6 + kId + k) += options.expressionPrior;
            jtr(6 + kId + k) += options.expressionPrior * d(k);
        }
        if (poseOnly) {  // keep shape fixed during the first rigid iterations
            for (int k = 6; k < nParams; ++k) {
                jtj.row(k).setZero();
                jtj.col(k).setZero();
                jtj(k, k) = 1;
                jtr(k) = 0;
            }
        }

        const double before = energyOf(fit.pose, a, d, weights);
        bool improved = false;
        for (int attempt = 0; attempt < 8 && !improved; ++attempt) {
            Eigen::MatrixXd damped = jtj;
            damped.diagonal() += lambda * (jtj.diagonal().array() + 1e-6).matrix();
            const Eigen::VectorXd step = -damped.ldlt().solve(jtr);
            Pose pose = fit.pose;
            pose.rotation = rotationFromVector(step.head<3>()) * fit.pose.rotation;
            pose.translation = fit.pose.translation + step.segment<3>(3);
            const Eigen::VectorXd an = a + step.segment(6, kId);
            const Eigen::VectorXd dn = (d + step.segment(6 + kId, kExp)).cwiseMax(0.0).cwiseMin(1.0);
            if (energyOf(pose, an, dn, weights) < before) {
                fit.pose = pose;
                a = an;
                d = dn;
                lambda = std::max(lambda * 0.3, 1e-7);
                improved = true;
            } else {
                lambda *= 10;
            }
        }
        if (!improved && iter > 8) break;
    }

    fit.identity = a.cast<float>();
    fit.expression = d.cast<float>();
    fit.landmarkWeights = weights;
    const auto predicted = fit.projectedLandmarks(model);
    fit.nmeInner = innerNme(predicted, landmarks);
    double sum = 0;
    int count = 0;
    for (int i = 0; i < 68; ++i) {
        if (inlier[std::size_t(i)] <= 0) continue;
        sum += (predicted[std::size_t(i)] - Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y)).squaredNorm();
        ++count;
    }
    fit.rmsPixels = std::sqrt(sum / std::max(count, 1));
    return fit;
}

}  // namespace ideu
