#pragma once
// dlib's HOG face detector evaluated on both cores, with exactly dlib's detections.
//
// dlib's object_detector builds the HOG pyramid one level after another and runs its five
// filter sets over it on one thread. The levels' features and the (filter set, level) scans do
// not depend on one another, so they run in parallel here; the detections are then gathered in
// dlib's own order and suppressed by dlib's own rule, so the result is the same (test_face_detector
// compares the two). The arithmetic runs in AVX2 where the CPU has it (hog_kernel.h), and then
// gives what dlib built with AVX2 gives.
#include "face/hog_kernel.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <opencv2/core.hpp>

#include <functional>
#include <vector>

namespace ideu {

// Which build of the scan's arithmetic runs (hog_kernel.h).
enum class HogKernel { Portable, Avx2 };
// Whether this build has the kernel and this CPU can run it.
bool hogKernelAvailable(HogKernel kernel);
// The kernel scanHogPyramid uses: AVX2 where available (about a fifth quicker). Its HOG
// features round differently from the portable one's in the last bits, as dlib's own 8-wide
// code does: each gives the detections of dlib built the same way.
HogKernel fastestHogKernel();

// dlib's frontal face detector in the scan's plain types (hog_kernel.h): made once, scanned
// with many times.
hog::Detector hogDetectorOf(const dlib::frontal_face_detector& detector);

// The detections of `detector` on a CV_8UC3 BGR image at `adjustThreshold`: what
// `detector(dlib::cv_image<dlib::bgr_pixel>(bgr), detections, adjustThreshold)` returns.
// The calling thread takes the work item by item; a second thread joins it beside
// (startBeside: not on one core, not on a background thread) as soon as `secondCoreFree()`
// says so, checked before each item: the detector's SSD runs beside the HOG scan, and until it
// is done a second HOG thread would only take its core (on photos where the SSD is the longer
// of the two, detection grew by 30–74 % in one run: biden.jpg, jolie/img2.jpg, img7.jpg).
std::vector<dlib::rect_detection> scanHogPyramid(const hog::Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                                 const std::function<bool()>& secondCoreFree = [] { return true; });
// dlib's own detector (object_detector::operator(), one thread) built as `kernel` is: what
// scanHogPyramid with that kernel must give to the bit (tests). An unavailable one throws.
std::vector<dlib::rect_detection> dlibReferenceDetections(const cv::Mat& bgr, double adjustThreshold, HogKernel kernel);
// The same with a given kernel (tests compare them); an unavailable one throws.
std::vector<dlib::rect_detection> scanHogPyramid(const hog::Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                                 HogKernel kernel,
                                                 const std::function<bool()>& secondCoreFree = [] { return true; });

}  // namespace ideu
