#include "morphable/face_model_context.h"

#include <opencv2/imgproc.hpp>

#include <mutex>

namespace ideu {
namespace {

std::vector<cv::Point> toPoints(const std::vector<cv::Point2f>& in) {
    std::vector<cv::Point> out;
    for (const auto& p : in) out.emplace_back(cvRound(p.x), cvRound(p.y));
    return out;
}

}  // namespace

const FaceModelContext& FaceModelContext::shared() {
    static std::once_flag once;
    static std::unique_ptr<FaceModelContext> context;
    std::call_once(once, [] { context = std::make_unique<FaceModelContext>(sharedFaceModel()); });
    return *context;
}

FaceModelContext::FaceModelContext(const MorphableModel& model, int uvSize) : model_(model), fitter_(model) {
    // UV atlas: rasterise the mesh in texture space.
    atlas_.size = uvSize;
    Eigen::Matrix<float, 3, Eigen::Dynamic> uvScreen(3, model.vertexCount);
    for (int i = 0; i < model.vertexCount; ++i) {
        const cv::Point2f p = uvToPixel(model.uv[std::size_t(i)]);
        uvScreen.col(i) << p.x, p.y, 1.f;
    }
    RasterInput input;
    input.screen = &uvScreen;
    input.triangles = &model.triangles;
    input.culling = Culling::None;
    rasterize(input, uvSize, uvSize, atlas_.texels);

    // The rendered face area: the jaw contour, widened sideways (a turned head shows the
    // cheek beyond the frontal contour) but not below the chin, up to the forehead (the
    // brows raised by 1.3x their height above the eyes).
    const cv::Point2f centre = (landmarkUv(30) + landmarkUv(27)) * 0.5f;
    std::vector<cv::Point2f> outline;
    for (int i = 0; i <= 16; ++i) {
        cv::Point2f p = landmarkUv(i);
        p.x = centre.x + (p.x - centre.x) * 1.1f;
        outline.push_back(p);
    }
    const float eyeY = (landmarkUv(37).y + landmarkUv(44).y) * 0.5f;
    for (int i = 26; i >= 17; --i) {
        cv::Point2f brow = landmarkUv(i);
        brow.y -= 1.3f * (eyeY - brow.y);
        brow.x = centre.x + (brow.x - centre.x) * 1.1f;
        outline.push_back(brow);
    }
    faceMask_ = cv::Mat::zeros(uvSize, uvSize, CV_8U);
    cv::fillPoly(faceMask_, std::vector<std::vector<cv::Point>>{toPoints(outline)}, cv::Scalar(255), cv::LINE_8);

    // Region labels. Brows: a band from just above the brow landmarks (which trace the
    // brow's upper edge) down towards the eye.
    regions_ = cv::Mat::zeros(uvSize, uvSize, CV_8U);
    regions_.setTo(kUvSkin, faceMask_);
    const float browHeight = 0.45f * (eyeY - (landmarkUv(19).y + landmarkUv(24).y) * 0.5f);
    auto browBand = [&](int first, std::uint8_t label) {
        std::vector<cv::Point2f> band;
        for (int i = first; i < first + 5; ++i) band.push_back(landmarkUv(i) + cv::Point2f(0, -0.25f * browHeight));
        for (int i = first + 4; i >= first; --i) band.push_back(landmarkUv(i) + cv::Point2f(0, browHeight));
        cv::fillPoly(regions_, std::vector<std::vector<cv::Point>>{toPoints(band)}, cv::Scalar(label));
    };
    browBand(17, kUvBrowRight);
    browBand(22, kUvBrowLeft);
    auto polygon = [&](std::initializer_list<int> ids, std::uint8_t label) {
        std::vector<cv::Point2f> pts;
        for (int i : ids) pts.push_back(landmarkUv(i));
        cv::fillPoly(regions_, std::vector<std::vector<cv::Point>>{toPoints(pts)}, cv::Scalar(label));
    };
    polygon({27, 31, 32, 33, 34, 35}, kUvNose);
    {  // nose wings: widen the base a little
        std::vector<cv::Point2f> pts;
        const cv::Point2f mid = landmarkUv(33);
        for (int i : {31, 32, 33, 34, 35}) pts.push_back(mid + (landmarkUv(i) - mid) * 1.35f);
        pts.push_back(landmarkUv(29));
        cv::fillPoly(regions_, std::vector<std::vector<cv::Point>>{toPoints(pts)}, cv::Scalar(kUvNose));
    }
    polygon({48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}, kUvLips);
    polygon({60, 61, 62, 63, 64, 65, 66, 67}, kUvMouth);
    polygon({36, 37, 38, 39, 40, 41}, kUvEyeRight);
    polygon({42, 43, 44, 45, 46, 47}, kUvEyeLeft);

    // Triangles whose centroid lies in the face area are rendered (tested against the outline
    // itself, so the set does not depend on the atlas's resolution).
    faceTriangles_.assign(model.triangles.size(), 0);
    for (std::size_t t = 0; t < model.triangles.size(); ++t) {
        cv::Point2f c(0, 0);
        for (int v : model.triangles[t]) c += uvToPixel(model.uv[std::size_t(v)]);
        c *= 1.f / 3.f;
        faceTriangles_[t] = cv::pointPolygonTest(outline, c, false) >= 0 ? 1 : 0;
    }
    {
        std::vector<std::uint8_t> used(std::size_t(model.vertexCount), 0);
        for (std::size_t t = 0; t < model.triangles.size(); ++t)
            if (faceTriangles_[t])
                for (int v : model.triangles[t]) used[std::size_t(v)] = 1;
        for (int v = 0; v < model.vertexCount; ++v)
            if (used[std::size_t(v)]) faceVertices_.push_back(v);
    }

    {
        const int rim = std::max(1, 16 * uvSize / 1024);  // atlas texels, about eight crop pixels
        const cv::Mat triangles(atlas_.texels.height, atlas_.texels.width, CV_32S, atlas_.texels.triangle.data());
        const cv::Mat openings = (triangles < 0) & faceMask_;
        cv::dilate(openings, openingRims_, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rim + 1, 2 * rim + 1)));
        openingRims_ &= faceMask_;
    }

    // Mirror partner of each vertex (the mesh is symmetric in x).
    mirror_.assign(std::size_t(model.vertexCount), -1);
    {
        std::vector<int> order(std::size_t(model.vertexCount));
        for (int i = 0; i < model.vertexCount; ++i) order[std::size_t(i)] = i;
        auto key = [&](int i) { return model.mean.segment<3>(3 * i); };
        std::sort(order.begin(), order.end(), [&](int a, int b) { return key(a).y() < key(b).y(); });
        for (int i = 0; i < model.vertexCount; ++i) {
            Eigen::Vector3f target = key(i);
            target.x() = -target.x();
            auto lo = std::lower_bound(order.begin(), order.end(), target.y() - 0.01f,
                                       [&](int v, float y) { return key(v).y() < y; });
            float best = 1e30f;
            for (auto it = lo; it != order.end() && key(*it).y() <= target.y() + 0.01f; ++it) {
                const float d = (key(*it) - target).squaredNorm();
                if (d < best) best = d, mirror_[std::size_t(i)] = *it;
            }
            if (mirror_[std::size_t(i)] < 0) mirror_[std::size_t(i)] = i;
        }
    }

    // A mode's displacement d is symmetric when each vertex's partner moves as its mirror
    // image, (−d.x, d.y, d.z); the antisymmetric share of its energy is |d − M d|² / 4 / |d|².
    for (int k = 0; k < model.identityCount(); ++k) {
        const auto d = model.identityBasis.col(k);
        double anti = 0, all = 0;
        for (int i = 0; i < model.vertexCount; ++i) {
            const Eigen::Vector3f a = d.segment<3>(3 * i);
            Eigen::Vector3f b = d.segment<3>(3 * mirror_[std::size_t(i)]);
            b.x() = -b.x();
            anti += 0.25 * double((a - b).squaredNorm());
            all += double(a.squaredNorm());
        }
        if (all > 0 && anti > 0.5 * all) antisymmetricIdentity_.push_back(k);
    }
}

}  // namespace ideu
