// Torch headers come first: Qt's `slots` macro would break them (this file has no Qt).
#include <torch/torch.h>

#include "recognition/faceres.h"

#include "common/error.h"
#include "models/model_store.h"
#include "nets/tfjs_model.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>

namespace ideu {
namespace {

cv::Point2d meanOf(const Landmarks68& p, int from, int to) {
    cv::Point2d sum(0, 0);
    for (int i = from; i <= to; ++i) sum += p[std::size_t(i)];
    return sum / double(to - from + 1);
}

// JavaScript's Math.round (halves go up, also below zero).
int jsRound(double x) { return int(std::floor(x + 0.5)); }

const char* const kOutputs[] = {"global_pooling/Mean", "gender_pred/Sigmoid", "age_pred/Softmax"};

}  // namespace

double FaceResOutput::ageYears() const {
    double sum = 0;
    for (std::size_t i = 0; i < age.size(); ++i) sum += double(i) * double(age[i]);
    return sum;
}

double cosineDistance(const FaceResDescriptor& a, const FaceResDescriptor& b) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += double(a[i]) * double(b[i]);
        na += double(a[i]) * double(a[i]);
        nb += double(b[i]) * double(b[i]);
    }
    if (na <= 0 || nb <= 0) return 1;
    return 1 - dot / std::sqrt(na * nb);
}

FaceResBox faceResBox(const Landmarks68& p) {
    const cv::Point2d le = meanOf(p, 36, 41), re = meanOf(p, 42, 47), mouth = meanOf(p, 48, 67);
    const cv::Point2d eyes = (le + re) * 0.5;
    const double theta = std::atan2(re.y - le.y, re.x - le.x);
    const double side = 1.336 * cv::norm(p[16] - p[0]) + 0.949 * cv::norm(mouth - eyes);
    const double ox = 0.010 * side, oy = 0.133 * side;
    const double cx = eyes.x + std::cos(theta) * ox - std::sin(theta) * oy;
    const double cy = eyes.y + std::sin(theta) * ox + std::cos(theta) * oy;
    return {jsRound(cx - side / 2), jsRound(cy - side / 2), jsRound(cx + side / 2), jsRound(cy + side / 2)};
}

cv::Mat faceResCrop(const cv::Mat& bgr, const FaceResBox& box) {
    CV_Assert(bgr.type() == CV_8UC3);
    const int w = bgr.cols, h = bgr.rows, n = kFaceResCropSize;
    // TF's cropAndResize with the box normalised by the image size, as the reference does.
    const float bx0 = float(box.x0) / float(w), bx1 = float(box.x1) / float(w);
    const float by0 = float(box.y0) / float(h), by1 = float(box.y1) / float(h);
    const float xScale = (bx1 - bx0) * float(w - 1) / float(n - 1);
    const float yScale = (by1 - by0) * float(h - 1) / float(n - 1);
    cv::Mat crop(n, n, CV_32FC3, cv::Scalar::all(0));
    for (int y = 0; y < n; ++y) {
        const float inY = by0 * float(h - 1) + float(y) * yScale;
        if (inY < 0 || inY > float(h - 1)) continue;
        const int top = int(std::floor(inY)), bottom = int(std::ceil(inY));
        const float yl = inY - float(top);
        const cv::Vec3b* rowTop = bgr.ptr<cv::Vec3b>(top);
        const cv::Vec3b* rowBottom = bgr.ptr<cv::Vec3b>(bottom);
        cv::Vec3f* out = crop.ptr<cv::Vec3f>(y);
        for (int x = 0; x < n; ++x) {
            const float inX = bx0 * float(w - 1) + float(x) * xScale;
            if (inX < 0 || inX > float(w - 1)) continue;
            const int left = int(std::floor(inX)), right = int(std::ceil(inX));
            const float xl = inX - float(left);
            for (int c = 0; c < 3; ++c) {
                const int k = 2 - c;  // BGR -> RGB
                out[x][c] = nets::tfBilinear(rowTop[left][k], rowTop[right][k], rowBottom[left][k], rowBottom[right][k], xl, yl) / 255.f;
            }
        }
    }
    return crop;
}

