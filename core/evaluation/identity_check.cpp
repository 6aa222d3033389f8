#include "evaluation/identity_check.h"

#include "recognition/face_recognizer.h"

namespace ideu {
namespace {

double overlap(const cv::Rect2d& a, const cv::Rect2d& b) {
    const double inter = (a & b).area();
    return inter / std::max(1e-9, a.area() + b.area() - inter);
}

}  // namespace

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
    const DetectedFace* best = nullptr;
    double bestOverlap = 0.3;
    for (const DetectedFace& f : found) {
        const double o = overlap(f.box + cv::Point2d(region.x, region.y), box);
        if (o > bestOverlap) bestOverlap = o, best = &f;
    }
    if (!best) return result;
    Landmarks68 landmarks = best->landmarks;
    for (auto& p : landmarks) p += cv::Point2d(region.x, region.y);
    cancel.check();
    const auto recognizer = FaceRecognizer::shared();
    result.detected = true;
    result.distance = descriptorDistance(recognizer->describe(pipeline.photo().bgr, original.landmarks),
                                         recognizer->describe(output, landmarks));
    result.match = result.distance < kMatchThreshold;
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
