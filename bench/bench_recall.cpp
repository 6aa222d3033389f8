// Synthetic detection recall: face size x roll x canvas size (and mirrored), with the time per
// megapixel, so the minimum-face promise can be checked at every resolution.
#include "bench_common.h"

#include "evaluation/detection_recall.h"
#include "io/image_io.h"

#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ideu::bench {

// ideudemon-bench recall [--min-face PX] [--rolled-min-face PX] [--canvases 2,12,24] [--sizes 40,60,100,200] [--rolls 0,30,...] [--save DIR] [IMAGES]
int benchRecall(const std::vector<std::string>& argsIn) {
    std::vector<std::string> args;
    std::vector<double> canvases = {2, 12, 24};
    std::vector<int> sizes = {40, 60, 100, 200};
    std::vector<double> rolls = {0, 30, -30, 45, -45};
    DetectionOptions options;
    std::string saveDir;
    auto list = [](const std::string& text) {
        std::vector<double> v;
        for (std::size_t p = 0; p < text.size();) {
            const std::size_t q = text.find(',', p);
            v.push_back(std::atof(text.substr(p, q - p).c_str()));
            p = q == std::string::npos ? text.size() : q + 1;
        }
        return v;
    };
    for (std::size_t i = 0; i < argsIn.size(); ++i) {
        if (argsIn[i] == "--min-face" && i + 1 < argsIn.size()) options.minFaceSize = std::atof(argsIn[++i].c_str());
        else if (argsIn[i] == "--rolled-min-face" && i + 1 < argsIn.size()) options.rolledMinFaceSize = std::atof(argsIn[++i].c_str());
        else if (argsIn[i] == "--save" && i + 1 < argsIn.size()) saveDir = argsIn[++i];
        else if (argsIn[i] == "--canvases" && i + 1 < argsIn.size()) canvases = list(argsIn[++i]);
        else if (argsIn[i] == "--rolls" && i + 1 < argsIn.size()) rolls = list(argsIn[++i]);
        else if (argsIn[i] == "--sizes" && i + 1 < argsIn.size()) {
            sizes.clear();
            for (double s : list(argsIn[++i])) sizes.push_back(int(s));
        } else args.push_back(argsIn[i]);
    }
    if (args.empty()) args = {std::string(IDEU_SHARED_DIR) + "/faces/obama/obama.jpg", std::string(IDEU_SHARED_DIR) + "/faces/biden/biden.jpg",
                              std::string(IDEU_SHARED_DIR) + "/faces/jolie/img1.jpg"};
    const std::vector<RecallSource> sources = recallSources(collectImages(args));
    if (sources.empty()) throw std::runtime_error("no face found in the source photos");
    const auto detector = FaceDetector::shared();

    std::printf("min face %.0f px, %zu source faces, each case mirrored too\n\n", options.minFaceSize, sources.size());
    // Each roll's column: found / placed, and in brackets how many the frontal detector found
    // (upright or in a turned pass: fitted; the rest the SSD alone found: blurred).
    std::printf("%6s %6s | found (fitted) / placed, by roll (degrees counter-clockwise):", "canvas", "face");
    for (double roll : rolls) std::printf(" %+5.0f      ", roll);
    std::printf("| %9s %7s %8s\n", "mirrored", "extra", "ms/MP");
    std::vector<double> msPerMp;
    int canvasCount = 0;
    const auto save = [&](const RecallCanvas& canvas, const RecallOutcome& out) {
        if (saveDir.empty()) return;
        cv::Mat shown = canvas.bgr.clone();
        for (const PlacedFace& f : out.faces)
            cv::circle(shown, f.centre, f.size / 2, f.found ? cv::Scalar(0, 200, 0) : cv::Scalar(0, 0, 255), 2);
        for (const DetectedFace& d : out.detection.faces) {
            cv::rectangle(shown, cv::Rect(d.box), cv::Scalar(255, 80, 0), 2);
            bool matched = false;
            for (const PlacedFace& f : out.faces)
                matched = matched || cv::norm(cv::Point2d(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2) - f.centre) <= 0.5 * f.size;
            if (!matched)
                std::printf("  extra detection (canvas %d): x=%.0f y=%.0f w=%.0f HOG %.2f SSD %.2f%s, roll %d\n", canvasCount + 1, d.box.x,
                            d.box.y, d.box.width, d.score, d.ssdScore, d.turned ? " (SSD only)" : "", d.roll);
        }
        char name[64];
        std::snprintf(name, sizeof name, "/recall_%03d.jpg", ++canvasCount);
        saveImage(saveDir + name, shown);
    };
    for (const RecallRow& row : measureRecallTable(*detector, sources, canvases, sizes, rolls, options, save)) {
        std::printf("%4.0fMP %4dpx |                ", row.megapixels, row.faceSize);
        for (double roll : rolls) {
            const auto it = row.byRoll.find(roll);
            const auto fitted = row.fittedByRoll.find(roll);
            std::printf(" %2d (%2d)/%-2d", it == row.byRoll.end() ? 0 : it->second.first, fitted == row.fittedByRoll.end() ? 0 : fitted->second,
                        it == row.byRoll.end() ? 0 : it->second.second);
        }
        std::printf(" | %4d/%-4d %7d %8.0f\n", row.mirrored.first, row.mirrored.second, row.extraDetections, row.msPerMegapixel);
        msPerMp.push_back(row.msPerMegapixel);
    }
    std::printf("\ndetect_ms_per_mp median %.0f\n", median(msPerMp));
    return 0;
}

}  // namespace ideu::bench
