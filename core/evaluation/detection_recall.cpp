#include "evaluation/detection_recall.h"

#include "io/image_io.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace ideu {
namespace {

constexpr double kPatchPerFace = 2.6;  // patch side per face size: room for hair and a 45-degree roll

cv::Mat background(const cv::Size& size, unsigned seed) {
    // Smooth colour fields with a fine grain: photo-like, with nothing face-like in it.
    cv::RNG rng(seed);
    cv::Mat coarse(12, 18, CV_8UC3), smooth, grain(size, CV_16SC3), sum, out;
    rng.fill(coarse, cv::RNG::UNIFORM, 40, 215);
    cv::resize(coarse, smooth, size, 0, 0, cv::INTER_CUBIC);
    rng.fill(grain, cv::RNG::NORMAL, 0, 6);
    smooth.convertTo(sum, CV_16SC3);
    sum += grain;
    sum.convertTo(out, CV_8UC3);
    return out;
}

}  // namespace

std::vector<RecallSource> recallSources(const std::vector<std::string>& photos) {
    std::vector<RecallSource> sources;
    const auto detector = FaceDetector::shared();
    DetectionOptions options;
    options.useSsd = false;
    for (const std::string& p : photos) {
        const Image image = loadImage(p);
        const auto faces = detector->detect(image.bgr, options).faces;
        if (faces.empty()) continue;
        sources.push_back({image.bgr, faces.front().box, p});
    }
    return sources;
}

RecallCanvas makeRecallCanvas(const std::vector<RecallSource>& sources, const RecallCanvasSpec& spec) {
    CV_Assert(!sources.empty());
    const int height = int(std::lround(std::sqrt(spec.megapixels * 1e6 / 1.5)));
    const int width = int(std::lround(1.5 * height));
    RecallCanvas canvas;
    canvas.bgr = background({width, height}, spec.seed);
    const int patch = int(std::ceil(kPatchPerFace * spec.faceSize));

    struct Case {
        double roll;
        bool flipped;
        const RecallSource* source;
    };
    std::vector<Case> cases;
    std::size_t next = 0;
    for (double roll : spec.rolls)
        for (int flip = 0; flip < (spec.withFlips ? 2 : 1); ++flip)
            for (int k = 0; k < spec.facesPerCase; ++k) cases.push_back({roll, flip == 1, &sources[next++ % sources.size()]});

    // A grid over the whole canvas; each face jittered inside its cell.
    canvas.casesTotal = int(cases.size());
    cases.erase(cases.begin(), cases.begin() + std::min<std::ptrdiff_t>(spec.firstCase, std::ptrdiff_t(cases.size())));
    const int n = int(cases.size());
    int cols = std::max(1, int(std::ceil(std::sqrt(n * double(width) / height))));
    int rows = (n + cols - 1) / cols;
    cols = std::min(cols, std::max(1, width / patch));
    rows = std::min(rows, std::max(1, height / patch));
    const double cellW = double(width) / cols, cellH = double(height) / rows;
    std::mt19937 rng(spec.seed * 7919u + unsigned(spec.faceSize));
    std::uniform_real_distribution<double> unit(0, 1);
    const int capacity = cols * rows;
    for (int i = 0; i < std::min(n, capacity); ++i) {
        const Case& c = cases[std::size_t(i)];
        const int col = i % cols, row = i / cols;
        const double slackX = std::max(0.0, cellW - patch), slackY = std::max(0.0, cellH - patch);
        const cv::Point2d centre(col * cellW + patch / 2.0 + unit(rng) * slackX, row * cellH + patch / 2.0 + unit(rng) * slackY);
        CV_Assert(centre.x + patch / 2.0 <= width && centre.y + patch / 2.0 <= height);

        // Source -> canvas: scale to the face size, mirror, roll about the box centre.
        const cv::Rect2d& box = c.source->box;
        const cv::Point2d boxCentre(box.x + box.width / 2, box.y + box.height / 2);
        const double s = spec.faceSize / box.width;
        const double a = c.roll * CV_PI / 180, ca = std::cos(a) * s, sa = std::sin(a) * s;
        const double fx = c.flipped ? -1 : 1;
        // canvas = R * diag(fx, 1) * (p - boxCentre) + centre, with R a counter-clockwise roll.
        cv::Matx23d m(ca * fx, sa, 0, -sa * fx, ca, 0);
        m(0, 2) = centre.x - (m(0, 0) * boxCentre.x + m(0, 1) * boxCentre.y);
        m(1, 2) = centre.y - (m(1, 0) * boxCentre.x + m(1, 1) * boxCentre.y);
        const cv::Rect roi(int(centre.x - patch / 2.0), int(centre.y - patch / 2.0), patch, patch);
        cv::Matx23d local = m;
        local(0, 2) -= roi.x;
        local(1, 2) -= roi.y;
        cv::Mat warped;
        cv::warpAffine(c.source->bgr, warped, cv::Mat(local), roi.size(), cv::INTER_AREA, cv::BORDER_REPLICATE);

        // Soft ellipse over face, hair and chin, rolled with the face.
        cv::Mat mask(roi.size(), CV_8U, cv::Scalar(0));
        const cv::Point2d up(std::sin(a), -std::cos(a));
        const cv::Point2d ellipseCentre = centre - cv::Point2d(roi.x, roi.y) + up * (0.12 * spec.faceSize);
        cv::ellipse(mask, cv::RotatedRect(ellipseCentre, cv::Size2f(1.5f * spec.faceSize, 2.0f * spec.faceSize), float(-c.roll)),
                    cv::Scalar(255), cv::FILLED, cv::LINE_AA);
        const int blur = 2 * int(0.08 * spec.faceSize) + 1;
        cv::GaussianBlur(mask, mask, cv::Size(blur, blur), 0);
        cv::Mat target = canvas.bgr(roi), maskF, w3;
        mask.convertTo(maskF, CV_32F, 1.0 / 255);
        cv::merge(std::vector<cv::Mat>{maskF, maskF, maskF}, w3);
        cv::Mat fg, bg;
        warped.convertTo(fg, CV_32FC3);
        target.convertTo(bg, CV_32FC3);
        cv::Mat blended = fg.mul(w3) + bg.mul(cv::Scalar::all(1) - w3);
        blended.convertTo(target, CV_8UC3);

        PlacedFace placed;
        placed.centre = centre;
        placed.size = spec.faceSize;
        placed.roll = c.roll;
        placed.flipped = c.flipped;
        placed.source = c.source->name;
        canvas.faces.push_back(placed);
    }
    return canvas;
}

