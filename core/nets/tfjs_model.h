#pragma once
// TensorFlow.js model files in LibTorch: the weights manifest + binary shards that every
// TF.js model ships (float32, or quantised to uint8 / float16), and a small executor for TF.js
// *graph* models (model.json with a `modelTopology`) that runs the graph's own nodes in order,
// so a port follows the file rather than a re-typed architecture. NHWC, like TensorFlow.
#include <torch/torch.h>

#include <nlohmann/json_fwd.hpp>
#include <opencv2/core.hpp>

#include <map>
#include <string>
#include <vector>

namespace ideu::nets {

// Decodes the weights listed in a TF.js `weightsManifest` (an array of groups with
// `weights`) from `bytes` (the shards concatenated in manifest order). Float weights come
// back as float32 (uint8: q * scale + min, computed in double as TF.js does; float16: exact),
// int32 as int32. `source` names the files in errors. Throws ModelError.
std::map<std::string, torch::Tensor> decodeTfjsWeights(const nlohmann::json& weightsManifest,
                                                       const std::vector<std::uint8_t>& bytes, const std::string& source);

// Reads a weights manifest file and its single binary shard and decodes them (as above).
std::map<std::string, torch::Tensor> loadTfjsWeights(const std::string& weightsPath, const std::string& manifestPath);

// TensorFlow's 2-D convolution on an NHWC tensor with an HWIO kernel (depthwise: HWCM),
// "SAME" (extra padding at the bottom/right) or "VALID" padding; returns NHWC.
torch::Tensor tfConv2d(const torch::Tensor& nhwc, const torch::Tensor& kernel, std::int64_t stride, bool same,
                       bool depthwise = false);

// TensorFlow's bilinear blend of four samples, in its order of operations (float), so ports of
// its resizeBilinear and cropAndResize give its bits.
inline float tfBilinear(float topLeft, float topRight, float bottomLeft, float bottomRight, float xl, float yl) {
    const float top = topLeft + (topRight - topLeft) * xl;
    const float bottom = bottomLeft + (bottomRight - bottomLeft) * xl;
    return top + (bottom - top) * yl;
}

// TensorFlow's bilinear sampling (resizeBilinear, cropAndResize) of a CV_32FC3 image on a
// size x size grid: output pixel (x, y) samples (start.x + x·step.x, start.y + y·step.y), which
// must lie inside the image; the next row and column are clamped to the last.
cv::Mat tfSampleGrid(const cv::Mat& source, int size, cv::Point2f start, cv::Point2f step);

// A batch of size x size CV_32FC3 images as one NHWC float tensor.
torch::Tensor nhwcBatch(const std::vector<cv::Mat>& images, int size);

class TfjsGraph {
public:
    // `modelJson`: the TF.js graph model file; `weightsPath`: its single weights shard.
    // Throws ModelError on a malformed file or an op this executor does not implement.
    TfjsGraph(const std::string& modelJson, const std::string& weightsPath);

    // Runs the graph on the given placeholder values and returns the named outputs (node
    // names, without ":0"). Thread-safe (the graph is read-only).
    std::vector<torch::Tensor> run(const std::map<std::string, torch::Tensor>& inputs,
                                   const std::vector<std::string>& outputs) const;

    bool hasNode(const std::string& name) const { return index_.count(name) > 0; }
    // The graph's constant of that name (throws ModelError when there is none).
    const torch::Tensor& constant(const std::string& name) const;
    // Moves every constant to `device`.
    void to(const torch::Device& device);

private:
    struct Node {
        std::string name, op;
        std::vector<int> inputs;  // indices into nodes_
        std::vector<std::int64_t> strides;
        std::vector<std::int64_t> kernelSize;  // pooling window (NHWC, like strides)
        std::string padding;  // SAME | VALID
        std::vector<std::string> fusedOps;
        bool keepDims = false;
        bool transposeA = false, transposeB = false;
    };
    std::vector<Node> nodes_;  // topological order
    std::map<std::string, int> index_;
    std::map<std::string, torch::Tensor> constants_;
    torch::Tensor evaluate(const Node& node, const std::vector<torch::Tensor>& values) const;
};

}  // namespace ideu::nets
