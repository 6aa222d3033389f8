#include "evaluation/identity_check.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

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
    // A face larger than the detectors need is searched for on the region scaled down, and
    // its landmarks are then placed on the output itself (as detect does on what it is
    // given): on a 12-MP photo the full-size search took seconds and hundreds of MB.
    const double shrink = std::min(1.0, kCheckFaceSide / std::max(box.width, box.height));
    cv::Mat searched;
    if (shrink < 1) cv::resize(output(region), searched, cv::Size(), shrink, shrink, cv::INTER_AREA);
    else searched = output(region).clone();
    std::vector<DetectedFace> found = FaceDetector::shared()->detect(searched).faces;
    for (DetectedFace& f : found)
        f.box = cv::Rect2d(f.box.x / shrink + region.x, f.box.y / shrink + region.y, f.box.width / shrink, f.box.height / shrink);
    const DetectedFace* best = sameFace(found, box, 0.3);
    if (!best) return result;
    Landmarks68 landmarks;
    if (shrink < 1) {
        landmarks = FaceDetector::shared()->landmarks(output, best->box);
    } else {
        landmarks = best->landmarks;
        for (auto& p : landmarks) p += cv::Point2d(region.x, region.y);
    }
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
