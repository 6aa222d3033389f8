#include "face/hog_scan.h"

#include "common/error.h"
#include "common/parallel.h"
#include "common/runtime.h"
#include "face/hog_kernel.h"

#include <dlib/opencv/cv_image.h>

#include <atomic>
#include <functional>
#include <utility>

namespace ideu {
namespace {

// task(0..count) taken in turn by the calling thread and, once `secondCoreFree()`, by one
// thread beside it. (forEachOnWorkers starts all its workers at once, which is what the scan
// must not do while the SSD holds the other core.)
void forEachTask(int count, const std::function<void(int)>& task, const std::function<bool()>& secondCoreFree) {
    std::atomic<int> next{0};
    auto drain = [&] {
        for (int i = next++; i < count; i = next++) task(i);
    };
    BesideResult<void> helper;
    for (;;) {
        if (!helper.valid() && secondCoreFree()) helper = startBeside(drain);
        const int i = next++;
        if (i >= count) break;
        task(i);
    }
    if (helper.valid()) helper.get();  // deferred (one core, a background thread): nothing is left
}

std::vector<float> taps(const dlib::matrix<float, 0, 1>& m) { return std::vector<float>(m.begin(), m.end()); }

}  // namespace

hog::Detector hogDetectorOf(const dlib::frontal_face_detector& detector) {
    const auto& scanner = detector.get_scanner();
    hog::Detector out;
    out.cellSize = long(scanner.get_cell_size());
    out.windowWidth = long(scanner.get_fhog_window_width());
    out.windowHeight = long(scanner.get_fhog_window_height());
    out.padding = long(scanner.get_padding());
    out.minLayerWidth = scanner.get_min_pyramid_layer_width();
    out.minLayerHeight = scanner.get_min_pyramid_layer_height();
    out.maxLevels = scanner.get_max_pyramid_levels();
    out.overlapIou = detector.get_overlap_tester().get_iou_thresh();
    out.overlapCovered = detector.get_overlap_tester().get_percent_covered_thresh();
    for (unsigned long d = 0; d < detector.num_detectors(); ++d) {
        const auto& processed = detector.get_processed_w(d);
        const auto& bank = processed.get_detect_argument();
        hog::FilterSet set;
        set.threshold = processed.w(scanner.get_num_dimensions());
        for (const dlib::matrix<float>& f : bank.filters) {
            cv::Mat full(int(f.nr()), int(f.nc()), CV_32F);
            for (long r = 0; r < f.nr(); ++r)
                for (long c = 0; c < f.nc(); ++c) full.at<float>(int(r), int(c)) = f(r, c);
            set.full.push_back(full);
        }
        set.separable.resize(bank.row_filters.size());
        for (std::size_t i = 0; i < bank.row_filters.size(); ++i)
            for (std::size_t j = 0; j < bank.row_filters[i].size(); ++j)
                set.separable[i].push_back({taps(bank.row_filters[i][j]), taps(bank.col_filters[i][j])});
        out.sets.push_back(std::move(set));
    }
    return out;
}

bool hogKernelAvailable(HogKernel kernel) {
    if (kernel == HogKernel::Portable) return true;
#ifdef IDEU_HAVE_HOG_AVX2
    return cpuHasAvx2();
#else
    return false;
#endif
}

HogKernel fastestHogKernel() {
    static const HogKernel fastest = hogKernelAvailable(HogKernel::Avx2) ? HogKernel::Avx2 : HogKernel::Portable;
    return fastest;
}

namespace {
std::vector<dlib::rect_detection> toDlib(const std::vector<hog::Detection>& found) {
    std::vector<dlib::rect_detection> out;
    out.reserve(found.size());
    for (const hog::Detection& d : found) {
        dlib::rect_detection det;
        det.rect = dlib::rectangle(d.left, d.top, d.right, d.bottom);
        det.detection_confidence = d.confidence;
        det.weight_index = d.filterSet;
        out.push_back(det);
    }
    return out;
}

void requireAvailable(HogKernel kernel) {
    if (!hogKernelAvailable(kernel)) throw Error("the AVX2 HOG scan is not available on this build or CPU");
}
}  // namespace

std::vector<dlib::rect_detection> dlibReferenceDetections(const cv::Mat& bgr, double adjustThreshold, HogKernel kernel) {
    CV_Assert(bgr.type() == CV_8UC3);
    requireAvailable(kernel);
#ifdef IDEU_HAVE_HOG_AVX2
    if (kernel == HogKernel::Avx2) return toDlib(hog::dlibDetectorAvx2(bgr, adjustThreshold));
#endif
    dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
    std::vector<dlib::rect_detection> found;
    detector(dlib::cv_image<dlib::bgr_pixel>(bgr), found, adjustThreshold);
    return found;
}

std::vector<dlib::rect_detection> scanHogPyramid(const hog::Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                                 const std::function<bool()>& secondCoreFree) {
    return scanHogPyramid(detector, bgr, adjustThreshold, fastestHogKernel(), secondCoreFree);
}

std::vector<dlib::rect_detection> scanHogPyramid(const hog::Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                                 HogKernel kernel, const std::function<bool()>& secondCoreFree) {
    CV_Assert(bgr.type() == CV_8UC3);
    requireAvailable(kernel);
    const hog::ForEach forEach = [&secondCoreFree](int count, const std::function<void(int)>& task) {
        forEachTask(count, task, secondCoreFree);
    };
    std::vector<hog::Detection> found;
#ifdef IDEU_HAVE_HOG_AVX2
    if (kernel == HogKernel::Avx2) found = hog::scanAvx2(detector, bgr, adjustThreshold, forEach);
    else
#endif
        found = hog::scanPortable(detector, bgr, adjustThreshold, forEach);
    return toDlib(found);
}

}  // namespace ideu
