// Built twice (see hog_kernel.h): into ideu_core as hog::scanPortable, and with -mavx2 into
// the ideu_hog_avx2 module as hog::scanAvx2, where dlib's headers then use 8-wide AVX floats.
#include "face/hog_kernel.h"

#include <dlib/image_processing/box_overlap_testing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing/full_object_detection.h>
#include <dlib/image_processing/scan_fhog_pyramid.h>
#include <dlib/image_transforms/spatial_filtering.h>
#include <dlib/opencv/cv_image.h>

#include <algorithm>
#include <utility>

#ifdef IDEU_HOG_BUILD_AVX2
#define IDEU_HOG_SCAN scanAvx2
#else
#define IDEU_HOG_SCAN scanPortable
#endif

namespace ideu::hog {
namespace {

using Pyramid = dlib::pyramid_down<6>;
using Features = dlib::array<dlib::array2d<float>>;

dlib::matrix<float> toDlib(const cv::Mat& filter) {
    CV_Assert(filter.type() == CV_32F);
    dlib::matrix<float> m(filter.rows, filter.cols);
    for (int r = 0; r < filter.rows; ++r)
        for (int c = 0; c < filter.cols; ++c) m(r, c) = filter.at<float>(r, c);
    return m;
}

dlib::matrix<float, 0, 1> toDlib(const std::vector<float>& taps) {
    dlib::matrix<float, 0, 1> m(long(taps.size()));
    for (std::size_t i = 0; i < taps.size(); ++i) m(long(i)) = taps[i];
    return m;
}

// dlib's filters of one set, in dlib's types, made once per scan.
struct DlibFilters {
    std::vector<dlib::matrix<float>> full;
    std::vector<std::vector<dlib::matrix<float, 0, 1>>> rows, cols;
    unsigned long separableCount = 0;
};

DlibFilters toDlib(const FilterSet& set) {
    DlibFilters out;
    for (const cv::Mat& f : set.full) out.full.push_back(toDlib(f));
    out.rows.resize(set.separable.size());
    out.cols.resize(set.separable.size());
    for (std::size_t i = 0; i < set.separable.size(); ++i)
        for (const SeparableTerm& term : set.separable[i]) {
            out.rows[i].push_back(toDlib(term.row));
            out.cols[i].push_back(toDlib(term.col));
            ++out.separableCount;
        }
    return out;
}

// dlib::impl::apply_filters_to_fhog, on the filters as copied.
dlib::rectangle applyFilters(const DlibFilters& w, const Features& feats, dlib::array2d<float>& saliency) {
    dlib::rectangle area;
    // dlib's choice: the separable terms where they would be faster than the whole filters.
    if (w.separableCount > w.full.size() * std::min(w.full[0].nr(), w.full[0].nc()) / 3.0) {
        area = dlib::spatially_filter_image(feats[0], saliency, w.full[0]);
        for (unsigned long i = 1; i < w.full.size(); ++i) dlib::spatially_filter_image(feats[i], saliency, w.full[i], 1, false, true);
        return area;
    }
    saliency.clear();
    dlib::array2d<float> scratch;
    unsigned long i = 0;
    while (i < w.rows.size() && w.rows[i].size() == 0) ++i;
    for (; i < w.rows.size(); ++i)
        for (unsigned long j = 0; j < w.rows[i].size(); ++j)
            area = dlib::float_spatially_filter_image_separable(feats[i], saliency, w.rows[i][j], w.cols[i][j], scratch,
                                                                saliency.size() != 0);
    if (saliency.size() == 0) {
        saliency.set_size(feats[0].nr(), feats[0].nc());
        dlib::assign_all_pixels(saliency, 0);
    }
    return area;
}

}  // namespace

std::vector<Detection> IDEU_HOG_SCAN(const Detector& detector, const cv::Mat& bgr, double adjustThreshold,
                                                    const ForEach& forEach) {
    CV_Assert(bgr.type() == CV_8UC3 && !detector.sets.empty());
    const dlib::default_fhog_feature_extractor extractor;
    const long cell = detector.cellSize;
    const dlib::cv_image<dlib::bgr_pixel> image(bgr);

    // The pyramid's levels, counted as dlib counts them; the images are cheap to make in turn.
    Pyramid pyramid;
    unsigned long levels = 0;
    for (dlib::rectangle r = dlib::get_rect(image);;) {
        r = pyramid.rect_down(r);
        ++levels;
        if (!(r.width() >= detector.minLayerWidth && r.height() >= detector.minLayerHeight && levels < detector.maxLevels))
            break;
    }
    std::vector<dlib::array2d<dlib::bgr_pixel>> smaller(levels - 1);  // levels 1..
    for (unsigned long l = 1; l < levels; ++l) {
        if (l == 1) pyramid(image, smaller[0]);
        else pyramid(smaller[l - 2], smaller[l - 1]);
    }
    std::vector<Features> features(levels);
    forEach(int(levels), [&](int l) {
        if (l == 0) extractor(image, features[0], cell, detector.windowHeight, detector.windowWidth);
        else extractor(smaller[std::size_t(l - 1)], features[std::size_t(l)], cell, detector.windowHeight, detector.windowWidth);
    });

    // Each filter set on each level; a level's hits in dlib's scan order (row by row).
    const unsigned long sets = detector.sets.size();
    std::vector<DlibFilters> filters;
    for (const FilterSet& set : detector.sets) filters.push_back(toDlib(set));
    const long boxWidth = detector.windowWidth - 2 * detector.padding, boxHeight = detector.windowHeight - 2 * detector.padding;
    std::vector<std::vector<std::pair<double, dlib::rectangle>>> hits(sets * levels);
    // Level by level (the largest first), so the last items left are small ones.
    forEach(int(sets * levels), [&](int task) {
        const unsigned long l = static_cast<unsigned long>(task) / sets, d = static_cast<unsigned long>(task) % sets;
        dlib::array2d<float> saliency;
        const dlib::rectangle area = applyFilters(filters[d], features[l], saliency);
        const double threshold = detector.sets[d].threshold + adjustThreshold;
        auto& into = hits[std::size_t(d * levels + l)];
        for (long r = area.top(); r <= area.bottom(); ++r)
            for (long c = area.left(); c <= area.right(); ++c)
                if (saliency[r][c] >= threshold) {
                    const dlib::rectangle rect = extractor.feats_to_image(dlib::centered_rect(dlib::point(c, r), boxWidth, boxHeight),
                                                                          cell, detector.windowHeight, detector.windowWidth);
                    into.emplace_back(saliency[r][c], pyramid.rect_up(rect, l));
                }
    });

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
            det.detection_confidence = score - detector.sets[d].threshold;
            det.weight_index = d;
            det.rect = rect;
            all.push_back(det);
        }
    }
    if (sets > 1) std::sort(all.rbegin(), all.rend());
    const dlib::test_box_overlap overlaps(detector.overlapIou, detector.overlapCovered);
    std::vector<Detection> kept;
    for (const dlib::rect_detection& det : all) {
        const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
            return overlaps(dlib::rectangle(k.left, k.top, k.right, k.bottom), det.rect);
        });
        if (!suppressed)
            kept.push_back({det.rect.left(), det.rect.top(), det.rect.right(), det.rect.bottom(), det.detection_confidence,
                            det.weight_index});
    }
    return kept;
}

#ifdef IDEU_HOG_BUILD_AVX2
std::vector<Detection> dlibDetectorAvx2(const cv::Mat& bgr, double adjustThreshold) {
    CV_Assert(bgr.type() == CV_8UC3);
    dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
    std::vector<dlib::rect_detection> found;
    detector(dlib::cv_image<dlib::bgr_pixel>(bgr), found, adjustThreshold);
    std::vector<Detection> out;
    for (const dlib::rect_detection& d : found)
        out.push_back({d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.detection_confidence, d.weight_index});
    return out;
}
#endif

}  // namespace ideu::hog
