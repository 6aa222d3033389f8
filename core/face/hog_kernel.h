#pragma once
// The arithmetic of the HOG scan (features of each pyramid level, the detector's filters over
// them, the windows above the threshold, dlib's suppression), built twice from hog_kernel.cpp:
// for every x86-64 CPU, and with AVX2 (dlib's 8-wide floats) in a module of its own,
// ideu_hog_avx2, whose symbols other than its two entry points stay inside it. The AVX2 one
// only runs where the CPU has AVX2 (hogKernelAvailable).
//
// Plain types only: the detector's data is copied out of dlib's types by hog_scan.cpp, so the
// two builds share no template code. The AVX2 build's HOG features differ from the portable
// build's in the last bits (dlib's 8-wide feature code rounds differently; its filters do
// not), so each build gives the detections of dlib built the same way, to the bit.
#include <opencv2/core.hpp>

#include <functional>
#include <vector>

namespace ideu::hog {

// One rank-one term of a filter for one HOG plane: the row taps, then the column taps.
struct SeparableTerm {
    std::vector<float> row, col;
};

// One of the detector's filter sets (dlib's fhog_filterbank) and its threshold.
struct FilterSet {
    std::vector<cv::Mat> full;                          // per HOG plane, CV_32F
    std::vector<std::vector<SeparableTerm>> separable;  // per HOG plane
    double threshold = 0;
};

// What the scan needs of dlib's frontal face detector (scan_fhog_pyramid<pyramid_down<6>>).
struct Detector {
    long cellSize = 8, windowWidth = 0, windowHeight = 0, padding = 0;
    unsigned long minLayerWidth = 0, minLayerHeight = 0, maxLevels = 0;
    std::vector<FilterSet> sets;
    double overlapIou = 0, overlapCovered = 0;  // dlib's test_box_overlap
};

struct Detection {
    long left = 0, top = 0, right = 0, bottom = 0;  // dlib::rectangle's corners (inclusive)
    double confidence = 0;
    unsigned long filterSet = 0;
};

// Runs task(0..count) in some order, possibly on several threads, and returns when all ran.
using ForEach = std::function<void(int count, const std::function<void(int)>& task)>;

// dlib's object_detector on a CV_8UC3 BGR image at `adjustThreshold`.
std::vector<Detection> scanPortable(const Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                    const ForEach& forEach);
#ifdef IDEU_HAVE_HOG_AVX2
std::vector<Detection> scanAvx2(const Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                const ForEach& forEach);
// For tests: dlib's own frontal face detector (object_detector::operator(), one thread) built
// with AVX2 as scanAvx2 is. dlib's 8-wide HOG features round differently from its 4-wide
// ones, so this, not the portable build, is what scanAvx2 must match to the bit.
std::vector<Detection> dlibDetectorAvx2(const cv::Mat& bgr, double adjustThreshold);
#endif

}  // namespace ideu::hog
