#include "evaluation/identity_check.h"


namespace ideu {
IdentityCheck checkIdentity(DeidPipeline& pipeline, int face, const cv::Mat& output, const CancelToken& cancel) {
    IdentityCheck result;
    const DetectedFace& original = pipeline.faces(cancel).at(std::size_t(face));
    // Search a region twice the face's size around it: much faster than the whole photo.
    const cv::Rect2d& box = original.box;
    const cv::Rect region = cv::Rect(cv::Point(int(box.x - box.width), int(box.y - box.height)),
                                     cv::Point(int(box.x + 2 * box.width), int(box.y + 2 * box.height))) &
                            cv::Rect(0, 0, output.cols, output.rows);
    cancel.check();
    const auto found = FaceDetector::shared()->detect(output(region).clone()).faces;
    const DetectedFace* best = sameFace(found, box, 0.3, cv::Point2d(region.x, region.y));
    if (!best) return result;
    Landmarks68 landmarks = best->landmarks;
    for (auto& p : landmarks) p += cv::Point2d(region.x, region.y);
    const FaceIdentity before = pipeline.originalIdentity(face, cancel);
    cancel.check();
    result.detected = true;
    result.recognisers = compareIdentities(before, describeIdentity(output, landmarks));
    if (!result.recognisers.faceres.available) result.faceresUnavailable = faceresUnavailableReason();
    return result;
}

std::vector<SweepPoint> identitySweep(DeidPipeline& pipeline, int face, const DeidSettings& settings,
                                      const std::vector<double>& scales, const CancelToken& cancel,
                                      const std::function<void(const SweepPoint&)>& progress) {
    std::vector<SweepPoint> points;
    for (double scale : scales) {
        cancel.check();
        DeidSettings s = settings;
        s.scale = scale;
        const cv::Mat output = pipeline.compose({pipeline.processFace(face, s, cancel)});
        SweepPoint point{scale, checkIdentity(pipeline, face, output, cancel)};
        points.push_back(point);
        if (progress) progress(point);
    }
    return points;
}

}  // namespace ideu
