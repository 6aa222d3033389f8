#pragma once
// Fits the morphable model to 68 2-D landmarks: perspective camera, rotation, translation,
// identity (Gaussian prior) and expression (weights bounded to [0,1]). Robust (Cauchy
// weights) to wrong landmarks; the jaw contour follows the silhouette as the head turns.
#include "face/face_detector.h"
#include "morphable/morphable_model.h"
#include "render/camera.h"

#include <array>
#include <functional>
#include <vector>

namespace ideu {

struct FitOptions {
    int iterations = 40;
    double landmarkSigmaPx = 2.5;   // expected landmark noise in a 512 px crop (scaled with the crop)
    double contourSigmaFactor = 2.0;  // jaw-contour landmarks are this much less certain
    double identityPrior = 1.0;     // weight of ||α||² (α ~ N(0,1)), relative to landmark sigmas
    double expressionPrior = 0.5;   // weight of ||δ||²
    double robustScale = 3.0;       // Cauchy scale, in landmark sigmas
    bool dynamicContour = true;
};

struct FaceFit {
    Camera camera;
    Pose pose;
    Eigen::VectorXf identity;    // α, one per identity component
    Eigen::VectorXf expression;  // δ in [0,1]
    std::array<int, 68> landmarkVertices{};  // model vertex matched to each landmark (jaw re-matched)
    std::array<double, 68> landmarkWeights{};  // final robust weights (0 = ignored)
    double nmeInner = 0;       // mean error of the 51 inner points / outer-eye-corner distance
    double rmsPixels = 0;      // all used landmarks

    // Projected positions of the matched landmark vertices.
    std::array<Eigen::Vector2d, 68> projectedLandmarks(const MorphableModel& model) const;
    // The same with each model-space landmark vertex moved by `move` before the projection.
    std::array<Eigen::Vector2d, 68> projectedLandmarks(const MorphableModel& model,
                                                       const std::function<Eigen::Vector3d(const Eigen::Vector3d&)>& move) const;
};

// Candidate vertices for each jaw landmark (0..16), computed once per model: the model
// vertices at the landmark's height on the same side that can become the silhouette.
struct ContourCandidates {
    std::array<std::vector<int>, 17> vertices;
    static ContourCandidates build(const MorphableModel& model);
};

class LandmarkFitter {
public:
    explicit LandmarkFitter(const MorphableModel& model);
    // `landmarks` are in the camera's image (the aligned crop). `valid` may mark landmarks
    // as missing. Deterministic and thread-safe.
    FaceFit fit(const Landmarks68& landmarks, const Camera& camera, const FitOptions& options = {},
                const std::array<bool, 68>* valid = nullptr) const;
    const MorphableModel& model() const { return model_; }
    // The model vertex each jaw landmark (0..16) sits on for this shape and pose: the
    // outermost candidate along the face's horizontal axis, i.e. the silhouette. Other
    // landmarks keep their fixed vertices.
    std::array<int, 68> silhouetteLandmarks(const Eigen::VectorXd& identity, const Eigen::VectorXd& expression,
                                            const Pose& pose, const Camera& camera) const;

private:
    // The model rows the fit reads (every landmark and jaw-candidate vertex), in double, identity
    // and expression side by side and row-major, so a vertex is mean + rows · [α; δ] (three dot
    // products) and all of them one matrix-vector product.
    struct FitRows {
        std::vector<int> slot;  // per model vertex: its place in the rows, or -1
        Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> basis;  // 3S x (K_id + K_exp)
        Eigen::VectorXd mean;   // 3S
    };
    static FitRows buildRows(const MorphableModel& model, const ContourCandidates& contour);
    std::array<int, 68> silhouetteFrom(const Eigen::VectorXd& positions, const Pose& pose, const Camera& camera) const;

    const MorphableModel& model_;
    ContourCandidates contour_;
    FitRows rows_;
};

// Normalised mean error over the 51 inner points (17..67) given predicted points.
double innerNme(const std::array<Eigen::Vector2d, 68>& predicted, const Landmarks68& truth);

// Projects every vertex of `shape` (3N) with the camera and pose: rows x, y, depth.
Eigen::Matrix<float, 3, Eigen::Dynamic> projectVertices(const Eigen::VectorXf& shape, const Pose& pose,
                                                        const Camera& camera);

}  // namespace ideu