RecallOutcome measureRecall(const FaceDetector& detector, const RecallCanvas& canvas, const DetectionOptions& options) {
    RecallOutcome outcome;
    outcome.faces = canvas.faces;
    const auto start = std::chrono::steady_clock::now();
    outcome.detection = detector.detect(canvas.bgr, options);
    outcome.detectMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    for (const DetectedFace& d : outcome.detection.faces) {
        const cv::Point2d c(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
        bool matched = false;
        for (PlacedFace& f : outcome.faces) {
            if (cv::norm(c - f.centre) > 0.5 * f.size || d.box.width < 0.5 * f.size || d.box.width > 2.0 * f.size) continue;
            f.found = true;
            f.fitted = f.fitted || !d.turned;
            matched = true;
        }
        if (!matched) ++outcome.extraDetections;
    }
    return outcome;
}

std::vector<RecallRow> measureRecallTable(const FaceDetector& detector, const std::vector<RecallSource>& sources,
                                          const std::vector<double>& megapixels, const std::vector<int>& faceSizes,
                                          const std::vector<double>& rolls, const DetectionOptions& options,
                                          const std::function<void(const RecallCanvas&, const RecallOutcome&)>& onCanvas) {
    std::vector<RecallRow> rows;
    for (double mp : megapixels)
        for (int size : faceSizes) {
            RecallRow row;
            row.megapixels = mp;
            row.faceSize = size;
            RecallCanvasSpec spec;
            spec.megapixels = mp;
            spec.faceSize = size;
            spec.rolls = rolls;
            spec.facesPerCase = int(sources.size());
            double ms = 0;
            for (int total = 1; spec.firstCase < total; ++spec.seed) {
                const RecallCanvas canvas = makeRecallCanvas(sources, spec);
                total = canvas.casesTotal;
                spec.firstCase += int(canvas.faces.size());
                const RecallOutcome out = measureRecall(detector, canvas, options);
                ++row.canvases;
                ms += out.detectMs;
                row.extraDetections += out.extraDetections;
                for (const PlacedFace& f : out.faces) {
                    auto& r = row.byRoll[f.roll];
                    ++r.second;
                    r.first += f.found;
                    row.fittedByRoll[f.roll] += f.fitted;
                    if (f.flipped) ++row.mirrored.second, row.mirrored.first += f.found;
                }
                if (onCanvas) onCanvas(canvas, out);
            }
            row.msPerMegapixel = ms / (mp * row.canvases);
            rows.push_back(row);
        }
    return rows;
}

}  // namespace ideu
