// The appearance model at a glance: its mean relative albedo and the first modes at ±2
// standard deviations (UV images in a row each), written as PNGs, with the spectrum printed.
#include "bench_common.h"

#include "appearance/appearance_model.h"
#include "deid/perturbed_face.h"
#include "io/image_io.h"

#include <algorithm>
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
    // Mirror symmetry: the share of a field's energy (about its mean) that is antisymmetric
    // (left-right) in UV.
    std::vector<int> mirror(std::size_t(pca.texelCount()), -1);
    {
        std::vector<int> texelAt(std::size_t(pca.roi.area()), -1);
        for (int t = 0; t < pca.texelCount(); ++t) texelAt[std::size_t(pca.texels[std::size_t(t)])] = t;
        for (int t = 0; t < pca.texelCount(); ++t) {
            const int px = pca.texels[std::size_t(t)] % pca.roi.width, py = pca.texels[std::size_t(t)] / pca.roi.width;
            const int mx = pca.uvSize - 1 - (pca.roi.x + px) - pca.roi.x;
            if (mx >= 0 && mx < pca.roi.width) mirror[std::size_t(t)] = texelAt[std::size_t(py * pca.roi.width + mx)];
        }
    }
    auto antisymmetric = [&](const Eigen::VectorXf& v) {
        double anti = 0, all = 0;
        for (int t = 0; t < pca.texelCount(); ++t) {
            const int m = mirror[std::size_t(t)];
            if (m < 0) continue;
            for (int c = 0; c < 3; ++c) {
                const double a = v(3 * t + c), b = v(3 * m + c);
                anti += 0.25 * (a - b) * (a - b);
                all += a * a;
            }
        }
        return all > 0 ? anti / all : 0.0;
    };
    std::printf("\nantisymmetric share of the first modes:");
    for (int k = 0; k < std::min(12, pca.components()); ++k) std::printf(" %.2f", antisymmetric(pca.basis.col(k)));
    double weighted = 0;
    for (int k = 0; k < pca.components(); ++k) weighted += antisymmetric(pca.basis.col(k)) * double(pca.stddev(k)) * pca.stddev(k);
    std::printf("\nantisymmetric share of the gallery's variance: %.2f\nof the albedo noise of seeds 1-6:", weighted / total);
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        IdentityCode code;
        code.shape = Eigen::VectorXf::Zero(1);
        code.albedo = Eigen::VectorXf::Zero(pca.components());
        const IdentityCode p = perturbIdentity(code, 1.0, seed, {}, identityNoiseConstraints(FaceModelContext::shared(), model));
        std::printf(" %.2f", antisymmetric(pca.basis * pca.stddev.cwiseProduct(p.albedoNoise)));
    }
    std::vector<float> ages;
    int men = 0;
    for (const BankFace& b : model.bank) ages.push_back(b.age), men += b.gender > 0.5f;
    std::sort(ages.begin(), ages.end());
    if (!ages.empty())
        std::printf("\nbank ages (FaceRes): min %.0f, quartiles %.0f %.0f %.0f, max %.0f; %d of %zu men", ages.front(),
                    ages[ages.size() / 4], ages[ages.size() / 2], ages[3 * ages.size() / 4], ages.back(), men, ages.size());
    std::printf("\nbank: %zu faces; wrote %s/modes.png (mean, then modes 1-8 at -2 / +2 sd)\n", model.bank.size(), dir.c_str());
    return 0;
}

}  // namespace ideu::bench
