// Torch headers come first: Qt's `slots` macro would break them (this file has no Qt).
#include <torch/torch.h>

#include "face/ssd_detector.h"

#include "common/error.h"
#include "common/files.h"
#include "models/model_store.h"
#include "nets/tfjs_model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

namespace ideu {
namespace {

constexpr float kBatchNormEpsilon = 0.0010000000474974513f;  // face-api's, in float32

torch::Tensor clip6(const torch::Tensor& x) { return torch::clamp(x, 0, 6); }

}  // namespace

struct SsdFaceDetector::Impl {
    std::map<std::string, torch::Tensor> w;
    torch::Tensor anchors;  // 5118 x 4

    const torch::Tensor& at(const std::string& name) const {
        auto it = w.find(name);
        if (it == w.end()) throw ModelError("SSD face detector weights lack '" + name + "'");
        return it->second;
    }
    torch::Tensor pointwise(const torch::Tensor& x, const std::string& prefix, std::int64_t stride) const {
        return clip6(nets::tfConv2d(x, at(prefix + "/weights"), stride, true) + at(prefix + "/convolution_bn_offset"));
    }
    torch::Tensor depthwise(const torch::Tensor& x, int index, std::int64_t stride) const {
        const std::string p = "MobilenetV1/Conv2d_" + std::to_string(index) + "_depthwise";
        torch::Tensor out = nets::tfConv2d(x, at(p + "/depthwise_weights"), stride, true, true);
        const torch::Tensor inv = torch::rsqrt(at(p + "/BatchNorm/moving_variance") + kBatchNormEpsilon) * at(p + "/BatchNorm/gamma");
        out = (out - at(p + "/BatchNorm/moving_mean")) * inv + at(p + "/BatchNorm/beta");
        return clip6(out);
    }
    std::pair<torch::Tensor, torch::Tensor> predictor(const torch::Tensor& x, int index) const {
        const std::string p = "Prediction/BoxPredictor_" + std::to_string(index);
        const std::int64_t b = x.size(0);
        torch::Tensor box = nets::tfConv2d(x, at(p + "/BoxEncodingPredictor/weights"), 1, true) + at(p + "/BoxEncodingPredictor/biases");
        torch::Tensor cls = nets::tfConv2d(x, at(p + "/ClassPredictor/weights"), 1, true) + at(p + "/ClassPredictor/biases");
        return {box.reshape({b, -1, 4}), cls.reshape({b, -1, 3})};
    }
    // x: N x 512 x 512 x 3, RGB 0..255. Returns boxes N x 5118 x 4 and scores N x 5118.
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& input) const {
        torch::Tensor x = input / 127.5f - 1.f;
        torch::Tensor out = pointwise(x, "MobilenetV1/Conv2d_0_pointwise", 2), conv11;
        for (int i = 1; i <= 13; ++i) {
            const std::int64_t stride = (i == 2 || i == 4 || i == 6 || i == 12) ? 2 : 1;
            out = depthwise(out, i, stride);
            out = pointwise(out, "MobilenetV1/Conv2d_" + std::to_string(i) + "_pointwise", 1);
            if (i == 11) conv11 = out;
        }
        std::vector<torch::Tensor> features = {conv11, out};
        torch::Tensor f = out;
        for (int i = 0; i < 8; ++i) {
            f = pointwise(f, "Prediction/Conv2d_" + std::to_string(i) + "_pointwise", i % 2 ? 2 : 1);
            if (i % 2) features.push_back(f);  // conv_1, conv_3, conv_5, conv_7
        }
        std::vector<torch::Tensor> boxes, classes;
        for (int i = 0; i < 6; ++i) {
            auto [b, c] = predictor(features[std::size_t(i)], i);
            boxes.push_back(b);
            classes.push_back(c);
        }
        const torch::Tensor encoding = torch::cat(boxes, 1);   // N x 5118 x 4
        const torch::Tensor logits = torch::cat(classes, 1);   // N x 5118 x 3
        // Decoding against the anchors (face-api's outputLayer): centre-size with scales 10, 5.
        const torch::Tensor a = anchors.unsqueeze(0);
        const torch::Tensor sizeY = a.select(2, 2) - a.select(2, 0), sizeX = a.select(2, 3) - a.select(2, 1);
        const torch::Tensor centreY = a.select(2, 0) + sizeY / 2, centreX = a.select(2, 1) + sizeX / 2;
        const torch::Tensor halfY = torch::exp(encoding.select(2, 2) / 5) * sizeY / 2;
        const torch::Tensor midY = encoding.select(2, 0) / 10 * sizeY + centreY;
        const torch::Tensor halfX = torch::exp(encoding.select(2, 3) / 5) * sizeX / 2;
        const torch::Tensor midX = encoding.select(2, 1) / 10 * sizeX + centreX;
        const torch::Tensor decoded = torch::stack({midY - halfY, midX - halfX, midY + halfY, midX + halfX}, 2);
        return {decoded, torch::sigmoid(logits.select(2, 1))};
    }
};

std::shared_ptr<const SsdFaceDetector> SsdFaceDetector::shared() { return sharedModel<SsdFaceDetector>("ssd-face-detector", "ssd-face-detector-manifest"); }

SsdFaceDetector::SsdFaceDetector(const std::string& weightsPath, const std::string& manifestPath)
    : impl_(std::make_unique<Impl>()) {
    impl_->w = nets::loadTfjsWeights(weightsPath, manifestPath);
    impl_->anchors = impl_->at("Output/extra_dim").reshape({-1, 4});
    if (impl_->anchors.size(0) != 5118) throw ModelError("'" + weightsPath + "' does not have face-api's 5118 SSD anchors");
    // Every weight the forward pass uses must be there: run it once on a blank input.
    std::vector<cv::Vec4f> boxes;
    std::vector<float> scores;
    run(cv::Mat::zeros(kSsdInputSize, kSsdInputSize, CV_32FC3), boxes, scores);
}