struct FaceResRecognizer::Impl {
    std::unique_ptr<nets::TfjsGraph> graph;
    torch::Device device{torch::kCPU};
};

std::shared_ptr<const FaceResRecognizer> FaceResRecognizer::shared() { return sharedModel<FaceResRecognizer>("faceres-graph", "faceres"); }

FaceResRecognizer::FaceResRecognizer(const std::string& graphPath, const std::string& weightsPath)
    : impl_(std::make_unique<Impl>()) {
    impl_->graph = std::make_unique<nets::TfjsGraph>(graphPath, weightsPath);
    // Fail at load time, not at the first face, when the file is not this network.
    for (const char* name : {kOutputs[0], kOutputs[1], kOutputs[2], "input_1"})
        if (!impl_->graph->hasNode(name)) throw ModelError("'" + graphPath + "' is not the FaceRes graph (no node '" + name + "')");
    if (torch::cuda::is_available()) {
        at::globalContext().setAllowTF32CuDNN(false);  // TF32 changes descriptors beyond float rounding
        at::globalContext().setAllowTF32CuBLAS(false);
        impl_->device = torch::Device(torch::kCUDA);
        impl_->graph->to(impl_->device);
    }
}

FaceResRecognizer::~FaceResRecognizer() = default;

cv::Mat FaceResRecognizer::networkInput(const cv::Mat& crop) {
    if (crop.rows != kFaceResCropSize || crop.cols != kFaceResCropSize || crop.channels() != 3)
        throw Error("a FaceRes crop must be 192x192 with 3 channels");
    cv::Mat source;
    if (crop.depth() == CV_8U) crop.convertTo(source, CV_32FC3, 1.0 / 255.0);
    else source = crop;
    // TF's resizeBilinear, alignCorners = false and halfPixelCenters = false.
    const float scale = float(kFaceResCropSize) / float(kFaceResInputSize);
    cv::Mat input = nets::tfSampleGrid(source, kFaceResInputSize, {0.f, 0.f}, {scale, scale});
    input *= 255.f;
    return input;
}

std::vector<FaceResOutput> FaceResRecognizer::runNetwork(const std::vector<cv::Mat>& inputs) const {
    if (inputs.empty()) return {};
    torch::NoGradGuard noGrad;
    for (const cv::Mat& in : inputs)
        if (in.rows != kFaceResInputSize || in.cols != kFaceResInputSize || in.type() != CV_32FC3)
            throw Error("a FaceRes input must be 224x224 CV_32FC3");
    const torch::Tensor batch = nets::nhwcBatch(inputs, kFaceResInputSize);
    const auto out = impl_->graph->run({{"input_1", batch.to(impl_->device)}},
                                       {kOutputs[0], kOutputs[1], kOutputs[2]});
    const torch::Tensor descriptors = out[0].to(torch::kCPU).contiguous();
    const torch::Tensor genders = out[1].to(torch::kCPU).contiguous();
    const torch::Tensor ages = out[2].to(torch::kCPU).contiguous();
    if (descriptors.size(1) != 1024 || genders.size(1) != 1 || ages.size(1) != 100)
        throw ModelError("the FaceRes graph's outputs do not have the expected sizes");
    std::vector<FaceResOutput> result(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::memcpy(result[i].descriptor.data(), descriptors[std::int64_t(i)].data_ptr<float>(), sizeof(float) * 1024);
        result[i].gender = genders[std::int64_t(i)][0].item<float>();
        std::memcpy(result[i].age.data(), ages[std::int64_t(i)].data_ptr<float>(), sizeof(float) * 100);
    }
    return result;
}

std::vector<FaceResOutput> FaceResRecognizer::describeCrops(const std::vector<cv::Mat>& crops) const {
    std::vector<cv::Mat> inputs;
    for (const cv::Mat& c : crops) inputs.push_back(networkInput(c));
    return runNetwork(inputs);
}

FaceResOutput FaceResRecognizer::describe(const cv::Mat& bgr, const Landmarks68& landmarks) const {
    return describeCrops({faceResCrop(bgr, faceResBox(landmarks))}).front();
}

}  // namespace ideu
