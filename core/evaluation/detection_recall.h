#pragma once
// Synthetic detection recall: faces of known size, roll and mirror pasted into large canvases,
// so the detector's promise (every face of at least the minimum size, at any resolution) can be
// measured and tested. Used by `ideudemon-bench recall` and the detector tests.
#include "face/face_detector.h"

#include <opencv2/core.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ideu {

// A face to paste: a photo and the detector's box of its face in it.
struct RecallSource {
    cv::Mat bgr;
    cv::Rect2d box;
    std::string name;
};
// The largest face of each photo (photos without one are skipped).
std::vector<RecallSource> recallSources(const std::vector<std::string>& photos);

struct RecallCanvasSpec {
    double megapixels = 2;           // canvas of aspect 3:2
    int faceSize = 100;              // side of the pasted face's detector box, pixels
    std::vector<double> rolls = {0, 30, -30, 45, -45};
    bool withFlips = true;           // each case also mirrored
    int facesPerCase = 2;            // sources used per roll and flip
    unsigned seed = 1;               // background and placement
    int firstCase = 0;               // cases that did not fit an earlier canvas
};

struct PlacedFace {
    cv::Point2d centre;  // of the detector box, in canvas pixels
    int size = 0;
    double roll = 0;
    bool flipped = false;
    std::string source;
    bool found = false;
    bool fitted = false;  // found by the frontal (HOG) detector, upright or turned: fitted, not blurred
};

struct RecallCanvas {
    cv::Mat bgr;
    std::vector<PlacedFace> faces;
    int casesTotal = 0;  // cases of the spec; those after firstCase + faces.size() need another canvas
};

// Pastes the cases spread over the whole canvas (so tile seams are crossed), each face inside
// a soft ellipse that keeps its hair and outline, on a smooth textured background.
RecallCanvas makeRecallCanvas(const std::vector<RecallSource>& sources, const RecallCanvasSpec& spec);

struct RecallOutcome {
    std::vector<PlacedFace> faces;  // with `found` set
    int extraDetections = 0;        // detections matching no pasted face
    double detectMs = 0;
    DetectionResult detection;
};
// A pasted face counts as found when a detection's centre lies within half its size of the
// face's centre and its side is within a factor 2 of the face's size.
RecallOutcome measureRecall(const FaceDetector& detector, const RecallCanvas& canvas, const DetectionOptions& options);

// One row of the recall table: a canvas size and a face size, every roll, each mirrored too.
struct RecallRow {
    double megapixels = 0;
    int faceSize = 0;
    std::map<double, std::pair<int, int>> byRoll;  // roll -> (found, placed)
    std::map<double, int> fittedByRoll;            // roll -> found by the frontal detector (fitted, not blurred)
    std::pair<int, int> mirrored{0, 0};            // (found, placed) among the mirrored faces
    int extraDetections = 0;
    double msPerMegapixel = 0;
    int canvases = 0;
};
// As many canvases per row as it takes to place every case of every source.
std::vector<RecallRow> measureRecallTable(const FaceDetector& detector, const std::vector<RecallSource>& sources,
                                          const std::vector<double>& megapixels, const std::vector<int>& faceSizes,
                                          const std::vector<double>& rolls, const DetectionOptions& options,
                                          const std::function<void(const RecallCanvas&, const RecallOutcome&)>& onCanvas = {});

}  // namespace ideu
