#include "face/hog_scan.h"

#include "common/parallel.h"

#include <dlib/opencv/cv_image.h>

#include <algorithm>
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

}  // namespace

std::vector<dlib::rect_detection> scanHogPyramid(const dlib::frontal_face_detector& detector, const cv::Mat& bgr,
                                                 double adjustThreshold, const std::function<bool()>& secondCoreFree) {
    CV_Assert(bgr.type() == CV_8UC3);
    using Pyramid = dlib::pyramid_down<6>;
    using Features = dlib::array<dlib::array2d<float>>;
    const auto& scanner = detector.get_scanner();
    const auto& extractor = scanner.get_feature_extractor();
    const int cell = int(scanner.get_cell_size());
    const long windowWidth = long(scanner.get_fhog_window_width()), windowHeight = long(scanner.get_fhog_window_height());
    const long padding = long(scanner.get_padding());
    const dlib::cv_image<dlib::bgr_pixel> image(bgr);

    // The pyramid's levels, counted as dlib counts them; the images are cheap to make in turn.
    Pyramid pyramid;
    unsigned long levels = 0;
    for (dlib::rectangle r = dlib::get_rect(image);;) {
        r = pyramid.rect_down(r);
        ++levels;
        if (!(r.width() >= scanner.get_min_pyramid_layer_width() && r.height() >= scanner.get_min_pyramid_layer_height() &&
              levels < scanner.get_max_pyramid_levels()))
            break;
    }
    std::vector<dlib::array2d<dlib::bgr_pixel>> smaller(levels - 1);  // levels 1..
    for (unsigned long l = 1; l < levels; ++l) {
        if (l == 1) pyramid(image, smaller[0]);
        else pyramid(smaller[l - 2], smaller[l - 1]);
    }
    std::vector<Features> features(levels);
    forEachTask(int(levels), [&](int l) {
        if (l == 0) extractor(image, features[0], cell, windowHeight, windowWidth);
        else extractor(smaller[std::size_t(l - 1)], features[std::size_t(l)], cell, windowHeight, windowWidth);
    }, secondCoreFree);

    // Each filter set on each level; a level's hits in dlib's scan order (row by row).
    const unsigned long sets = detector.num_detectors();
    const long boxWidth = windowWidth - 2 * padding, boxHeight = windowHeight - 2 * padding;
    std::vector<std::vector<std::pair<double, dlib::rectangle>>> hits(sets * levels);
    std::vector<double> thresholds(sets);
    for (unsigned long d = 0; d < sets; ++d) thresholds[d] = detector.get_processed_w(d).w(scanner.get_num_dimensions());
    // Level by level (the largest first), so the last items left are small ones.
    forEachTask(int(sets * levels), [&](int task) {
        const unsigned long l = static_cast<unsigned long>(task) / sets, d = static_cast<unsigned long>(task) % sets;
        dlib::array2d<float> saliency;
        const dlib::rectangle area =
            dlib::impl::apply_filters_to_fhog(detector.get_processed_w(d).get_detect_argument(), features[l], saliency);
        const double threshold = thresholds[d] + adjustThreshold;
        auto& into = hits[std::size_t(d * levels + l)];
        for (long r = area.top(); r <= area.bottom(); ++r)
            for (long c = area.left(); c <= area.right(); ++c)
                if (saliency[r][c] >= threshold) {
                    const dlib::rectangle rect = extractor.feats_to_image(dlib::centered_rect(dlib::point(c, r), boxWidth, boxHeight),
                                                                          cell, windowHeight, windowWidth);
                    into.emplace_back(saliency[r][c], pyramid.rect_up(rect, l));
                }
    }, secondCoreFree);

    // As object_detector::operator(): each set's hits over all levels, sorted by score as
    // dlib sorts them; all sets' together, sorted again; then dlib's non-maximum suppression.
    std::vector<dlib::rect_detection> all;
    for (unsigned long d = 0; d < sets; ++d) {
        std::vector<std::pair<double, dlib::rectangle>> set;
        for (unsigned long l = 0; l < levels; ++l) {
            const auto& h = hits[std::size_t(d * levels + l)];
            set.insert(set.end(), h.begin(), h.end());
        }
        std::sort(set.rbegin(), set.rend(), dlib::impl::compare_pair_rect);
        for (const auto& [score, rect] : set) {
            dlib::rect_detection det;
            det.detection_confidence = score - thresholds[d];
            det.weight_index = d;
            det.rect = rect;
            all.push_back(det);
        }
    }
    if (sets > 1) std::sort(all.rbegin(), all.rend());
    std::vector<dlib::rect_detection> kept;
    const dlib::test_box_overlap& overlaps = detector.get_overlap_tester();
    for (const dlib::rect_detection& det : all) {
        const bool suppressed =
            std::any_of(kept.begin(), kept.end(), [&](const dlib::rect_detection& k) { return overlaps(k.rect, det.rect); });
        if (!suppressed) kept.push_back(det);
    }
    return kept;
}

}  // namespace ideu
