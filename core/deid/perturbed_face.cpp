#include "deid/perturbed_face.h"

#include "appearance/appearance_edits.h"
#include "deid/hole_fill.h"

namespace ideu {

PerturbedFace perturbFace(const FaceModelContext& context, const FittedFace& face, double scale, std::uint64_t seed,
                          const NoiseSettings& settings) {
    PerturbedFace out;
    out.scale = scale;
    out.seed = seed;
    out.identity = perturbIdentity(face.identity, scale, seed, settings);
    const MorphableModel& model = context.model();
    const Eigen::VectorXf shape = model.shape(out.identity.shape, face.fit.expression);
    out.geometry = makeGeometry(context, shape, face.fit.pose, face.fit.camera);
    out.albedo = applyAppearanceEdits(context, face.appearance, out.identity);
    TextureMaps maps;
    maps.visibility = &face.texture.visibility;
    maps.fittedShading = &face.texture.shading;
    RenderedFace render = renderTextured(context, out.geometry, face.fit.camera, out.albedo, face.lighting, maps);
    FaceFit perturbedFit = face.fit;
    perturbedFit.identity = out.identity.shape;
    out.landmarks = perturbedFit.projectedLandmarks(model);
    out.image = render.image;
    out.mask = render.mask;
    out.visibility = render.visibility;
    const cv::Mat rendered = out.mask.clone();
    fillHolesFromCrop(face.crop.image, face.fittedLandmarks, out.landmarks, out.image, out.mask);
    out.visibility.setTo(1.0f, out.mask & ~rendered);  // the openings come straight from the photo
    return out;
}

cv::Mat perturbedRender(const PerturbedFace& perturbed) {
    cv::Mat out(perturbed.image.size(), CV_8UC3, cv::Scalar(128, 128, 128));
    cv::Mat image;
    perturbed.image.convertTo(image, CV_8UC3);
    image.copyTo(out, perturbed.mask);
    return out;
}

}  // namespace ideu
