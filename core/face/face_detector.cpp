#include "face/face_detector.h"

#include "common/parallel.h"
#include "common/profile.h"
#include "common/error.h"
#include "face/hog_scan.h"
#include "face/ssd_detector.h"
#include "models/model_store.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <utility>

namespace ideu {

struct FaceDetector::Impl {
    dlib::shape_predictor predictor;  // const use is thread-safe
    // Read only (scanHogPyramid keeps its scratch state to itself): shared by every thread.
    const dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
};

std::shared_ptr<const FaceDetector> FaceDetector::shared() {
    static std::mutex mutex;
    static std::shared_ptr<const FaceDetector> instance;
    std::lock_guard<std::mutex> lock(mutex);
    if (!instance) instance = std::make_shared<FaceDetector>(ModelStore::instance().require("dlib-landmarks-68"));
    return instance;
}

FaceDetector::FaceDetector(const std::string& landmarkModelPath) : impl_(std::make_unique<Impl>()) {
    try {
        dlib::deserialize(landmarkModelPath) >> impl_->predictor;
    } catch (const std::exception& e) {
        throw ModelError("cannot load landmark model '" + landmarkModelPath + "': " + e.what());
    }
    if (impl_->predictor.num_parts() != 68)
        throw ModelError("landmark model '" + landmarkModelPath + "' does not have 68 points");
}

FaceDetector::~FaceDetector() = default;

Landmarks68 FaceDetector::landmarks(const cv::Mat& bgr, const cv::Rect2d& box) const {
    CV_Assert(bgr.type() == CV_8UC3);
    const dlib::cv_image<dlib::bgr_pixel> image(bgr);
    const dlib::rectangle rect(long(std::lround(box.x)), long(std::lround(box.y)),
                               long(std::lround(box.x + box.width - 1)), long(std::lround(box.y + box.height - 1)));
    const dlib::full_object_detection shape = impl_->predictor(image, rect);
    Landmarks68 points;
    for (int i = 0; i < 68; ++i) points[i] = cv::Point2d(double(shape.part(i).x()), double(shape.part(i).y()));
    return points;
}

namespace {

struct Candidate {
    cv::Rect2d box;
    double score = 0;
};

double intersectionOverUnion(const cv::Rect2d& a, const cv::Rect2d& b) {
    const double inter = (a & b).area();
    return inter / std::max(1e-9, a.area() + b.area() - inter);
}

// How much of the smaller box the larger one covers (the detectors frame faces differently).
double overlapOfSmaller(const cv::Rect2d& a, const cv::Rect2d& b) {
    return (a & b).area() / std::max(1e-9, std::min(a.area(), b.area()));
}

// Greedy suppression: the strongest of boxes overlapping by more than `iou` is kept.
std::vector<Candidate> suppress(std::vector<Candidate> c, double iou) {
    std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    std::vector<Candidate> kept;
    for (const Candidate& x : c) {
        bool overlaps = false;
        for (const Candidate& k : kept) overlaps = overlaps || intersectionOverUnion(x.box, k.box) > iou;
        if (!overlaps) kept.push_back(x);
    }
    return kept;
}

// Square tiles of side `tile` covering `size`, overlapping by at least `overlap`.
bool isColourPhoto(const cv::Mat& bgr) {
    cv::Mat small, ycrcb;
    cv::resize(bgr, small, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
    cv::cvtColor(small, ycrcb, cv::COLOR_BGR2YCrCb);
    const cv::Scalar m = cv::mean(cv::abs(cv::Mat(ycrcb - cv::Scalar(0, 128, 128))));
    return m[1] + m[2] > 4;
}

// Share of the central part of a face box in the classic skin range of YCrCb (Cr 133-173,
// Cb 77-127), which holds light to dark skin under usual light.
double skinShare(const cv::Mat& bgr, const cv::Rect2d& box) {
    const cv::Rect inner = cv::Rect(cv::Point(int(box.x + 0.2 * box.width), int(box.y + 0.3 * box.height)),
                                    cv::Point(int(box.x + 0.8 * box.width), int(box.y + 0.8 * box.height))) &
                           cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (inner.area() == 0) return 0;
    cv::Mat ycrcb, skin;
    cv::cvtColor(bgr(inner), ycrcb, cv::COLOR_BGR2YCrCb);
    cv::inRange(ycrcb, cv::Scalar(0, 133, 77), cv::Scalar(255, 173, 127), skin);
    return double(cv::countNonZero(skin)) / inner.area();
}

std::vector<cv::Rect> tiles(const cv::Size& size, int tile, int overlap) {
    std::vector<cv::Rect> out;
    auto starts = [&](int length) {
        std::vector<int> s;
        if (length <= tile) return std::vector<int>{0};
        const int step = std::max(1, tile - overlap);
        const int n = (length - tile + step - 1) / step + 1;
        for (int i = 0; i < n; ++i) s.push_back(std::min(i * step, length - tile));
        return s;
    };
    for (int y : starts(size.height))
        for (int x : starts(size.width)) out.push_back(cv::Rect(x, y, tile, tile) & cv::Rect(cv::Point(0, 0), size));
    return out;
}

}  // namespace

cv::Rect2d FaceDetector::hogBoxFromSsd(const cv::Rect2d& b) {
    // Medians over the 32 faces of the developer set both detectors find whole
    // (ideudemon-bench detect --scores): the HOG box is a square of 0.82 of the SSD box's
    // height (sd 0.11), its centre 0.02 of the width right and 0.07 of the height below.
    const double side = 0.82 * b.height;
    const double cx = b.x + 0.52 * b.width, cy = b.y + 0.57 * b.height;
    return {cx - side / 2, cy - side / 2, side, side};
}

DetectionResult FaceDetector::detect(const cv::Mat& bgr, const DetectionOptions& options) const {
    CV_Assert(bgr.type() == CV_8UC3);
    DetectionResult result;
    const double pixels = double(bgr.total());
    const double fine = 80.0 / std::max(options.minFaceSize, 1.0);
    result.workScale = fine;
    result.minFaceSize = 80.0 / fine;

    // SSD: the whole photo with a black border (it looks for faces with some context around
    // them, so close-ups need one), then 1024-px tiles for the smaller faces of large photos.
    // It runs beside the HOG passes (on the second core when there is one): they keep to one.
    struct SsdFound {
        std::vector<Candidate> candidates;
        int passes = 0;
    };
    auto ssdPasses = [&bgr, &options] {
        SsdFound found;
        std::vector<Candidate>& ssd = found.candidates;
        ScopedStage stage("detect: SSD passes (beside the HOG passes)");
        const auto net = SsdFaceDetector::shared();
        const double minScore = std::min(options.ssdConfirm, options.ssdAlone);
        const int border = std::max(bgr.cols, bgr.rows) / 4;
        cv::Mat bordered;
        cv::copyMakeBorder(bgr, bordered, border, border, border, border, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        for (const SsdDetection& d : net->detect(bordered, minScore))
            ssd.push_back({d.box - cv::Point2d(border, border), d.score});
        ++found.passes;
        constexpr int kSsdTile = 1024;
        if (std::max(bgr.cols, bgr.rows) > kSsdTile * 5 / 4)
            for (const cv::Rect& t : tiles(bgr.size(), kSsdTile, kSsdTile / 4)) {
                for (const SsdDetection& d : net->detect(bgr(t), minScore))
                    ssd.push_back({d.box + cv::Point2d(t.x, t.y), d.score});
                ++found.passes;
            }
        ssd = suppress(ssd, 0.5);
        return found;
    };
    BesideResult<SsdFound> ssdLater;
    if (options.useSsd) ssdLater = startBeside(ssdPasses);

    // HOG: one pass at the scale the minimum face needs, or a coarse pass for the large faces
    // and overlapping tiles at that scale for the small ones.
    std::vector<Candidate> hog;
    auto hogPass = [&](const cv::Rect& region, double scale, std::vector<Candidate>& into) {
        ScopedStage stage("detect: HOG passes");
        // Colour HOG: grey is only ~15 % faster and loses the weakest face of the developer set.
        cv::Mat work = bgr(region);
        if (std::abs(scale - 1.0) > 1e-3)
            cv::resize(bgr(region), work, cv::Size(), scale, scale, scale > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
        const std::vector<dlib::rect_detection> detections =
            scanHogPyramid(impl_->detector, work, options.threshold, [&] { return !ssdLater.valid() || ssdLater.ready(); });
        for (const dlib::rect_detection& d : detections)
            into.push_back({cv::Rect2d(region.x + d.rect.left() / scale, region.y + d.rect.top() / scale, d.rect.width() / scale,
                                       d.rect.height() / scale),
                            d.detection_confidence});
        ++result.hogPasses;
    };
    const cv::Rect whole(0, 0, bgr.cols, bgr.rows);
    if (pixels * fine * fine <= options.maxWorkPixels) {
        hogPass(whole, fine, hog);
    } else {
        const double coarse = std::sqrt(options.maxWorkPixels / pixels);
        hogPass(whole, coarse, hog);
        // A tile must hold every face smaller than the coarse pass finds.
        const int tile = int(std::sqrt(options.maxWorkPixels) / fine);
        const int overlap = std::min(tile / 2, int(std::ceil(1.25 * 80.0 / coarse)));
        for (const cv::Rect& t : tiles(bgr.size(), tile, overlap)) hogPass(t, fine, hog);
    }
    hog = suppress(hog, 0.4);

    std::vector<Candidate> ssd;
    if (ssdLater.valid()) {
        SsdFound found = ssdLater.get();
        ssd = std::move(found.candidates);
        result.ssdPasses = found.passes;
    }

    // Decide: a HOG candidate needs a strong score or the SSD's confirmation; a face only the
    // SSD sees (turned beyond the HOG detector's range) needs a strong SSD score.
    // A weak candidate in a colour photo must also show skin (the README's sample has a mission
    // patch that both detectors give about the scores of the weakest real faces of the set, all
    // of them in grey photos).
    const bool colour = isColourPhoto(bgr);
    std::vector<char> ssdUsed(ssd.size(), 0);
    for (const Candidate& h : hog) {
        double confirm = 0;
        for (std::size_t j = 0; j < ssd.size(); ++j)
            if (overlapOfSmaller(h.box, ssd[j].box) > 0.5 && ssd[j].box.area() > 0.25 * h.box.area() &&
                ssd[j].box.area() < 4 * h.box.area()) {  // the same face, not a face inside a larger false box
                confirm = std::max(confirm, ssd[j].score);
                ssdUsed[j] = 1;  // the same face: not a second, turned one
            }
        const bool strong = h.score >= options.hogAlone || confirm >= options.ssdConfirm;
        const double skin = colour && !strong ? skinShare(bgr, h.box) : 1.0;
        if (strong || skin >= 0.3) {
            DetectedFace face;
            face.box = h.box;
            face.score = h.score;
            face.ssdScore = confirm;
            result.faces.push_back(face);
        } else {
            char why[192];
            std::snprintf(why, sizeof why, "not a face: HOG score %.2f, SSD score %.2f (a face needs %.2f or %.2f) and only %.0f %% skin colour",
                          h.score, confirm, options.hogAlone, options.ssdConfirm, 100 * skin);
            result.rejected.push_back({h.box, h.score, confirm, why});
        }
    }
    for (std::size_t j = 0; j < ssd.size(); ++j) {
        if (ssdUsed[j]) continue;
        // A weak SSD-only candidate in a colour photo must show skin too, as a weak HOG one.
        const bool weak = ssd[j].score < std::max(options.ssdAlone, 0.6);
        const double skin = colour && weak ? skinShare(bgr, hogBoxFromSsd(ssd[j].box)) : 1.0;
        if (ssd[j].score >= options.ssdAlone && skin >= 0.3) {
            DetectedFace face;
            face.box = hogBoxFromSsd(ssd[j].box);
            face.ssdScore = ssd[j].score;
            face.turned = true;
            // The SSD also finds frontal faces below the HOG pass's minimum: look again around
            // this one with the face at about 100 px; a frontal face is then not "turned".
            {
                const cv::Rect2d& g = face.box;
                const cv::Rect region = cv::Rect(cv::Rect2d(g.x - g.width, g.y - g.height, 3 * g.width, 3 * g.height)) & whole;
                std::vector<Candidate> local;
                if (region.area() > 0) hogPass(region, std::clamp(100.0 / g.width, 0.1, 4.0), local);
                for (const Candidate& c : local)
                    if (overlapOfSmaller(c.box, g) > 0.5 && c.score > face.score) {
                        face.box = c.box;
                        face.score = c.score;
                        face.turned = false;
                    }
            }
            result.faces.push_back(face);
        } else if (ssd[j].box.width >= options.minFaceSize) {
            char why[160];
            if (ssd[j].score >= options.ssdAlone)
                std::snprintf(why, sizeof why, "not a face: SSD score %.2f with no HOG detection and only %.0f %% skin colour",
                              ssd[j].score, 100 * skin);
            else
                std::snprintf(why, sizeof why, "not a face: SSD score %.2f below %.2f and no HOG detection", ssd[j].score,
                              options.ssdAlone);
            result.rejected.push_back({ssd[j].box, 0, ssd[j].score, why});
        }
    }
    {
        ScopedStage stage("detect: landmarks");
        for (DetectedFace& face : result.faces) face.landmarks = landmarks(bgr, face.box);
    }
    std::stable_sort(result.faces.begin(), result.faces.end(),
                     [](const DetectedFace& a, const DetectedFace& b) { return a.box.area() > b.box.area(); });
    return result;
}

const DetectedFace* sameFace(const std::vector<DetectedFace>& faces, const cv::Rect2d& box, double minOverlap,
                             cv::Point2d offset) {
    const DetectedFace* best = nullptr;
    for (const DetectedFace& f : faces) {
        const cv::Rect2d shifted = f.box + offset;
        const double inter = (shifted & box).area();
        const double iou = inter / std::max(1e-9, shifted.area() + box.area() - inter);
        if (iou > minOverlap) minOverlap = iou, best = &f;
    }
    return best;
}

namespace lm {
namespace {
cv::Point2d mean(const Landmarks68& p, int begin, int end) {
    cv::Point2d sum(0, 0);
    for (int i = begin; i < end; ++i) sum += p[i];
    return sum / double(end - begin);
}
}  // namespace
cv::Point2d rightEyeCentre(const Landmarks68& p) { return mean(p, kRightEyeBegin, kRightEyeBegin + 6); }
cv::Point2d leftEyeCentre(const Landmarks68& p) { return mean(p, kLeftEyeBegin, kLeftEyeBegin + 6); }
double interOcular(const Landmarks68& p) { return cv::norm(p[36] - p[45]); }
}  // namespace lm

}  // namespace ideu
