#include "fitting/landmark_fitter.h"

#include "common/parallel.h"

#include <cblas.h>

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
    return projectedLandmarks(model, [](const Eigen::Vector3d& v) { return v; });
}

std::array<Eigen::Vector2d, 68> FaceFit::projectedLandmarks(
    const MorphableModel& model, const std::function<Eigen::Vector3d(const Eigen::Vector3d&)>& move) const {
    std::array<Eigen::Vector2d, 68> out;
    const LandmarkModel lm{model, int(identity.size()), int(expression.size())};
    const Eigen::VectorXd a = identity.cast<double>(), d = expression.cast<double>();
    for (int i = 0; i < 68; ++i)
        out[std::size_t(i)] = camera.project(pose.apply(move(lm.vertex(landmarkVertices[std::size_t(i)], a, d))));
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

LandmarkFitter::LandmarkFitter(const MorphableModel& model)
    : model_(model), contour_(ContourCandidates::build(model)), rows_(buildRows(model, contour_)) {}

LandmarkFitter::FitRows LandmarkFitter::buildRows(const MorphableModel& model, const ContourCandidates& contour) {
    FitRows rows;
    rows.slot.assign(std::size_t(model.vertexCount), -1);
    std::vector<int> vertices;
    auto add = [&](int v) {
        if (rows.slot[std::size_t(v)] >= 0) return;
        rows.slot[std::size_t(v)] = int(vertices.size());
        vertices.push_back(v);
    };
    for (int v : model.landmarks) add(v);
    for (const auto& candidates : contour.vertices)
        for (int v : candidates) add(v);
    const int kId = model.identityCount(), kExp = model.expressionCount();
    rows.basis.resize(3 * Eigen::Index(vertices.size()), kId + kExp);
    rows.mean.resize(3 * Eigen::Index(vertices.size()));
    for (std::size_t s = 0; s < vertices.size(); ++s) {
        const Eigen::Index v = vertices[s], r = 3 * Eigen::Index(s);
        rows.basis.block(r, 0, 3, kId) = model.identityBasis.block(3 * v, 0, 3, kId).cast<double>();
        rows.basis.block(r, kId, 3, kExp) = model.expressionBasis.block(3 * v, 0, 3, kExp).cast<double>();
        rows.mean.segment<3>(r) = model.mean.segment<3>(3 * v).cast<double>();
    }
    return rows;
}

std::array<int, 68> LandmarkFitter::silhouetteFrom(const Eigen::VectorXd& positions, const Pose& pose,
                                                   const Camera& camera) const {
    std::array<int, 68> vertices = model_.landmarks;
    const Eigen::Vector3d axis = pose.rotation.col(0);  // model +x in camera space
    for (int j = 0; j < 17; ++j) {
        if (j == 8) continue;
        const double side = j < 8 ? -1.0 : 1.0;
        double best = -1e300;
        for (int v : contour_.vertices[std::size_t(j)]) {
            const Eigen::Vector3d pc = pose.apply(positions.segment<3>(3 * Eigen::Index(rows_.slot[std::size_t(v)])));
            const Eigen::Vector2d img = camera.project(pc);
            const Eigen::Vector2d h = (camera.project(pc + axis) - img).normalized();
            const double outward = side * h.dot(img);
            if (outward > best) best = outward, vertices[std::size_t(j)] = v;
        }
    }
    return vertices;
}

std::array<int, 68> LandmarkFitter::silhouetteLandmarks(const Eigen::VectorXd& a, const Eigen::VectorXd& d,
                                                        const Pose& pose, const Camera& camera) const {
    Eigen::VectorXd coefficients(a.size() + d.size());
    coefficients << a, d;
    const Eigen::VectorXd positions = rows_.mean + rows_.basis * coefficients;
    return silhouetteFrom(positions, pose, camera);
}

FaceFit LandmarkFitter::fit(const Landmarks68& landmarks, const Camera& camera, const FitOptions& options,
                            const std::array<bool, 68>* valid) const {
    const MorphableModel& model = model_;
    const int kId = model.identityCount(), kExp = model.expressionCount(), kCoef = kId + kExp;
    const int nParams = 6 + kCoef;
    const double sigma = options.landmarkSigmaPx * camera.width / 512.0;
    // The jaw contour is annotated less precisely than the inner points (and the silhouette
    // is only approximated by mesh vertices): it counts with a doubled sigma.
    auto sigmaOf = [&](int i) { return i < 17 ? options.contourSigmaFactor * sigma : sigma; };
    auto target = [&](int i) { return Eigen::Vector2d(landmarks[std::size_t(i)].x, landmarks[std::size_t(i)].y); };
    // One model vertex for coefficients [α; δ].
    auto vertexOf = [&](const Eigen::VectorXd& coefficients, int v) -> Eigen::Vector3d {
        const Eigen::Index r = 3 * Eigen::Index(rows_.slot[std::size_t(v)]);
        return rows_.mean.segment<3>(r) + rows_.basis.middleRows<3>(r) * coefficients;
    };

    FaceFit fit;
    fit.camera = camera;
    fit.landmarkVertices = model.landmarks;
    Eigen::VectorXd c = Eigen::VectorXd::Zero(kCoef);  // [α; δ]
    std::array<double, 68> inlier;
    for (int i = 0; i < 68; ++i) inlier[std::size_t(i)] = (valid && !(*valid)[std::size_t(i)]) ? 0.0 : 1.0;

    // Initial pose: frontal, placed from the eye distance and the landmark centroid.
    {
        const double modelEye = (vertexOf(c, model.landmarks[36]) - vertexOf(c, model.landmarks[45])).norm();
        const double imageEye = std::max(cv::norm(landmarks[36] - landmarks[45]), 1.0);
        const double z = camera.focal * modelEye / imageEye;
        Eigen::Vector2d c2(0, 0);
        Eigen::Vector3d c3(0, 0, 0);
        for (int i = 17; i < 68; ++i) {
            c2 += target(i);
            c3 += fit.pose.rotation * vertexOf(c, model.landmarks[std::size_t(i)]);
        }
        c2 /= 51;
        c3 /= 51;
        fit.pose.translation = Eigen::Vector3d((c2.x() - camera.cx) * z / camera.focal, (c2.y() - camera.cy) * z / camera.focal, z) - c3;
    }

    auto energyOf = [&](const Pose& pose, const Eigen::VectorXd& ci, const std::array<double, 68>& w) {
        double e = options.identityPrior * ci.head(kId).squaredNorm() + options.expressionPrior * ci.tail(kExp).squaredNorm();
        for (int i = 0; i < 68; ++i) {
            if (w[std::size_t(i)] <= 0) continue;
            const Eigen::Vector2d r = camera.project(pose.apply(vertexOf(ci, fit.landmarkVertices[std::size_t(i)]))) - target(i);
            e += w[std::size_t(i)] * r.squaredNorm() / (sigmaOf(i) * sigmaOf(i));
        }
        return e;
    };

    std::array<double, 68> weights = inlier;
    double lambda = 1e-3;
    Eigen::VectorXd positions;  // every fit vertex in model space, for the current coefficients
    // The whitened Jacobian (two rows a landmark, each scaled by sqrt(weight)/sigma) and residuals:
    // the normal equations are one product J^T J instead of a rank-2 update per landmark.
    Eigen::MatrixXd jacobian(136, nParams);
    Eigen::VectorXd residuals(136);
    Eigen::MatrixXd jtj(nParams, nParams);
    Eigen::VectorXd jtr(nParams);
    for (int iter = 0; iter < options.iterations; ++iter) {
        const bool poseOnly = iter < 5;
        positions.noalias() = rows_.basis * c;
        positions += rows_.mean;
        auto modelPoint = [&](int v) -> Eigen::Vector3d {
            return positions.segment<3>(3 * Eigen::Index(rows_.slot[std::size_t(v)]));
        };
        if (options.dynamicContour && iter >= 3) fit.landmarkVertices = silhouetteFrom(positions, fit.pose, camera);
        // Robust (Cauchy) weights from the current residuals.
        for (int i = 0; i < 68; ++i) {
            if (inlier[std::size_t(i)] <= 0) continue;
            const Eigen::Vector2d r = camera.project(fit.pose.apply(modelPoint(fit.landmarkVertices[std::size_t(i)]))) - target(i);
            const double u = r.norm() / (options.robustScale * sigmaOf(i));
            weights[std::size_t(i)] = iter < 3 ? 1.0 : 1.0 / (1.0 + u * u);
        }

        // Normal equations J^T W J Δ = -J^T W r, with the priors.
        jacobian.setZero();
        residuals.setZero();
        for (int i = 0; i < 68; ++i) {
            const double w = weights[std::size_t(i)];
            if (w <= 0) continue;
            const int v = fit.landmarkVertices[std::size_t(i)];
            const Eigen::Vector3d pm = modelPoint(v);
            const Eigen::Vector3d pc = fit.pose.apply(pm);
            const double z = pc.z();
            const double whiten = std::sqrt(w) / sigmaOf(i);
            Eigen::Matrix<double, 2, 3> dproj;
            dproj << camera.focal / z, 0, -camera.focal * pc.x() / (z * z), 0, camera.focal / z, -camera.focal * pc.y() / (z * z);
            dproj *= whiten;
            auto j = jacobian.middleRows<2>(2 * i);
            j.leftCols<3>() = dproj * (-skew(fit.pose.rotation * pm));
            j.middleCols<3>(3) = dproj;
            if (!poseOnly) {
                const Eigen::Matrix<double, 2, 3> dr = dproj * fit.pose.rotation;
                j.rightCols(kCoef).noalias() = dr * rows_.basis.middleRows<3>(3 * Eigen::Index(rows_.slot[std::size_t(v)]));
            }
            residuals.segment<2>(2 * i) = whiten * (camera.project(pc) - target(i));
        }
        // Symmetric: the lower half from one rank update (BLAS, whose kernels suit the CPU),
        // then mirrored.
        jtj.setZero();
        {
            const SingleOpenMpThread single;  // too small to split
            const int rows = int(jacobian.rows()), cols = poseOnly ? 6 : int(nParams);
            cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, cols, rows, 1.0, jacobian.data(), rows, 0.0, jtj.data(),
                        int(jtj.rows()));
            cblas_dgemv(CblasColMajor, CblasTrans, rows, int(nParams), 1.0, jacobian.data(), rows, residuals.data(), 1, 0.0,
                        jtr.data(), 1);
        }
        jtj.triangularView<Eigen::StrictlyUpper>() = jtj.transpose();
        for (int k = 0; k < kCoef; ++k) {
            const double prior = k < kId ? options.identityPrior : options.expressionPrior;
            jtj(6 + k, 6 + k) += prior;
            jtr(6 + k) += prior * c(k);
        }
        if (poseOnly) {  // keep shape fixed during the first rigid iterations
            for (int k = 6; k < nParams; ++k) {
                jtj.row(k).setZero();
                jtj.col(k).setZero();
                jtj(k, k) = 1;
                jtr(k) = 0;
            }
        }

        const double before = energyOf(fit.pose, c, weights);
        bool improved = false;
        for (int attempt = 0; attempt < 8 && !improved; ++attempt) {
            Eigen::MatrixXd damped = jtj;
            damped.diagonal() += lambda * (jtj.diagonal().array() + 1e-6).matrix();
            const Eigen::VectorXd step = -damped.llt().solve(jtr);
            Pose pose = fit.pose;
            pose.rotation = rotationFromVector(step.head<3>()) * fit.pose.rotation;
            pose.translation = fit.pose.translation + step.segment<3>(3);
            Eigen::VectorXd cn = c + step.tail(kCoef);
            cn.tail(kExp) = cn.tail(kExp).cwiseMax(0.0).cwiseMin(1.0);
            if (energyOf(pose, cn, weights) < before) {
                fit.pose = pose;
                c = cn;
                lambda = std::max(lambda * 0.3, 1e-7);
                improved = true;
            } else {
                lambda *= 10;
            }
        }
        if (!improved && iter > 8) break;
    }

    fit.identity = c.head(kId).cast<float>();
    fit.expression = c.tail(kExp).cast<float>();
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
