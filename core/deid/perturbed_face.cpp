#include "deid/perturbed_face.h"

#include "common/profile.h"

#include <Eigen/QR>

#include <cmath>

namespace ideu {

PerturbedFace perturbFace(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                          double scale, std::uint64_t seed, const NoiseSettings& settings) {
    PerturbedFace out = perturbShape(context, model, face, scale, seed, settings);
    synthesizePerturbedAlbedo(context, model, face, out);
    renderPerturbed(context, face, out);
    return out;
}

NoiseConstraints identityNoiseConstraints(const FaceModelContext& context, const AppearanceModel& model) {
    NoiseConstraints constraints{Eigen::MatrixXf(), model.albedoKept, model.albedoNoiseOff, Eigen::VectorXf()};
    // The shape's attribute directions and the unit vectors of its antisymmetric modes,
    // orthonormalised (the directions were regressed on every mode).
    const Eigen::Index k = context.model().identityCount();
    const std::vector<int>& anti = context.antisymmetricIdentityModes();
    const Eigen::MatrixXf& attributes = model.shapeAttributes.directions;
    const Eigen::Index a = attributes.rows() == k ? attributes.cols() : 0;
    Eigen::MatrixXf off = Eigen::MatrixXf::Zero(k, Eigen::Index(anti.size()) + a);
    for (std::size_t i = 0; i < anti.size(); ++i) off(anti[i], Eigen::Index(i)) = 1;
    off.rightCols(a) = attributes.leftCols(a);
    if (off.cols() > 0) {
        const Eigen::HouseholderQR<Eigen::MatrixXf> qr(off);
        constraints.shape = qr.householderQ() * Eigen::MatrixXf::Identity(k, off.cols());
    }
    if (model.shapeMean.size() == k) constraints.shapeCentre = model.shapeMean;  // else the model's mean, 0
    return constraints;
}

PerturbedFace perturbShape(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                           double scale, std::uint64_t seed, const NoiseSettings& settings) {
    PerturbedFace out;
    out.scale = scale;
    out.seed = seed;
    {
        ScopedStage stage("noise");
        out.identity = perturbIdentity(face.identity, scale, seed, settings, identityNoiseConstraints(context, model));
    }
    const MorphableModel& shapeModel = context.model();
    {
        ScopedStage stage("shape");
        FaceFit perturbedFit = face.fit;
        perturbedFit.identity = out.identity.shape;
        Eigen::VectorXf shape = shapeModel.shape(out.identity.shape, face.fit.expression);
        const SizeAndPlace& kept = out.sizeAndPlace = sizeAndPlace(context, face.geometry.vertices, shape);
        for (Eigen::Index i = 0; i < shape.size(); i += 3) shape.segment<3>(i) = kept.apply(Eigen::Vector3f(shape.segment<3>(i)));
        out.landmarks = perturbedFit.projectedLandmarks(shapeModel, [&](const Eigen::Vector3d& v) { return kept.apply(v); });
        out.geometry = makeGeometry(context, shape, face.fit.pose, face.fit.camera);
    }
    return out;
}

SizeAndPlace sizeAndPlace(const FaceModelContext& context, const Eigen::VectorXf& fitted, const Eigen::VectorXf& perturbed) {
    // Both are meshes of the same model: a face reaches X_p only after its full fit.
    CV_Assert(fitted.size() == perturbed.size() && fitted.size() == 3 * context.model().vertexCount);
    SizeAndPlace out;
    const std::vector<int>& vertices = context.faceVertices();
    const auto centre = [&](const Eigen::VectorXf& shape) {
        Eigen::Vector3d sum = Eigen::Vector3d::Zero();
        for (int v : vertices) sum += shape.segment<3>(3 * v).cast<double>();
        return Eigen::Vector3f((sum / double(vertices.size())).cast<float>());
    };
    out.fittedCentre = centre(fitted);
    out.perturbedCentre = centre(perturbed);
    double spreadFitted = 0, spreadPerturbed = 0;
    for (int v : vertices) {
        spreadFitted += double((fitted.segment<3>(3 * v) - out.fittedCentre).squaredNorm());
        spreadPerturbed += double((perturbed.segment<3>(3 * v) - out.perturbedCentre).squaredNorm());
    }
    if (spreadPerturbed > 0) out.scaleChange = float(std::sqrt(spreadFitted / spreadPerturbed) - 1.0);
    return out;
}

namespace {

// β's model values, made at fit time; a face that lacks them gets them from its code into
// `made` (never the whole of β kept for want of its attribute part).
const Eigen::VectorXf& fittedAlbedoValues(const AppearanceModel& model, const FittedFace& face, Eigen::VectorXf& made) {
    if (face.albedoValues.size() == model.pca.mean.size()) return face.albedoValues;
    return made = model.pca.reconstruct(face.identity.albedo);
}

}  // namespace

Eigen::VectorXf perturbedAlbedoValues(const AppearanceModel& model, const FittedFace& face, const IdentityCode& perturbed) {
    Eigen::VectorXf madeCode, madeAttributes;  // only for a face without its fit-time values
    const Eigen::VectorXf& code = fittedAlbedoValues(model, face, madeCode);
    // keptCode is linear in β, so its values lie between β's and those of β's attribute part.
    const float w = perturbed.keptOnly;
    if (!(w > 0)) return model.pca.perturbedValues(code, perturbed.albedoNoise, perturbed.albedoScale);
    const Eigen::VectorXf& attributes = face.keptValues.size() == code.size()
                                            ? face.keptValues
                                            : (madeAttributes = model.keptValues(shiftedAlbedoCode(face.identity)));
    return model.pca.perturbedValues(code + w * (attributes - code), perturbed.albedoNoise, perturbed.albedoScale);
}

void keepInGalleryRange(const AppearanceModel& model, const Eigen::VectorXf& fitted, Eigen::VectorXf& values) {
    if (model.albedoLow.size() != values.size() || fitted.size() != values.size()) return;
    values = values.cwiseMax(model.albedoLow.cwiseMin(fitted)).cwiseMin(model.albedoHigh.cwiseMax(fitted));
}

void synthesizePerturbedAlbedo(const FaceModelContext& context, const AppearanceModel& model, const FittedFace& face,
                               PerturbedFace& out) {
    ScopedStage stage("albedo");
    Eigen::VectorXf values;
    {
        ScopedStage part("albedo: PCA reconstruct");
        values = perturbedAlbedoValues(model, face, out.identity);
        Eigen::VectorXf made;
        keepInGalleryRange(model, fittedAlbedoValues(model, face, made), values);
    }
    out.albedo = synthesizeAlbedo(context, model, face.appearance, values, out.identity.detailMix, out.identity.detailSeed,
                                  out.identity.keptOnly);
}

void renderPerturbed(const FaceModelContext& context, const FittedFace& face, PerturbedFace& out, RasterBuffers raster) {
    ScopedStage stage("render");
    const FaceRender render = renderFace(context, face, out.geometry, out.landmarks, out.albedo, std::move(raster));
    out.image = render.image;
    out.mask = render.mask;
}

cv::Mat perturbedRender(const PerturbedFace& perturbed) { return onMidGrey(perturbed.image, perturbed.mask); }

}  // namespace ideu
