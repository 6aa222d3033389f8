// The appearance builder's screening scores for every gallery photo (to see what each rule
// catches and calibrate its threshold): landmark error, turn, mouth opening, glasses score,
// forehead cover.
#include "bench_common.h"

#include "appearance/appearance_builder.h"
#include "io/image_io.h"

#include <cstdio>
#include <filesystem>

namespace ideu::bench {

int benchScreen(const std::vector<std::string>& args) {
    const FaceModelContext& context = FaceModelContext::shared();
    std::printf("%-28s %6s %6s %6s %6s %8s %8s\n", "photo", "NME", "yaw", "pitch", "mouth", "glasses", "forehead");
    for (const std::string& file : collectImages(args)) {
        const Image image = loadImage(file);
        const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
        const std::string name = std::filesystem::path(file).filename().string();
        if (faces.empty()) {
            std::printf("%-28s no face\n", name.c_str());
            continue;
        }
        const FittedFace face = fitFaceGeometry(context, image.bgr, faces[0]);
        const Eigen::Vector3d a = face.fit.pose.anglesDegrees();
        const auto& p = face.landmarks;
        const double mouth = (cv::norm(p[66] - p[62]) + cv::norm(p[67] - p[61]) + cv::norm(p[65] - p[63])) / 3.0 /
                             std::max(1e-9, cv::norm(p[54] - p[48]));
        std::printf("%-28s %6.3f %6.1f %6.1f %6.3f %8.3f %8.3f\n", name.c_str(), face.fit.nmeInner, a.x(), a.y(), mouth,
                    glassesScore(face), foreheadCover(face));
    }
    return 0;
}

}  // namespace ideu::bench
