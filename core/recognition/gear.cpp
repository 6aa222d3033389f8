// Torch headers come first: Qt's `slots` macro would break them (this file has no Qt).
#include <torch/torch.h>

#include "recognition/gear.h"

#include "common/error.h"
#include "models/model_store.h"
#include "nets/tfjs_model.h"

#include <cmath>
#include <cstring>

namespace ideu {
namespace {

const char* const kAgeOutput = "StatefulPartitionedCall/model_1/age_output/Softmax";
const char* const kGenderOutput = "StatefulPartitionedCall/model_1/gender_output/Softmax";
constexpr std::array<double, 7> kClassAges = {15, 23, 28, 35.5, 45.5, 55.5, 65};

}  // namespace

double GearOutput::ageYears() const {
    double sum = 0, total = 0;
    for (std::size_t i = 0; i < age.size(); ++i) {
        sum += kClassAges[i] * double(age[i]);
        total += double(age[i]);
    }
    return total > 0 ? sum / total : 0;
}

struct GearEstimator::Impl {
    std::unique_ptr<nets::TfjsGraph> graph;
};

std::shared_ptr<const GearEstimator> GearEstimator::shared() { return sharedModel<GearEstimator>("gear-graph", "gear"); }

GearEstimator::GearEstimator(const std::string& graphPath, const std::string& weightsPath) : impl_(std::make_unique<Impl>()) {
    impl_->graph = std::make_unique<nets::TfjsGraph>(graphPath, weightsPath);
    for (const char* name : {kAgeOutput, kGenderOutput, "input_1"})
        if (!impl_->graph->hasNode(name)) throw ModelError("'" + graphPath + "' is not the GEAR graph (no node '" + name + "')");
}

GearEstimator::~GearEstimator() = default;

cv::Mat GearEstimator::networkInput(const cv::Mat& crop) {
    if (crop.type() != CV_32FC3 || crop.rows != crop.cols || crop.rows < 2) throw Error("a GEAR source crop must be square CV_32FC3");
    // TF's cropAndResize with the box (top 0, left 0.1, bottom 0.9, right 0.9) of the face crop.
    const int m = crop.rows, n = kGearInputSize;
    const float y0 = 0.f, y1 = 0.9f, x0 = 0.1f, x1 = 0.9f;
    const float yScale = (y1 - y0) * float(m - 1) / float(n - 1), xScale = (x1 - x0) * float(m - 1) / float(n - 1);
    cv::Mat input(n, n, CV_32FC3);
    for (int y = 0; y < n; ++y) {
        const float inY = y0 * float(m - 1) + float(y) * yScale;
        const int top = int(std::floor(inY)), bottom = std::min(int(std::ceil(inY)), m - 1);
        const float yl = inY - float(top);
        const cv::Vec3f* rowTop = crop.ptr<cv::Vec3f>(top);
        const cv::Vec3f* rowBottom = crop.ptr<cv::Vec3f>(bottom);
        cv::Vec3f* out = input.ptr<cv::Vec3f>(y);
        for (int x = 0; x < n; ++x) {
            const float inX = x0 * float(m - 1) + float(x) * xScale;
            const int left = int(std::floor(inX)), right = std::min(int(std::ceil(inX)), m - 1);
            const float xl = inX - float(left);
            for (int c = 0; c < 3; ++c)
                out[x][c] = nets::tfBilinear(rowTop[left][c], rowTop[right][c], rowBottom[left][c], rowBottom[right][c], xl, yl);
        }
    }
    return input;
}

std::vector<GearOutput> GearEstimator::estimateCrops(const std::vector<cv::Mat>& crops) const {
    if (crops.empty()) return {};
    torch::NoGradGuard noGrad;
    const int n = kGearInputSize;
    torch::Tensor batch = torch::empty({std::int64_t(crops.size()), n, n, 3}, torch::kFloat32);
    for (std::size_t i = 0; i < crops.size(); ++i) {
        const cv::Mat in = networkInput(crops[i]);
        std::memcpy(batch[std::int64_t(i)].data_ptr<float>(), in.ptr<float>(), sizeof(float) * std::size_t(n * n * 3));
    }
    const auto out = impl_->graph->run({{"input_1", batch}}, {kAgeOutput, kGenderOutput});
    const torch::Tensor ages = out[0].contiguous(), genders = out[1].contiguous();
    if (ages.size(1) != 7 || genders.size(1) != 2) throw ModelError("the GEAR graph's outputs do not have the expected sizes");
    std::vector<GearOutput> result(crops.size());
    for (std::size_t i = 0; i < crops.size(); ++i) {
        std::memcpy(result[i].age.data(), ages[std::int64_t(i)].data_ptr<float>(), sizeof(float) * 7);
        result[i].male = genders[std::int64_t(i)][0].item<float>();
    }
    return result;
}

}  // namespace ideu
