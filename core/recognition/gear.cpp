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
    return nets::tfSampleGrid(crop, n, {x0 * float(m - 1), y0 * float(m - 1)}, {xScale, yScale});
}

std::vector<GearOutput> GearEstimator::estimateCrops(const std::vector<cv::Mat>& crops) const {
    if (crops.empty()) return {};
    torch::NoGradGuard noGrad;
    std::vector<cv::Mat> inputs;
    for (const cv::Mat& crop : crops) inputs.push_back(networkInput(crop));
    const torch::Tensor batch = nets::nhwcBatch(inputs, kGearInputSize);
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
