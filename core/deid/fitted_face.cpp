#include "deid/fitted_face.h"

#include "common/error.h"
#include "deid/hole_fill.h"

#include <opencv2/imgproc.hpp>

namespace ideu {

FittedFace fitFace(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection, int cropSize) {
    FittedFace face;
    face.detection = detection;
    face.crop = alignFace(photo, computeAlignment(detection.landmarks, cropSize));
    for (int i = 0; i < 68; ++i)
        face.landmarks[std::size_t(i)] = toCrop(face.crop.alignment, detection.landmarks[std::size_t(i)]);
    const Camera camera = Camera::forCrop(cropSize);
    face.fit = context.fitter().fit(face.landmarks, camera);
    const MorphableModel& model = context.model();
    const Eigen::VectorXf shape = model.shape(face.fit.identity, face.fit.expression);
    face.geometry = makeGeometry(context, shape, face.fit.pose, camera);
    rasterizeFace(context, face.geometry, camera, face.raster);
    face.faceArea = coverageMask(face.raster);
    face.lighting = estimateLighting(context, face.crop.image, face.crop.valid, face.geometry, face.raster, &face.skinColour);
    face.texture = samplePhotoTexture(context, face.crop.image, face.crop.valid, face.geometry, face.raster, camera, face.lighting);
    face.appearance = decomposeAppearance(context, face.texture.albedo, face.skinColour, face.texture.visibility);
    face.identity.shape = face.fit.identity;
    face.identity.appearance = Eigen::VectorXf::Zero(appearanceParameterCount());
    face.fittedLandmarks = face.fit.projectedLandmarks(model);
    return face;
}

cv::Mat landmarkOverlay(const FittedFace& face) {
    cv::Mat out = face.crop.image.clone();
    for (int i = 0; i < 68; ++i) {
        const auto& f = face.fittedLandmarks[std::size_t(i)];
        cv::circle(out, cv::Point(cvRound(f.x() * 4), cvRound(f.y() * 4)), 8, cv::Scalar(40, 40, 230), cv::FILLED, cv::LINE_AA, 2);
        const cv::Point2d& d = face.landmarks[std::size_t(i)];
        cv::circle(out, cv::Point(cvRound(d.x * 4), cvRound(d.y * 4)), 8, cv::Scalar(60, 220, 60), cv::FILLED, cv::LINE_AA, 2);
    }
    return out;
}

cv::Mat fitOverlay(const FaceModelContext& context, const FittedFace& face) {
    const Camera camera = face.fit.camera;
    const RenderedFace clay = renderShaded(context, face.geometry, camera, ambientSh(0.35f) + face.lighting * 0.65f);
    cv::Mat out;
    face.crop.image.convertTo(out, CV_32FC3);
    cv::Mat blended = out * 0.45 + clay.image * 0.55;
    blended.copyTo(out, clay.mask);
    out.convertTo(out, CV_8UC3);
    // Every 16th mesh triangle of the face area, so the fit can be judged against the photo.
    const MorphableModel& model = context.model();
    const auto& screen = face.geometry.screen;
    for (std::size_t t = 0; t < model.triangles.size(); t += 16) {
        if (!context.faceTriangles()[t]) continue;
        const auto& tri = model.triangles[t];
        std::vector<cv::Point> pts;
        bool visible = true;
        for (int v : tri) {
            const int x = cvRound(screen(0, v)), y = cvRound(screen(1, v));
            if (x < 0 || y < 0 || x >= camera.width || y >= camera.height) { visible = false; break; }
            visible = visible && screen(2, v) <= face.raster.depth[face.raster.index(x, y)] + 0.3f;
            pts.emplace_back(x, y);
        }
        if (visible) cv::polylines(out, pts, true, cv::Scalar(210, 190, 90), 1, cv::LINE_AA);
    }
    return out;
}

cv::Mat fittedRender(const FaceModelContext& context, const FittedFace& face) {
    const RenderedFace render = renderTextured(context, face.geometry, face.fit.camera, face.texture.albedo, face.lighting);
    cv::Mat image = render.image.clone();
    cv::Mat mask = render.mask.clone();
    fillHolesFromCrop(face.crop.image, face.fittedLandmarks, face.fittedLandmarks, image, mask);
    cv::Mat out(image.size(), CV_8UC3, cv::Scalar(128, 128, 128));
    image.convertTo(image, CV_8UC3);
    image.copyTo(out, mask);
    return out;
}

}  // namespace ideu
