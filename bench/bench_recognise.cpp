// The two recognisers per face: crop + embed time (median) of the dlib ResNet chip and of
// the HSE FaceRes head crop, on the same faces.
#include "bench_common.h"

#include "face/face_detector.h"
#include "io/image_io.h"
#include "recognition/face_chip.h"
#include "recognition/face_recognizer.h"
#include "recognition/faceres.h"

#include <cstdio>

namespace ideu::bench {

int benchRecognise(const std::vector<std::string>& args) {
    const auto detector = FaceDetector::shared();
    const auto dlib = FaceRecognizer::shared();
    const auto faceres = FaceResRecognizer::shared();
    std::vector<double> dlibCrop, dlibEmbed, faceresCrop, faceresEmbed;
    for (const std::string& file : collectImages(args)) {
        const Image image = loadImage(file);
        for (const DetectedFace& face : detector->detect(image.bgr).faces) {
            for (int repeat = 0; repeat < 3; ++repeat) {
                Stopwatch a;
                const cv::Mat chip = extractChip(image.bgr, chipTransform(face.landmarks));
                dlibCrop.push_back(a.ms());
                Stopwatch b;
                dlib->describeChip(chip);
                dlibEmbed.push_back(b.ms());
                Stopwatch c;
                const cv::Mat crop = faceResCrop(image.bgr, faceResBox(face.landmarks));
                faceresCrop.push_back(c.ms());
                Stopwatch d;
                faceres->describeCrops({crop});
                faceresEmbed.push_back(d.ms());
            }
        }
    }
    std::printf("faces: %zu (3 repeats each), medians per face:\n", dlibCrop.size() / 3);
    std::printf("%-12s crop %7.2f ms  embed %7.2f ms  total %7.2f ms\n", "dlib ResNet", median(dlibCrop), median(dlibEmbed),
                median(dlibCrop) + median(dlibEmbed));
    std::printf("%-12s crop %7.2f ms  embed %7.2f ms  total %7.2f ms\n", "FaceRes", median(faceresCrop), median(faceresEmbed),
                median(faceresCrop) + median(faceresEmbed));
    std::printf("dlib_crop_ms=%.2f dlib_embed_ms=%.2f faceres_crop_ms=%.2f faceres_embed_ms=%.2f\n", median(dlibCrop),
                median(dlibEmbed), median(faceresCrop), median(faceresEmbed));
    return 0;
}

}  // namespace ideu::bench
