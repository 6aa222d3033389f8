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
#include <limits>
#include <mutex>
#include <utility>

namespace ideu {

struct FaceDetector::Impl {
    dlib::shape_predictor predictor;  // const use is thread-safe
    // dlib's frontal detector in the HOG scan's plain types, copied once. Read only
    // (scanHogPyramid keeps its scratch state to itself): shared by every thread.
    const hog::Detector detector = hogDetectorOf(dlib::get_frontal_face_detector());
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
    int roll = 0;  // found by a pass over the photo turned upright for a face of this roll
};

double intersectionOverUnion(const cv::Rect2d& a, const cv::Rect2d& b) {
    const double inter = (a & b).area();
    return inter / std::max(1e-9, a.area() + b.area() - inter);
}

// How much of the smaller box the larger one covers (the detectors frame faces differently).
double overlapOfSmaller(const cv::Rect2d& a, const cv::Rect2d& b) {
    return (a & b).area() / std::max(1e-9, std::min(a.area(), b.area()));
}

// Greedy suppression: of boxes overlapping by more than `iou`, the strongest is kept; the
// kept ones come strongest first. Works on anything with a `box` and a `score`.
template <typename Scored>
std::vector<Scored> suppress(std::vector<Scored> c, double iou) {
    std::stable_sort(c.begin(), c.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
    std::vector<Scored> kept;
    for (const Scored& x : c) {
        bool overlaps = false;
        for (const Scored& k : kept) overlaps = overlaps || intersectionOverUnion(x.box, k.box) > iou;
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

// Whether a HOG box and an SSD box are the same face: they overlap, and neither is a face
// inside a much larger (false) box.
bool sameFaceBoxes(const cv::Rect2d& hog, const cv::Rect2d& ssd) {
    return overlapOfSmaller(hog, ssd) > 0.5 && ssd.area() > 0.25 * hog.area() && ssd.area() < 4 * hog.area();
}

// The turns a region is looked at in for a face rolled beyond the HOG detector's range.
struct RegionTurn {
    cv::RotateFlags code;
    int roll;  // DetectedFace::roll of a face found upright after this turn
};
constexpr std::array<RegionTurn, 3> kRegionTurns{{{cv::ROTATE_90_CLOCKWISE, -90},
                                                  {cv::ROTATE_90_COUNTERCLOCKWISE, 90},
                                                  {cv::ROTATE_180, 180}}};

// A point of an image of `size` turned by `turn` (cv::rotate), back in the image's pixels.
cv::Point2d turnedBack(const RegionTurn& turn, const cv::Point2d& p, const cv::Size& size) {
    switch (turn.code) {
    case cv::ROTATE_90_CLOCKWISE: return {p.y, size.height - 1 - p.x};
    case cv::ROTATE_90_COUNTERCLOCKWISE: return {size.width - 1 - p.y, p.x};
    default: return {size.width - 1 - p.x, size.height - 1 - p.y};
    }
}

// A box of the turned image, back in the image: the box spanning its turned corners.
cv::Rect2d turnedBack(const RegionTurn& turn, const cv::Rect2d& box, const cv::Size& size) {
    // Corners at pixel centres: a box [x, x + w) covers the centres x .. x + w - 1.
    const cv::Point2d a = turnedBack(turn, {box.x, box.y}, size);
    const cv::Point2d b = turnedBack(turn, {box.x + box.width - 1, box.y + box.height - 1}, size);
    return {std::min(a.x, b.x), std::min(a.y, b.y), std::abs(a.x - b.x) + 1, std::abs(a.y - b.y) + 1};
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
    // A pass over `image` (boxes in its pixels) and over a region of the photo.
    auto hogOn = [&](const cv::Mat& image, double scale, std::vector<Candidate>& into, cv::Point2d offset = {}) {
        ScopedStage stage("detect: HOG passes");
        // Colour HOG: grey is only ~15 % faster and loses the weakest face of the developer set.
        cv::Mat work = image;
        if (std::abs(scale - 1.0) > 1e-3)
            cv::resize(image, work, cv::Size(), scale, scale, scale > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
        const std::vector<dlib::rect_detection> detections =
            scanHogPyramid(impl_->detector, work, options.threshold, [&] { return !ssdLater.valid() || ssdLater.ready(); });
        for (const dlib::rect_detection& d : detections)
            into.push_back({cv::Rect2d(offset.x + d.rect.left() / scale, offset.y + d.rect.top() / scale, d.rect.width() / scale,
                                       d.rect.height() / scale),
                            d.detection_confidence});
        ++result.hogPasses;
    };
    auto hogPass = [&](const cv::Rect& region, double scale, std::vector<Candidate>& into) {
        hogOn(bgr(region), scale, into, cv::Point2d(region.x, region.y));
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
    // Faces on their side (a person lying down, a photo stored sideways) lie beyond the HOG
    // detector's ±45° of roll, and the SSD misses many of them: one more pass over the photo
    // turned by a quarter turn each way finds those of at least rolledMinFaceSize (a coarser
    // pass than the upright one's: each costs about a quarter of it).
    std::vector<Candidate> rolledHog;
    if (options.rolledMinFaceSize > 0) {
        const double rolledScale = std::min(80.0 / options.rolledMinFaceSize, std::sqrt(options.maxWorkPixels / pixels));
        for (const RegionTurn& turn : kRegionTurns) {
            if (turn.roll == 180) continue;  // upside down: rare; found around an SSD box (below)
            cv::Mat turned;
            cv::rotate(bgr, turned, turn.code);
            std::vector<Candidate> found;
            hogOn(turned, rolledScale, found);
            for (const Candidate& c : found) rolledHog.push_back({turnedBack(turn, c.box, bgr.size()), c.score, turn.roll});
        }
    }

    std::vector<Candidate> ssd;
    if (ssdLater.valid()) {
        SsdFound found = ssdLater.get();
        ssd = std::move(found.candidates);
        result.ssdPasses = found.passes;
    }
    // A face the turned passes found is a candidate when it scores as a face held the right way
    // up does (turnedAlone), or when the SSD sees it too; then it competes with the upright
    // candidates over it.
    for (const Candidate& r : rolledHog) {
        bool confirmed = r.score >= options.turnedAlone;
        for (const Candidate& d : ssd) confirmed = confirmed || (d.score >= options.ssdConfirm && sameFaceBoxes(r.box, d.box));
        if (confirmed) hog.push_back(r);
    }
    hog = suppress(hog, 0.4);

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
            if (sameFaceBoxes(h.box, ssd[j].box)) {
                confirm = std::max(confirm, ssd[j].score);
                ssdUsed[j] = 1;  // the same face: not a second, turned one
            }
        // A face of the turned passes needs their stronger score: skin is no evidence of its roll.
        const bool strong = h.score >= (h.roll == 0 ? options.hogAlone : options.turnedAlone) || confirm >= options.ssdConfirm;
        const double skin = h.roll != 0 ? 0.0 : colour && !strong ? skinShare(bgr, h.box) : 1.0;
        if (strong || skin >= 0.3) {
            DetectedFace face;
            face.box = h.box;
            face.score = h.score;
            face.ssdScore = confirm;
            face.roll = h.roll;
            result.faces.push_back(face);
        } else if (h.roll != 0) {
            char why[192];
            std::snprintf(why, sizeof why, "not a face: HOG score %.2f in the photo turned for a roll of %+d°, SSD score %.2f (a face needs %.2f or %.2f)",
                          h.score, h.roll, confirm, options.turnedAlone, options.ssdConfirm);
            result.rejected.push_back({h.box, h.score, confirm, why});
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
    // The HOG detector finds faces rolled up to about ±45°, and scores some faces held upside
    // down as upright ones (weakly: their landmarks then come out upright over the turned
    // face, and a new face would be drawn the wrong way up). So around every face the region
    // is also turned by a quarter turn each way and a half turn, with the face at about 100
    // px, and the HOG detector looks again: where it scores the face higher turned, the face
    // is rolled that far (a head on its side, a photo stored sideways or upside down), and its
    // landmarks are found turned and turned back. It is then fitted like any other (its crop
    // is aligned on its landmarks, whatever their roll): a face only the SSD saw is no longer
    // blurred as turned.
    for (DetectedFace& face : result.faces) {
        if (options.rolledMinFaceSize <= 0) break;
        ScopedStage stage("detect: rolled faces");
        const cv::Rect2d g = face.box;
        const cv::Rect region = cv::Rect(cv::Rect2d(g.x - g.width, g.y - g.height, 3 * g.width, 3 * g.height)) & whole;
        if (region.area() == 0) continue;
        const cv::Mat around = bgr(region);
        const double scale = std::clamp(100.0 / g.width, 0.1, 4.0);
        // A face the turned passes over the photo found may still be one the HOG detector
        // finds upright (a face rolled by about 45° is as near to both): it is looked for
        // upright here too, and must then score as a face on its own (hogAlone).
        const bool foundRolled = face.roll != 0;
        double best = face.score;
        if (foundRolled) {
            best = -std::numeric_limits<double>::infinity();
            face.roll = 0;
            face.turned = true;  // unless found again below: no landmarks to trust, so blurred
            std::vector<Candidate> local;
            hogPass(region, scale, local);
            for (const Candidate& c : local)
                if (overlapOfSmaller(c.box, g) > 0.5 && c.score >= options.hogAlone && c.score > best) {
                    best = c.score;
                    face.box = c.box;
                    face.score = c.score;
                    face.turned = false;
                }
        }
        // The best turn's image and box: its landmarks are found once, after every turn is seen.
        cv::Mat bestTurned;
        cv::Rect2d bestBox;
        const RegionTurn* bestTurn = nullptr;
        for (const RegionTurn& turn : kRegionTurns) {
            cv::Mat turned;
            cv::rotate(around, turned, turn.code);
            std::vector<Candidate> local;
            hogOn(turned, scale, local);
            for (const Candidate& c : local) {
                const cv::Rect2d back = turnedBack(turn, c.box, around.size()) + cv::Point2d(region.x, region.y);
                if (overlapOfSmaller(back, g) <= 0.5 || c.score < options.turnedAlone || c.score <= best) continue;
                best = c.score;
                face.box = back;
                face.score = c.score;
                face.turned = false;
                face.roll = turn.roll;
                bestTurned = turned;
                bestBox = c.box;
                bestTurn = &turn;
            }
        }
        if (bestTurn) {
            face.landmarks = landmarks(bestTurned, bestBox);
            for (cv::Point2d& p : face.landmarks) p = turnedBack(*bestTurn, p, around.size()) + cv::Point2d(region.x, region.y);
        }
    }
    // Two candidates may have led to the same face turned (an upright one and one of the
    // turned passes): the better-scoring one stays. Faces keep their order when none merge.
    if (std::vector<DetectedFace> kept = suppress(result.faces, 0.4); kept.size() < result.faces.size())
        result.faces = std::move(kept);
    {
        ScopedStage stage("detect: landmarks");
        for (DetectedFace& face : result.faces)
            if (face.roll == 0) face.landmarks = landmarks(bgr, face.box);  // a rolled face's came with it
    }
    std::stable_sort(result.faces.begin(), result.faces.end(),
                     [](const DetectedFace& a, const DetectedFace& b) { return a.box.area() > b.box.area(); });
    return result;
}

const DetectedFace* sameFace(const std::vector<DetectedFace>& faces, const cv::Rect2d& box, double minOverlap,
                             cv::Point2d offset) {
    const DetectedFace* best = nullptr;
    for (const DetectedFace& f : faces) {
        const double iou = intersectionOverUnion(f.box + offset, box);
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
