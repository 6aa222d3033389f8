#include "deid/fitted_face.h"

#include "common/profile.h"

#include "appearance/face_screening.h"
#include "common/error.h"
#include "deid/hole_fill.h"

#include <opencv2/imgproc.hpp>

#include <optional>
#include <utility>

namespace ideu {

FittedFace fitFaceShape(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection,
                        int cropSize) {
    FittedFace face;
    face.detection = detection;
    {
        ScopedStage stage("fit: align");
        face.crop = alignFace(photo, computeAlignment(detection.landmarks, cropSize));
    }
    for (int i = 0; i < 68; ++i)
        face.landmarks[std::size_t(i)] = toCrop(face.crop.alignment, detection.landmarks[std::size_t(i)]);
    {
        ScopedStage stage("fit: 3DMM landmark fit");
        face.fit = context.fitter().fit(face.landmarks, Camera::forCrop(cropSize));
    }
    face.fittedLandmarks = face.fit.projectedLandmarks(context.model());
    face.identity.shape = face.fit.identity;
    return face;
}

FittedFace addPhotoTexture(const FaceModelContext& context, FittedFace face) {
    const Camera& camera = face.fit.camera;
    const MorphableModel& model = context.model();
    std::optional<ScopedStage> sub(std::in_place, "fit: raster");
    const Eigen::VectorXf shape = model.shape(face.fit.identity, face.fit.expression);
    face.geometry = makeGeometry(context, shape, face.fit.pose, camera);
    rasterizeFace(context, face.geometry, camera, face.raster);
    face.faceArea = coverageMask(face.raster);
    sub.reset();
    sub.emplace("fit: lighting");
    face.lighting = estimateLighting(context, face.crop.image, face.crop.valid, face.geometry, face.raster, &face.skinColour);
    sub.reset();
    sub.emplace("fit: texture");
    face.texture = samplePhotoTexture(context, face.crop.image, face.crop.valid, face.geometry, face.raster, camera, face.lighting);
    return face;
}

FittedFace fitFaceGeometry(const FaceModelContext& context, const cv::Mat& photo, const DetectedFace& detection,
                           int cropSize) {
    return addPhotoTexture(context, fitFaceShape(context, photo, detection, cropSize));
}

FittedFace fitFace(const FaceModelContext& context, const AppearanceModel& model, const cv::Mat& photo,
                   const DetectedFace& detection, const std::optional<ApparentAttributes>& attributes, int cropSize) {
    return fitAppearanceCode(context, model, fitFaceGeometry(context, photo, detection, cropSize), attributes);
}

namespace {

// The texels the appearance code is fitted to: what the photo saw, less glasses frames. On a
// face the screen finds glasses on, a ring round each eye (its outline grown by 0.9 of its
// width sideways and half that up and down, in UV) is left out. Fitted to the frames, β and
// the broad field take them in as brows and sockets; X_f then shows them, the occluder test
// (what X has and X_f lacks) cannot find them, and X' loses them.
cv::Mat skinToFit(const FaceModelContext& context, const FittedFace& face) {
    if (!face.glasses) return face.texture.visibility;
    cv::Mat rims = cv::Mat::zeros(face.texture.visibility.size(), CV_8U);
    for (const auto& [first, last] : {std::pair{36, 41}, std::pair{42, 47}}) {
        std::vector<cv::Point> eye;
        for (int i = first; i <= last; ++i) eye.emplace_back(cv::Point(context.landmarkUv(i)));
        cv::Mat outline = cv::Mat::zeros(rims.size(), CV_8U);
        cv::fillConvexPoly(outline, eye, cv::Scalar(255));
        const int corner = first == 36 ? 39 : 45;  // the eye's other corner
        const int reach = std::abs(int(0.9 * (context.landmarkUv(corner).x - context.landmarkUv(first).x)));
        cv::dilate(outline, outline, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * reach + 1, reach + 1)));
        rims |= outline;
    }
    cv::Mat trust = face.texture.visibility.clone();
    trust.setTo(0, rims);
    return trust;
}

}  // namespace

FittedFace fitAppearanceCode(const FaceModelContext& context, const AppearanceModel& model, FittedFace face,
                             const std::optional<ApparentAttributes>& attributes) {
    {
        ScopedStage stage("fit: appearance code");
        face.glasses = wearsGlasses(face);
        face.appearance = fitAppearance(context, model, face.texture.albedo, skinToFit(context, face), attributes);
    }
    std::optional<ScopedStage> stage(std::in_place, "fit: X_f render");
    face.identity.albedo = face.appearance.code;
    // What was measured from the photo's texture is in the code now; the texture itself is not
    // rendered and not kept (about 30 MB a face). Its shading, which bounds re-shading, is kept
    // on the detail grid.
    cv::Mat shading;
    cv::resize(face.texture.shading, shading, cv::Size(model.detailUvSize, model.detailUvSize), 0, 0, cv::INTER_AREA);
    face.texture = PhotoTexture();
    face.texture.shading = shading;
    {
        ScopedStage part("fit: X_f render: PCA reconstruct");
        face.albedoValues = model.pca.reconstruct(face.appearance.code);
        const ApparentAttributes& apparent = face.appearance.attributes;
        face.identity.shapeAttributeShift = model.shapeAttributes.shiftTo(face.identity.shape, apparent.age, apparent.gender);
        face.identity.albedoAttributeShift = model.albedoAttributes.shiftTo(face.identity.albedo, apparent.age, apparent.gender) +
                                             model.areaShift(face.identity.albedo, face.appearance.peers);
        face.keptValues = model.keptValues(shiftedAlbedoCode(face.identity));
    }
    // X_f is drawn on the fit's own raster (the same mesh and camera), which it takes: nothing
    // after the fit needs the raster, and each face the editor keeps would hold it (5 MB).
    const FaceRender render = renderFace(context, face, face.geometry, face.fittedLandmarks,
                                         synthesizeAlbedo(context, model, face.appearance, face.albedoValues, 0.f, 0),
                                         std::exchange(face.raster, RasterBuffers{}));
    face.fittedImage = render.image;
    face.fittedMask = render.mask;
    stage.emplace("fit: head raster");
    face.headRaster = rasterizeHeadAtHalfResolution(context, face.geometry, face.fit.camera);
    return face;
}

