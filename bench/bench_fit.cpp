// Landmark-fit accuracy (NME of the 51 inner points) and speed over a photo set.
#include "bench_common.h"

#include "align/face_align.h"
#include "face/face_detector.h"
#include "fitting/landmark_fitter.h"
#include "io/image_io.h"
#include "morphable/morphable_model.h"

#include <cstdio>

namespace ideu::bench {

int benchFit(const std::vector<std::string>& args) {
    const auto detector = FaceDetector::shared();
    const MorphableModel& model = sharedFaceModel();
    const LandmarkFitter fitter(model);
    std::vector<double> nmes, times, yaws;
    std::printf("%-48s %8s %8s %8s %7s\n", "photo", "NME51", "rms px", "fit ms", "yaw");
    for (const std::string& file : collectImages(args)) {
        const Image image = loadImage(file);
        const auto faces = detector->detect(image.bgr).faces;
        if (faces.empty()) continue;
        const FaceAlignment alignment = computeAlignment(faces[0].landmarks);
        Landmarks68 local;
        for (int i = 0; i < 68; ++i) local[std::size_t(i)] = toCrop(alignment, faces[0].landmarks[std::size_t(i)]);
        FaceFit fit;
        std::vector<double> t;
        for (int r = 0; r < 3; ++r) {
            Stopwatch watch;
            fit = fitter.fit(local, Camera::forCrop(alignment.size));
            t.push_back(watch.ms());
        }
        nmes.push_back(fit.nmeInner);
        times.push_back(median(t));
        yaws.push_back(fit.pose.anglesDegrees().x());
        std::printf("%-48s %8.4f %8.2f %8.1f %7.1f\n", file.substr(file.size() > 48 ? file.size() - 48 : 0).c_str(),
                    fit.nmeInner, fit.rmsPixels, median(t), yaws.back());
    }
    std::printf("\nfaces: %zu\nNME51 distribution: min %.4f  p10 %.4f  median %.4f  mean %.4f  p90 %.4f  max %.4f\n",
                nmes.size(), percentile(nmes, 0), percentile(nmes, 0.1), median(nmes),
                [&] { double s = 0; for (double v : nmes) s += v; return s / std::max<std::size_t>(1, nmes.size()); }(),
                percentile(nmes, 0.9), percentile(nmes, 1));
    int under = 0;
    for (double v : nmes) under += v <= 0.04;
    std::printf("faces with NME51 <= 0.04: %d of %zu\n", under, nmes.size());
    std::printf("fit_ms_median=%.1f nme51_median=%.4f nme51_mean=%.4f\n", median(times), median(nmes),
                [&] { double s = 0; for (double v : nmes) s += v; return s / std::max<std::size_t>(1, nmes.size()); }());
    return 0;
}

}  // namespace ideu::bench
