// The appearance model at a glance: its mean relative albedo and the first modes at ±2
// standard deviations (UV images in a row each), written as PNGs, with the spectrum printed.
#include "bench_common.h"

#include "appearance/appearance_model.h"
#include "io/image_io.h"

#include <cstdio>

namespace ideu::bench {

int benchAppearance(const std::vector<std::string>& args) {
    const AppearanceModel& model = sharedAppearanceModel();
    const AlbedoPca& pca = model.pca;
    const std::string dir = args.empty() ? "appearance-modes" : args[0];
    auto picture = [&](const Eigen::VectorXf& relative) {
        cv::Mat image = pca.toImage(relative) * 180.0;  // mean skin at 180 levels
        cv::Mat out;
        image.convertTo(out, CV_8UC3);
        return out;
    };
    std::vector<cv::Mat> row{picture(pca.mean)};
    for (int k = 0; k < std::min(8, pca.components()); ++k) {
        Eigen::VectorXf c = Eigen::VectorXf::Zero(pca.components());
        c(k) = -2;
        cv::Mat minus = picture(pca.reconstruct(c));
        c(k) = 2;
        cv::Mat plus = picture(pca.reconstruct(c)), pair;
        cv::vconcat(minus, plus, pair);
        row.push_back(pair);
    }
    cv::Mat meanTall;
    cv::vconcat(row[0], cv::Mat::zeros(row[0].size(), row[0].type()), meanTall);
    row[0] = meanTall;
    cv::Mat sheet;
    cv::hconcat(row, sheet);
    saveImage(dir + "/modes.png", sheet);
    double total = 0;
    for (int k = 0; k < pca.components(); ++k) total += double(pca.stddev(k)) * pca.stddev(k);
    std::printf("%d modes, %d texels; standard deviations of the first modes:", pca.components(), pca.texelCount());
    double cumulative = 0;
    for (int k = 0; k < pca.components(); ++k) {
        cumulative += double(pca.stddev(k)) * pca.stddev(k);
        if (k < 12) std::printf(" %.3f", pca.stddev(k));
    }
    std::printf("\nbank: %zu faces; wrote %s/modes.png (mean, then modes 1-8 at -2 / +2 sd)\n", model.bank.size(), dir.c_str());
    return 0;
}

}  // namespace ideu::bench