namespace {

// Where one part of the mesh lies in front of another (the nose's wings over the cheeks, the
// chin over the neck) the raster draws a hard, aliased edge that no photo shows: the render is
// softened there by a pixel or so. Only the mesh's box is searched and only the edges' box
// blurred; the filters read the whole frame's pixels around them, so the result is the
// whole-frame computation's.
void softenDepthEdges(RenderedFace& render) {
    ScopedStage stage("render: soften depth edges");
    const RasterBuffers& r = render.raster;
    const cv::Size frame(r.width, r.height);
    // The mesh's box with room for every filter's reach (Sobel 1, erode 1, dilate 1, blur 5).
    const cv::Rect box = grownWithin(cv::boundingRect(render.mask), 8, frame);
    if (box.empty()) return;
    const cv::Mat depth = cv::Mat(frame, CV_32F, const_cast<float*>(r.depth.data()))(box);
    cv::Mat finite = render.mask(box) > 0, d = depth.clone(), gx, gy;
    d.setTo(0, ~finite);
    cv::Sobel(d, gx, CV_32F, 1, 0, 3);
    cv::Sobel(d, gy, CV_32F, 0, 1, 3);
    cv::Mat jump = ((cv::abs(gx) + cv::abs(gy)) > 2.f) & finite;  // centimetres over three pixels
    cv::erode(finite, finite, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    jump &= finite;  // the face's own outline is blended by Step II
    if (cv::countNonZero(jump) == 0) return;
    cv::dilate(jump, jump, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
    cv::Mat softBox;
    jump.convertTo(softBox, CV_32F, 1.0 / 255.0);
    // The blur of the edges reaches 4 pixels (sigma 1): only there does the render change.
    const cv::Rect edges = grownWithin(cv::boundingRect(jump), 4, box.size());
    cv::Mat soft, blurred;
    cv::GaussianBlur(softBox(edges), soft, cv::Size(0, 0), 1.0);
    const cv::Rect inFrame = edges + box.tl();
    cv::Mat image = render.image(inFrame);
    cv::GaussianBlur(image, blurred, cv::Size(0, 0), 1.2);
    cv::Mat soft3;
    cv::merge(std::vector<cv::Mat>{soft, soft, soft}, soft3);
    image += (blurred - image).mul(soft3);
    image.setTo(cv::Scalar::all(0), render.mask(inFrame) == 0);
}

}  // namespace

FaceRender renderFace(const FaceModelContext& context, const FittedFace& face, const FaceGeometry& geometry,
                      const std::array<Eigen::Vector2d, 68>& landmarks, const cv::Mat& albedo, RasterBuffers raster) {
    TextureMaps maps;
    maps.fittedShading = &face.texture.shading;
    RenderedFace render = renderTextured(context, geometry, face.fit.camera, albedo, face.lighting, maps, std::move(raster));
    softenDepthEdges(render);
    FaceRender out{render.image, render.mask};
    ScopedStage fillStage("render: eye and mouth openings");
    fillHolesFromCrop(face.crop.image, face.fittedLandmarks, landmarks, out.image, out.mask);
    return out;
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
    // The whole 3DMM fit (shape, expression, pose, albedo code, SH light) over the photo.
    const Camera camera = face.fit.camera;
    cv::Mat out;
    face.crop.image.convertTo(out, CV_32FC3);
    cv::Mat blended = out * 0.35 + face.fittedImage * 0.65;
    blended.copyTo(out, face.fittedMask);
    out.convertTo(out, CV_8UC3);
    // Every 16th mesh triangle of the face area, so the fit can be judged against the photo.
    const MorphableModel& model = context.model();
    const auto& screen = face.geometry.screen;
    RasterBuffers raster;  // the fit's, made again (fitFace does not keep it)
    rasterizeFace(context, face.geometry, camera, raster);
    for (std::size_t t = 0; t < model.triangles.size(); t += 16) {
        if (!context.faceTriangles()[t]) continue;
        const auto& tri = model.triangles[t];
        std::vector<cv::Point> pts;
        bool visible = true;
        for (int v : tri) {
            const int x = cvRound(screen(0, v)), y = cvRound(screen(1, v));
            if (x < 0 || y < 0 || x >= camera.width || y >= camera.height) { visible = false; break; }
            visible = visible && screen(2, v) <= raster.depth[raster.index(x, y)] + 0.3f;
            pts.emplace_back(x, y);
        }
        if (visible) cv::polylines(out, pts, true, cv::Scalar(210, 190, 90), 1, cv::LINE_AA);
    }
    return out;
}

cv::Mat onMidGrey(const cv::Mat& render, const cv::Mat& mask) {
    cv::Mat out(render.size(), CV_8UC3, cv::Scalar(128, 128, 128));
    cv::Mat image;
    render.convertTo(image, CV_8UC3);
    image.copyTo(out, mask);
    return out;
}

cv::Mat fittedRender(const FittedFace& face) { return onMidGrey(face.fittedImage, face.fittedMask); }

}  // namespace ideu
