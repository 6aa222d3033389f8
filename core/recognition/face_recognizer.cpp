// Torch headers come first: Qt's `slots` macro would break them (this file has no Qt).
#include <torch/torch.h>

#include "recognition/face_recognizer.h"

#include "common/error.h"
#include "common/files.h"
#include "models/model_store.h"
#include "nets/tfjs_model.h"
#include "recognition/face_chip.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

namespace ideu {
namespace {

struct Conv {
    torch::Tensor filters, bias, scale, shift;
};

torch::Tensor conv(const torch::Tensor& x, const Conv& c, int stride, bool relu, int padding) {
    torch::Tensor y = torch::conv2d(x, c.filters, {}, stride, padding);
    y = y + c.bias;
    y = y * c.scale + c.shift;
    return relu ? torch::relu(y) : y;
}

}  // namespace

struct FaceRecognizer::Impl {
    std::map<std::string, Conv> convs;
    torch::Tensor fc;
    torch::Tensor mean;
    torch::Device device{torch::kCPU};

    const Conv& at(const std::string& name) const {
        auto it = convs.find(name);
        if (it == convs.end()) throw ModelError("face recogniser weights lack '" + name + "'");
        return it->second;
    }
    torch::Tensor residual(const torch::Tensor& x, const std::string& p) const {
        torch::Tensor out = conv(x, at(p + "/conv1"), 1, true, 1);
        out = conv(out, at(p + "/conv2"), 1, false, 1);
        return torch::relu(out + x);
    }
    torch::Tensor residualDown(const torch::Tensor& x, const std::string& p) const {
        torch::Tensor out = conv(x, at(p + "/conv1"), 2, true, 0);
        out = conv(out, at(p + "/conv2"), 1, false, 1);
        torch::Tensor pooled = torch::avg_pool2d(x, 2, 2);
        // face-api pads ONE zero row (bottom) and column (right) when the conv path is smaller,
        // and zero channels after the pooled ones when the widths differ.
        if (pooled.size(2) != out.size(2)) out = torch::constant_pad_nd(out, {0, 1, 0, 1});
        if (pooled.size(1) != out.size(1)) pooled = torch::cat({pooled, torch::zeros_like(pooled)}, 1);
        return torch::relu(pooled + out);
    }
    torch::Tensor forward(torch::Tensor x) const {  // x: N,3,150,150 normalised
        x = conv(x, at("conv32_down"), 2, true, 0);
        x = torch::max_pool2d(x, 3, 2);
        for (const char* p : {"conv32_1", "conv32_2", "conv32_3"}) x = residual(x, p);
        x = residualDown(x, "conv64_down");
        for (const char* p : {"conv64_1", "conv64_2", "conv64_3"}) x = residual(x, p);
        x = residualDown(x, "conv128_down");
        for (const char* p : {"conv128_1", "conv128_2"}) x = residual(x, p);
        x = residualDown(x, "conv256_down");
        for (const char* p : {"conv256_1", "conv256_2"}) x = residual(x, p);
        x = residualDown(x, "conv256_down_out");
        x = x.mean({2, 3});
        return torch::matmul(x, fc);
    }
};

std::shared_ptr<const FaceRecognizer> FaceRecognizer::shared() { return sharedModel<FaceRecognizer>("face-recognition", "face-recognition-manifest"); }

FaceRecognizer::FaceRecognizer(const std::string& weightsPath, const std::string& manifestPath)
    : impl_(std::make_unique<Impl>()) {
    const std::map<std::string, torch::Tensor> tensors = nets::loadTfjsWeights(weightsPath, manifestPath);
    for (const auto& [name, t] : tensors) {
        const auto slash = name.rfind('/');
        if (name == "fc") continue;
        const std::string leaf = name.substr(slash + 1);
        const std::string group = name.substr(0, slash);  // e.g. conv32_1/conv1/conv or conv32_1/conv1/scale
        const std::string layer = group.substr(0, group.rfind('/'));
        Conv& c = impl_->convs[layer];
        if (leaf == "filters") c.filters = t.permute({3, 2, 0, 1}).contiguous();  // HWIO -> OIHW
        else if (leaf == "bias") c.bias = t.view({1, -1, 1, 1});
        else if (leaf == "weights") c.scale = t.view({1, -1, 1, 1});
        else if (leaf == "biases") c.shift = t.view({1, -1, 1, 1});
    }
    if (!tensors.count("fc")) throw ModelError("face recogniser weights lack 'fc'");
    impl_->fc = tensors.at("fc");
    for (const auto& [name, c] : impl_->convs)
        if (!c.filters.defined() || !c.bias.defined() || !c.scale.defined() || !c.shift.defined())
            throw ModelError("face recogniser layer '" + name + "' is incomplete");
    impl_->mean = torch::tensor({122.782f, 117.001f, 104.298f}).view({1, 1, 1, 3});
    if (torch::cuda::is_available()) {
        // On a GPU, TF32 would change the descriptors by more than float32 rounding.
        at::globalContext().setAllowTF32CuDNN(false);
        at::globalContext().setAllowTF32CuBLAS(false);
        impl_->device = torch::Device(torch::kCUDA);
        for (auto& [name, c] : impl_->convs) {
            c.filters = c.filters.to(impl_->device);
            c.bias = c.bias.to(impl_->device);
            c.scale = c.scale.to(impl_->device);
            c.shift = c.shift.to(impl_->device);
        }
        impl_->fc = impl_->fc.to(impl_->device);
    }
}

FaceRecognizer::~FaceRecognizer() = default;

std::vector<FaceDescriptor> FaceRecognizer::describeChips(const std::vector<cv::Mat>& chips) const {
    if (chips.empty()) return {};
    torch::NoGradGuard noGrad;
    std::vector<cv::Mat> floatChips;
    for (const cv::Mat& chip : chips) {
        if (chip.rows != kChipSize || chip.cols != kChipSize || chip.channels() != 3)
            throw Error("face chip must be 150x150 with 3 channels");
        floatChips.push_back(chip);
        if (chip.depth() != CV_32F) chip.convertTo(floatChips.back(), CV_32FC3);
    }
    const torch::Tensor batch = nets::nhwcBatch(floatChips, kChipSize);
    torch::Tensor x = ((batch - impl_->mean) / 255.0f).permute({0, 3, 1, 2}).contiguous().to(impl_->device);
    const torch::Tensor out = impl_->forward(x).to(torch::kCPU).contiguous();
    std::vector<FaceDescriptor> result(chips.size());
    for (std::size_t i = 0; i < chips.size(); ++i)
        std::memcpy(result[i].data(), out[std::int64_t(i)].data_ptr<float>(), sizeof(float) * 128);
    return result;
}

FaceDescriptor FaceRecognizer::describeChip(const cv::Mat& chip) const { return describeChips({chip}).front(); }

FaceDescriptor FaceRecognizer::describe(const cv::Mat& bgr, const Landmarks68& landmarks) const {
    return describeChip(extractChip(bgr, chipTransform(landmarks)));
}

double descriptorDistance(const FaceDescriptor& a, const FaceDescriptor& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
    return std::sqrt(sum);
}

}  // namespace ideu