SsdFaceDetector::~SsdFaceDetector() = default;

cv::Mat SsdFaceDetector::networkInput(const cv::Mat& bgr, double* sideOut) {
    CV_Assert(bgr.type() == CV_8UC3);
    const int side = std::max(bgr.cols, bgr.rows), n = kSsdInputSize;
    if (sideOut) *sideOut = side;
    // TF's resizeBilinear (no half-pixel centres) of the zero-padded square, sampled directly.
    const float scale = float(side) / float(n);
    auto pixel = [&](int y, int x, int c) -> float {
        if (y >= bgr.rows || x >= bgr.cols) return 0.f;
        return float(bgr.at<cv::Vec3b>(y, x)[2 - c]);
    };
    cv::Mat input(n, n, CV_32FC3);
    for (int y = 0; y < n; ++y) {
        const float sy = float(y) * scale;
        const int top = int(std::floor(sy)), bottom = std::min(top + 1, side - 1);
        const float yl = sy - float(top);
        cv::Vec3f* out = input.ptr<cv::Vec3f>(y);
        for (int x = 0; x < n; ++x) {
            const float sx = float(x) * scale;
            const int left = int(std::floor(sx)), right = std::min(left + 1, side - 1);
            const float xl = sx - float(left);
            for (int c = 0; c < 3; ++c) {
                const float tl = pixel(top, left, c), tr = pixel(top, right, c);
                const float bl = pixel(bottom, left, c), br = pixel(bottom, right, c);
                const float t = tl + (tr - tl) * xl, b = bl + (br - bl) * xl;
                out[x][c] = t + (b - t) * yl;
            }
        }
    }
    return input;
}

void SsdFaceDetector::run(const cv::Mat& input, std::vector<cv::Vec4f>& boxes, std::vector<float>& scores) const {
    if (input.rows != kSsdInputSize || input.cols != kSsdInputSize || input.type() != CV_32FC3)
        throw Error("an SSD input must be 512x512 CV_32FC3");
    torch::NoGradGuard noGrad;
    const cv::Mat contiguous = input.isContinuous() ? input : input.clone();
    const torch::Tensor x = torch::from_blob(const_cast<float*>(contiguous.ptr<float>()), {1, kSsdInputSize, kSsdInputSize, 3},
                                             torch::kFloat32);
    const auto [decoded, score] = impl_->forward(x);
    const torch::Tensor b = decoded[0].contiguous(), s = score[0].contiguous();
    boxes.resize(std::size_t(b.size(0)));
    scores.resize(std::size_t(s.size(0)));
    std::memcpy(boxes.data(), b.data_ptr<float>(), sizeof(float) * 4 * boxes.size());
    std::memcpy(scores.data(), s.data_ptr<float>(), sizeof(float) * scores.size());
}

std::vector<int> ssdNonMaxSuppression(const std::vector<cv::Vec4f>& boxes, const std::vector<float>& scores,
                                      int maxResults, double iouThreshold, double scoreThreshold) {
    auto iou = [&](int i, int j) {
        const cv::Vec4f& a = boxes[std::size_t(i)];
        const cv::Vec4f& b = boxes[std::size_t(j)];
        const double ay0 = std::min(a[0], a[2]), ax0 = std::min(a[1], a[3]), ay1 = std::max(a[0], a[2]), ax1 = std::max(a[1], a[3]);
        const double by0 = std::min(b[0], b[2]), bx0 = std::min(b[1], b[3]), by1 = std::max(b[0], b[2]), bx1 = std::max(b[1], b[3]);
        const double areaA = (ay1 - ay0) * (ax1 - ax0), areaB = (by1 - by0) * (bx1 - bx0);
        if (areaA <= 0 || areaB <= 0) return 0.0;
        const double inter = std::max(std::min(ay1, by1) - std::max(ay0, by0), 0.0) * std::max(std::min(ax1, bx1) - std::max(ax0, bx0), 0.0);
        return inter / (areaA + areaB - inter);
    };
    std::vector<int> candidates;
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (scores[i] > scoreThreshold) candidates.push_back(int(i));
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) { return scores[std::size_t(a)] > scores[std::size_t(b)]; });
    std::vector<int> selected;
    const std::size_t limit = std::min<std::size_t>(std::size_t(std::max(0, maxResults)), boxes.size());
    for (int c : candidates) {
        if (selected.size() >= limit) break;
        bool keep = true;
        for (auto it = selected.rbegin(); it != selected.rend() && keep; ++it) keep = iou(c, *it) <= iouThreshold;
        if (keep) selected.push_back(c);
    }
    return selected;
}

std::vector<SsdDetection> SsdFaceDetector::detect(const cv::Mat& bgr, double minConfidence) const {
    double side = 0;
    const cv::Mat input = networkInput(bgr, &side);
    std::vector<cv::Vec4f> boxes;
    std::vector<float> scores;
    run(input, boxes, scores);
    std::vector<SsdDetection> out;
    for (int i : ssdNonMaxSuppression(boxes, scores, 100, 0.5, minConfidence)) {
        const cv::Vec4f& b = boxes[std::size_t(i)];
        const double top = std::max(0.f, b[0]) * side, bottom = std::min(1.f, b[2]) * side;
        const double left = std::max(0.f, b[1]) * side, right = std::min(1.f, b[3]) * side;
        out.push_back({cv::Rect2d(left, top, right - left, bottom - top), scores[std::size_t(i)]});
    }
    return out;
}

}  // namespace ideu
