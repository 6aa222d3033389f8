// Detection speed per megapixel and the smallest face the detector finds.
#include "bench_common.h"

#include "face/face_detector.h"
#include "face/ssd_detector.h"
#include "io/image_io.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

namespace ideu::bench {

namespace {

// Every candidate of every photo with both detectors' scores (to calibrate the thresholds in
// DetectionOptions), and for faces both detectors find the two boxes (to fit hogBoxFromSsd).
int printScores(const std::vector<std::string>& files) {
    const auto detector = FaceDetector::shared();
    const auto ssd = SsdFaceDetector::shared();
    DetectionOptions everything;
    everything.hogAlone = -10;  // accept every candidate, to see its scores
    everything.ssdConfirm = everything.ssdAlone = 0.05;
    std::printf("%-44s %-6s %8s %8s   box (x y w h) / ssd box\n", "photo", "kind", "hog", "ssd");
    for (const std::string& file : files) {
        const Image image = loadImage(file);
        const DetectionResult r = detector->detect(image.bgr, everything);
        const int border = std::max(image.bgr.cols, image.bgr.rows) / 4;
        cv::Mat bordered;
        cv::copyMakeBorder(image.bgr, bordered, border, border, border, border, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        const auto boxes = ssd->detect(bordered, 0.05);
        const std::string name = file.substr(file.size() > 44 ? file.size() - 44 : 0);
        for (const DetectedFace& f : r.faces) {
            std::printf("%-44s %-6s %8.3f %8.3f   %.1f %.1f %.1f %.1f", name.c_str(), f.turned ? "ssd" : "hog", f.score,
                        f.ssdScore, f.box.x, f.box.y, f.box.width, f.box.height);
            for (const SsdDetection& d : boxes) {
                const cv::Rect2d b = d.box - cv::Point2d(border, border);
                if (!f.turned && (b & f.box).area() > 0.5 * std::min(b.area(), f.box.area()))
                    std::printf(" / %.1f %.1f %.1f %.1f", b.x, b.y, b.width, b.height);
            }
            std::printf("\n");
        }
    }
    return 0;
}

}  // namespace

int benchDetect(const std::vector<std::string>& argsIn) {
    std::vector<std::string> args = argsIn;
    const auto scores = std::find(args.begin(), args.end(), "--scores");
    if (scores != args.end()) {
        args.erase(scores);
        return printScores(collectImages(args));
    }
    const auto detector = FaceDetector::shared();
    const std::vector<std::string> files = collectImages(args);
    // Each photo is also timed without the passes over the photo turned for faces on their
    // side, alternating, so their cost is a ratio within this run.
    DetectionOptions upright;
    upright.rolledMinFaceSize = 0;
    std::vector<double> msPerMp, msPerPhoto, msPerMpUpright;
    double smallest = 1e9;
    std::string smallestIn;
    std::printf("%-48s %8s %6s %10s %18s\n", "photo", "MP", "faces", "median ms", "without turned");
    for (const std::string& file : files) {
        Image image;
        try {
            image = loadImage(file);
        } catch (const std::exception& e) {
            std::printf("%-48s skipped: %s\n", file.c_str(), e.what());
            continue;
        }
        std::vector<double> times, uprightTimes;
        std::size_t faces = 0;
        for (int r = 0; r < 3; ++r) {
            Stopwatch uprightWatch;
            detector->detect(image.bgr, upright);
            uprightTimes.push_back(uprightWatch.ms());
            Stopwatch watch;
            const DetectionResult result = detector->detect(image.bgr);
            times.push_back(watch.ms());
            faces = result.faces.size();
            for (const DetectedFace& f : result.faces)
                if (f.box.width < smallest) smallest = f.box.width, smallestIn = file;
        }
        const double mp = image.bgr.total() / 1e6;
        const double t = median(times);
        msPerPhoto.push_back(t);
        // Per megapixel only where pixels dominate: the SSD's whole-photo pass costs the same
        // ~150 ms on a thumbnail as on a megapixel.
        if (mp >= 1.0) msPerMp.push_back(t / mp), msPerMpUpright.push_back(median(uprightTimes) / mp);
        std::printf("%-48s %8.3f %6zu %10.1f %18.1f\n", file.substr(file.size() > 48 ? file.size() - 48 : 0).c_str(), mp, faces, t,
                    median(uprightTimes));
    }

    // Smallest findable face: shrink a frontal photo until the face is lost.
    double smallestSynthetic = 0;
    if (!files.empty()) {
        const Image probe = loadImage(files.front());
        const auto found = detector->detect(probe.bgr).faces;
        if (!found.empty()) {
            for (double side = 80; side >= 20; side -= 2) {
                const double f = side / found[0].box.width;
                cv::Mat small;
                cv::resize(probe.bgr, small, cv::Size(), f, f, cv::INTER_AREA);
                const auto faces = detector->detect(small).faces;
                if (faces.empty()) break;
                smallestSynthetic = faces[0].box.width;
            }
        }
    }
    std::printf("\nphotos: %zu, median %.1f ms per photo; photos of 1 MP or more: %zu, median %.1f ms per megapixel (p90 %.1f)\n",
                msPerPhoto.size(), median(msPerPhoto), msPerMp.size(), msPerMp.empty() ? 0.0 : median(msPerMp),
                msPerMp.empty() ? 0.0 : percentile(msPerMp, 0.9));
    if (!msPerMpUpright.empty())
        std::printf("without the turned passes (faces on their side not looked for): median %.1f ms per megapixel\n",
                    median(msPerMpUpright));
    std::printf("smallest face found in the set: %.0f px (%s)\n", smallest, smallestIn.c_str());
    std::printf("smallest face found when shrinking %s: %.0f px box side\n",
                files.empty() ? "-" : files.front().c_str(), smallestSynthetic);
    std::printf("detect_ms_per_mp=%.1f detect_ms_per_photo=%.1f min_face_px=%.0f\n", msPerMp.empty() ? 0.0 : median(msPerMp), median(msPerPhoto),
                smallestSynthetic);
    return 0;
}

}  // namespace ideu::bench
