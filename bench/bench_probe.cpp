// Quick privacy probe of Step I alone: X_p pasted over the face with a simple feathered
// mask (no Step II), then the recogniser's distance to the original. For research on which
// identity cues matter; the product's numbers come from 'ideudemon-cli evaluate'.
#include "bench_common.h"

#include "deid/fitted_face.h"
#include "deid/perturbed_face.h"
#include "face/face_detector.h"
#include "io/image_io.h"
#include "recognition/face_recognizer.h"

#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace ideu::bench {

int benchProbe(const std::vector<std::string>& argsIn) {
    std::vector<std::string> args = argsIn;
    double scale = 0.25;
    int seeds = 1;
    std::string saveDir;
    for (std::size_t i = 0; i + 1 < args.size();) {
        if (args[i] == "--scale") { scale = std::atof(args[i + 1].c_str()); args.erase(args.begin() + long(i), args.begin() + long(i) + 2); }
        else if (args[i] == "--seeds") { seeds = std::atoi(args[i + 1].c_str()); args.erase(args.begin() + long(i), args.begin() + long(i) + 2); }
        else if (args[i] == "--save") { saveDir = args[i + 1]; args.erase(args.begin() + long(i), args.begin() + long(i) + 2); }
        else ++i;
    }
    const auto detector = FaceDetector::shared();
    const auto recognizer = FaceRecognizer::shared();
    const FaceModelContext& context = FaceModelContext::shared();
    const AppearanceModel& model = sharedAppearanceModel();
    std::vector<double> dis;
    int matches = 0, lost = 0, n = 0;
    for (const std::string& file : collectImages(args)) {
        const Image image = loadImage(file);
        const auto faces = detector->detect(image.bgr).faces;
        if (faces.empty()) continue;
        const FaceDescriptor original = recognizer->describe(image.bgr, faces[0].landmarks);
        const FittedFace face = fitFace(context, model, image.bgr, faces[0]);
        for (int s = 0; s < seeds; ++s) {
            const PerturbedFace p = perturbFace(context, model, face, scale, std::uint64_t(s + 1));
            cv::Mat m;
            cv::erode(p.mask, m, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(9, 9)));
            cv::GaussianBlur(m, m, cv::Size(0, 0), 3);
            cv::Mat mf;
            m.convertTo(mf, CV_32F, 1 / 255.0);
            cv::Mat m3;
            cv::merge(std::vector<cv::Mat>{mf, mf, mf}, m3);
            cv::Mat x;
            face.crop.image.convertTo(x, CV_32FC3);
            cv::Mat blended = x.mul(cv::Scalar::all(1) - m3) + p.image.mul(m3);
            blended.convertTo(blended, CV_8UC3);
            cv::Mat out = image.bgr.clone();
            pasteChanges(out, blended, face.crop.image, face.crop.alignment, 8);
            const auto again = detector->detect(out).faces;
            ++n;
            if (again.empty()) { ++lost; continue; }
            const double d = descriptorDistance(original, recognizer->describe(out, again[0].landmarks));
            dis.push_back(d);
            matches += d < kMatchThreshold;
            if (!saveDir.empty() && s == 0) {
                const std::string name = std::filesystem::path(file).parent_path().filename().string() + "_" +
                                         std::filesystem::path(file).stem().string();
                cv::Mat pair;
                cv::hconcat(face.crop.image, blended, pair);
                saveImage(saveDir + "/" + name + ".jpg", pair);
            }
            std::printf("%-40s seed %d  DIS %.3f\n", file.substr(file.size() > 40 ? file.size() - 40 : 0).c_str(), s + 1, d);
        }
    }
    double mean = 0;
    for (double d : dis) mean += d;
    mean /= std::max<std::size_t>(1, dis.size());
    std::printf("scale %.2f: %d runs, mean DIS %.3f, median %.3f, match rate %.1f %%, face lost %d\n", scale, n, mean,
                median(dis), 100.0 * matches / std::max<std::size_t>(1, dis.size()), lost);
    return 0;
}

}  // namespace ideu::bench
