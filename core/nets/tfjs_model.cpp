// Torch headers come first: Qt's `slots` macro would break them (this file has no Qt).
#include <torch/torch.h>

#include "nets/tfjs_model.h"

#include "common/error.h"
#include "common/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>

namespace ideu::nets {
namespace {

std::int64_t elementCount(const std::vector<std::int64_t>& shape) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
}

std::string decodeBase64(const std::string& in) {
    static const std::string table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    // Only the last 14 bits are ever read (a byte and the 6 bits after it): the rest is
    // dropped, so the accumulator never overflows (a signed one did after five characters).
    std::uint32_t value = 0;
    int bits = -8;
    for (char c : in) {
        const auto p = table.find(c);
        if (p == std::string::npos) break;  // '=' padding ends the data
        value = ((value << 6) | std::uint32_t(p)) & 0xFFFFu;
        bits += 6;
        if (bits >= 0) {
            out.push_back(char((value >> bits) & 0xFF));
            bits -= 8;
        }
    }
    return out;
}

// TensorFlow's "SAME" padding: the output has ceil(in / stride) samples and the extra
// padding, when odd, goes to the bottom / right.
std::pair<std::int64_t, std::int64_t> samePadding(std::int64_t in, std::int64_t kernel, std::int64_t stride) {
    const std::int64_t out = (in + stride - 1) / stride;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
    return {total / 2, total - total / 2};
}

// NHWC in, NHWC out; `weight` is already OIHW (depthwise: C·M, 1, H, W).
torch::Tensor convolve(const torch::Tensor& nhwc, const torch::Tensor& weight, const std::vector<std::int64_t>& strides,
                       const std::string& padding, std::int64_t groups) {
    torch::Tensor x = nhwc.permute({0, 3, 1, 2});  // a channels-last view, no copy
    const std::int64_t sh = strides.size() == 4 ? strides[1] : 1, sw = strides.size() == 4 ? strides[2] : 1;
    std::int64_t ph = 0, pw = 0;
    if (padding == "SAME") {
        const auto [top, bottom] = samePadding(x.size(2), weight.size(2), sh);
        const auto [left, right] = samePadding(x.size(3), weight.size(3), sw);
        if (top == bottom && left == right) {
            ph = top;
            pw = left;
        } else {
            x = torch::constant_pad_nd(x, {left, right, top, bottom});
        }
    }
    return torch::conv2d(x, weight, {}, {sh, sw}, {ph, pw}, 1, groups).permute({0, 2, 3, 1});
}

// TensorFlow's MaxPool on NHWC (window and strides in NHWC order, pooling over H and W only).
// "SAME" pads with −∞, so a window partly outside takes the maximum of what lies inside.
torch::Tensor maxPool(const torch::Tensor& nhwc, const std::vector<std::int64_t>& window,
                      const std::vector<std::int64_t>& strides, const std::string& padding, const std::string& node) {
    if (window.size() != 4 || strides.size() != 4 || window[0] != 1 || window[3] != 1 || strides[0] != 1 || strides[3] != 1)
        throw ModelError("MaxPool '" + node + "' pools over other axes than height and width");
    torch::Tensor x = nhwc.permute({0, 3, 1, 2});
    if (padding == "SAME") {
        const auto [top, bottom] = samePadding(x.size(2), window[1], strides[1]);
        const auto [left, right] = samePadding(x.size(3), window[2], strides[2]);
        x = torch::constant_pad_nd(x, {left, right, top, bottom}, -std::numeric_limits<double>::infinity());
    }
    return torch::max_pool2d(x, {window[1], window[2]}, {strides[1], strides[2]}).permute({0, 2, 3, 1});
}

torch::Tensor applyFused(torch::Tensor y, const std::vector<std::string>& ops, const std::vector<torch::Tensor>& args,
                         const std::string& node) {
    std::size_t next = 0;
    for (const std::string& op : ops) {
        if (op == "BiasAdd") {
            if (next >= args.size()) throw ModelError("fused op of '" + node + "' lacks its bias");
            y = y + args[next++];
        } else if (op == "Relu") {
            y = torch::relu(y);
        } else if (op == "Relu6") {
            y = torch::clamp(y, 0, 6);
        } else {
            throw ModelError("fused op '" + op + "' of '" + node + "' is not supported");
        }
    }
    return y;
}

const std::set<std::string>& supportedOps() {
    static const std::set<std::string> ops = {"Const", "Placeholder", "Identity", "Conv2D", "DepthwiseConv2dNative",
                                              "_FusedConv2D", "FusedDepthwiseConv2dNative", "Add", "AddV2", "BiasAdd",
                                              "Sub", "Mul", "RealDiv", "Minimum", "Maximum", "Relu", "Relu6", "Sigmoid",
                                              "Tanh", "Softmax", "Mean", "Max", "MaxPool", "MatMul",
                                              "_FusedMatMul"};
    return ops;
}

}  // namespace

std::map<std::string, torch::Tensor> loadTfjsWeights(const std::string& weightsPath, const std::string& manifestPath) {
    nlohmann::json manifest;
    {
        std::ifstream in(manifestPath);
        if (!in) throw ModelError("cannot read '" + manifestPath + "'");
        try {
            manifest = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw ModelError("'" + manifestPath + "' is not valid JSON: " + e.what());
        }
    }
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(weightsPath, std::uint64_t(1) << 30);
    } catch (const Error& e) {
        throw ModelError(e.what());
    }
    return decodeTfjsWeights(manifest, bytes, weightsPath);
}

cv::Mat tfSampleGrid(const cv::Mat& source, int size, cv::Point2f start, cv::Point2f step) {
    CV_Assert(source.type() == CV_32FC3);
    const int lastRow = source.rows - 1, lastCol = source.cols - 1;
    cv::Mat out(size, size, CV_32FC3);
    for (int y = 0; y < size; ++y) {
        const float inY = start.y + float(y) * step.y;
        const int top = int(std::floor(inY)), bottom = std::min(top + 1, lastRow);
        const float yl = inY - float(top);
        const cv::Vec3f* rowTop = source.ptr<cv::Vec3f>(top);
        const cv::Vec3f* rowBottom = source.ptr<cv::Vec3f>(bottom);
        cv::Vec3f* row = out.ptr<cv::Vec3f>(y);
        for (int x = 0; x < size; ++x) {
            const float inX = start.x + float(x) * step.x;
            const int left = int(std::floor(inX)), right = std::min(left + 1, lastCol);
            const float xl = inX - float(left);
            for (int c = 0; c < 3; ++c)
                row[x][c] = tfBilinear(rowTop[left][c], rowTop[right][c], rowBottom[left][c], rowBottom[right][c], xl, yl);
        }
    }
    return out;
}

torch::Tensor nhwcBatch(const std::vector<cv::Mat>& images, int size) {
    torch::Tensor batch = torch::empty({std::int64_t(images.size()), size, size, 3}, torch::kFloat32);
    for (std::size_t i = 0; i < images.size(); ++i) {
        CV_Assert(images[i].rows == size && images[i].cols == size && images[i].type() == CV_32FC3);
        const cv::Mat image = images[i].isContinuous() ? images[i] : images[i].clone();
        std::memcpy(batch[std::int64_t(i)].data_ptr<float>(), image.ptr<float>(), sizeof(float) * std::size_t(size) * std::size_t(size) * 3);
    }
    return batch;
}

torch::Tensor tfConv2d(const torch::Tensor& nhwc, const torch::Tensor& kernel, std::int64_t stride, bool same, bool depthwise) {
    const torch::Tensor weight = depthwise
                                     ? kernel.permute({2, 3, 0, 1}).reshape({kernel.size(2) * kernel.size(3), 1, kernel.size(0), kernel.size(1)})
                                     : kernel.permute({3, 2, 0, 1});
    return convolve(nhwc, weight.contiguous(), {1, stride, stride, 1}, same ? "SAME" : "VALID",
                    depthwise ? nhwc.size(3) : 1);
}

std::map<std::string, torch::Tensor> decodeTfjsWeights(const nlohmann::json& manifest, const std::vector<std::uint8_t>& bytes,
                                                       const std::string& source) {
    std::map<std::string, torch::Tensor> tensors;
    std::size_t offset = 0;
    auto take = [&](std::size_t n) {
        if (offset + n > bytes.size()) throw ModelError("'" + source + "' is too short for its weights manifest");
        const std::uint8_t* p = bytes.data() + offset;
        offset += n;
        return p;
    };
    try {
        for (const auto& group : manifest)
            for (const auto& w : group.at("weights")) {
                const std::string name = w.at("name");
                const std::vector<std::int64_t> shape = w.at("shape").get<std::vector<std::int64_t>>();
                const std::int64_t count = elementCount(shape);
                const std::string dtype = w.value("dtype", "float32");
                if (dtype != "float32" && dtype != "int32")
                    throw ModelError("weight '" + name + "' in '" + source + "' has unsupported type " + dtype);
                torch::Tensor t;
                if (!w.contains("quantization")) {
                    t = torch::empty({count}, dtype == "int32" ? torch::kInt32 : torch::kFloat32);
                    std::memcpy(t.data_ptr(), take(4 * std::size_t(count)), 4 * std::size_t(count));
                } else {
                    const auto& q = w.at("quantization");
                    const std::string qtype = q.at("dtype");
                    t = torch::empty({count}, torch::kFloat32);
                    float* dst = t.data_ptr<float>();
                    if (qtype == "uint8") {
                        const double scale = q.at("scale"), min = q.at("min");
                        const std::uint8_t* src = take(std::size_t(count));
                        // TF.js decodes in double (JS numbers) and stores float32.
                        for (std::int64_t i = 0; i < count; ++i) dst[i] = float(double(src[i]) * scale + min);
                    } else if (qtype == "float16") {
                        torch::Tensor half = torch::empty({count}, torch::kFloat16);
                        std::memcpy(half.data_ptr(), take(2 * std::size_t(count)), 2 * std::size_t(count));
                        t = half.to(torch::kFloat32);  // exact: every float16 is a float32
                    } else {
                        throw ModelError("weight '" + name + "' in '" + source + "' has unsupported quantisation " + qtype);
                    }
                    if (dtype == "int32") t = t.round().to(torch::kInt32);
                }
                tensors[name] = t.reshape(shape);
            }
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("the weights manifest of '" + source + "' is malformed: " + e.what());
    }
    if (offset != bytes.size()) throw ModelError("'" + source + "' does not match its weights manifest (size differs)");
    return tensors;
}

TfjsGraph::TfjsGraph(const std::string& modelJson, const std::string& weightsPath) {
    nlohmann::json model;
    {
        std::ifstream in(modelJson);
        if (!in) throw ModelError("cannot read '" + modelJson + "'");
        try {
            model = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw ModelError("'" + modelJson + "' is not valid JSON: " + e.what());
        }
    }
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(weightsPath, std::uint64_t(1) << 31);
    } catch (const Error& e) {
        throw ModelError(e.what());
    }
    try {
        constants_ = decodeTfjsWeights(model.at("weightsManifest"), bytes, weightsPath);
        const auto& graphNodes = model.at("modelTopology").at("node");
        // Nodes by name, then a depth-first topological order from the inputs' side.
        std::map<std::string, const nlohmann::json*> byName;
        for (const auto& n : graphNodes) byName[n.at("name").get<std::string>()] = &n;
        std::function<int(const std::string&, int)> visit = [&](const std::string& name, int depth) -> int {
            if (auto it = index_.find(name); it != index_.end()) return it->second;
            if (depth > 10000) throw ModelError("'" + modelJson + "' has a cyclic graph");
            auto found = byName.find(name);
            if (found == byName.end()) throw ModelError("'" + modelJson + "' refers to a missing node '" + name + "'");
            const nlohmann::json& n = *found->second;
            Node node;
            node.name = name;
            node.op = n.at("op");
            if (!supportedOps().count(node.op))
                throw ModelError("'" + modelJson + "': op " + node.op + " (node '" + name + "') is not supported");
            for (const auto& in : n.value("input", nlohmann::json::array())) {
                std::string source = in.get<std::string>();
                if (!source.empty() && source[0] == '^') continue;  // control dependency
                if (const auto colon = source.find(':'); colon != std::string::npos) {
                    if (source.substr(colon + 1) != "0")
                        throw ModelError("'" + modelJson + "': node '" + name + "' reads a secondary output");
                    source = source.substr(0, colon);
                }
                node.inputs.push_back(visit(source, depth + 1));
            }
            const auto attr = n.value("attr", nlohmann::json::object());
            if (attr.contains("strides"))
                for (const auto& s : attr["strides"]["list"]["i"]) node.strides.push_back(std::stoll(s.get<std::string>()));
            if (attr.contains("ksize"))
                for (const auto& s : attr["ksize"]["list"]["i"]) node.kernelSize.push_back(std::stoll(s.get<std::string>()));
            if (attr.contains("padding")) node.padding = decodeBase64(attr["padding"]["s"].get<std::string>());
            if (attr.contains("fused_ops"))
                for (const auto& s : attr["fused_ops"]["list"].value("s", nlohmann::json::array()))
                    node.fusedOps.push_back(decodeBase64(s.get<std::string>()));
            if (attr.contains("keep_dims")) node.keepDims = attr["keep_dims"].value("b", false);
            if (attr.contains("transpose_a")) node.transposeA = attr["transpose_a"].value("b", false);
            if (attr.contains("transpose_b")) node.transposeB = attr["transpose_b"].value("b", false);
            if (attr.contains("dilations"))
                for (const auto& s : attr["dilations"]["list"]["i"])
                    if (s.get<std::string>() != "1")
                        throw ModelError("'" + modelJson + "': dilated convolutions (node '" + name + "') are not supported");
            if (!node.padding.empty() && node.padding != "SAME" && node.padding != "VALID")
                throw ModelError("'" + modelJson + "': padding " + node.padding + " (node '" + name + "') is not supported");
            if (node.op == "Const" && !constants_.count(name))
                throw ModelError("'" + modelJson + "': constant '" + name + "' has no weights");
            const int id = int(nodes_.size());
            nodes_.push_back(std::move(node));
            index_[name] = id;
            return id;
        };
        for (const auto& [name, n] : byName) visit(name, 0);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("'" + modelJson + "' is malformed: " + e.what());
    }
    // Convolution kernels in Torch's layout, once: HWIO -> OIHW; depthwise HWCM -> (C·M)1HW.
    for (const Node& n : nodes_) {
        if (n.op != "Conv2D" && n.op != "_FusedConv2D" && n.op != "DepthwiseConv2dNative" && n.op != "FusedDepthwiseConv2dNative")
            continue;
        const Node& kernelNode = nodes_[std::size_t(n.inputs.at(1))];
        if (kernelNode.op != "Const") throw ModelError("'" + modelJson + "': kernel of '" + n.name + "' is not a constant");
        torch::Tensor& k = constants_[kernelNode.name];
        if (k.dim() != 4) throw ModelError("'" + modelJson + "': kernel of '" + n.name + "' is not 4-D");
        if (n.op.find("Depthwise") != std::string::npos)
            constants_[n.name + "#kernel"] = k.permute({2, 3, 0, 1}).reshape({k.size(2) * k.size(3), 1, k.size(0), k.size(1)}).contiguous();
        else
            constants_[n.name + "#kernel"] = k.permute({3, 2, 0, 1}).contiguous();
    }
}

const torch::Tensor& TfjsGraph::constant(const std::string& name) const {
    auto it = constants_.find(name);
    if (it == constants_.end()) throw ModelError("the graph has no constant '" + name + "'");
    return it->second;
}

void TfjsGraph::to(const torch::Device& device) {
    for (auto& [name, t] : constants_)
        if (t.scalar_type() == torch::kFloat32) t = t.to(device);
}

torch::Tensor TfjsGraph::evaluate(const Node& n, const std::vector<torch::Tensor>& v) const {
    auto in = [&](std::size_t i) -> const torch::Tensor& { return v[std::size_t(n.inputs.at(i))]; };
    const std::string& op = n.op;
    if (op == "Identity") return in(0);
    if (op == "Conv2D" || op == "_FusedConv2D") {
        torch::Tensor y = convolve(in(0), constant(n.name + "#kernel"), n.strides, n.padding, 1);
        if (op == "Conv2D") return y;
        std::vector<torch::Tensor> args;
        for (std::size_t i = 2; i < n.inputs.size(); ++i) args.push_back(in(i));
        return applyFused(y, n.fusedOps, args, n.name);
    }
    if (op == "DepthwiseConv2dNative" || op == "FusedDepthwiseConv2dNative") {
        torch::Tensor y = convolve(in(0), constant(n.name + "#kernel"), n.strides, n.padding, in(0).size(3));
        if (op == "DepthwiseConv2dNative") return y;
        std::vector<torch::Tensor> args;
        for (std::size_t i = 2; i < n.inputs.size(); ++i) args.push_back(in(i));
        return applyFused(y, n.fusedOps, args, n.name);
    }
    if (op == "Add" || op == "AddV2" || op == "BiasAdd") return in(0) + in(1);
    if (op == "Sub") return in(0) - in(1);
    if (op == "Mul") return in(0) * in(1);
    if (op == "RealDiv") return in(0) / in(1);
    if (op == "Minimum") return torch::minimum(in(0), in(1));
    if (op == "Maximum") return torch::maximum(in(0), in(1));
    if (op == "Relu") return torch::relu(in(0));
    if (op == "Relu6") return torch::clamp(in(0), 0, 6);
    if (op == "Sigmoid") return torch::sigmoid(in(0));
    if (op == "Tanh") return torch::tanh(in(0));
    if (op == "Softmax") return torch::softmax(in(0), -1);
    if (op == "Mean" || op == "Max") {
        const torch::Tensor axes = in(1).to(torch::kCPU).to(torch::kInt64).reshape({-1});
        std::vector<std::int64_t> dims(axes.data_ptr<std::int64_t>(), axes.data_ptr<std::int64_t>() + axes.numel());
        if (op == "Mean") return in(0).mean(dims, n.keepDims);
        return in(0).amax(dims, n.keepDims);  // negative axes count from the end, as in TF
    }
    if (op == "MaxPool") return maxPool(in(0), n.kernelSize, n.strides, n.padding, n.name);
    if (op == "MatMul" || op == "_FusedMatMul") {
        const torch::Tensor a = n.transposeA ? in(0).t() : in(0);
        const torch::Tensor b = n.transposeB ? in(1).t() : in(1);
        torch::Tensor y = torch::matmul(a, b);
        if (op == "MatMul") return y;
        std::vector<torch::Tensor> args;
        for (std::size_t i = 2; i < n.inputs.size(); ++i) args.push_back(in(i));
        return applyFused(y, n.fusedOps, args, n.name);
    }
    throw ModelError("op " + op + " is not supported");
}

std::vector<torch::Tensor> TfjsGraph::run(const std::map<std::string, torch::Tensor>& inputs,
                                          const std::vector<std::string>& outputs) const {
    // Only the nodes the outputs depend on are evaluated.
    std::vector<char> needed(nodes_.size(), 0);
    std::vector<int> stack;
    for (const std::string& name : outputs) {
        auto it = index_.find(name);
        if (it == index_.end()) throw ModelError("the graph has no node '" + name + "'");
        stack.push_back(it->second);
    }
    while (!stack.empty()) {
        const int id = stack.back();
        stack.pop_back();
        if (needed[std::size_t(id)]) continue;
        needed[std::size_t(id)] = 1;
        for (int i : nodes_[std::size_t(id)].inputs) stack.push_back(i);
    }
    std::vector<torch::Tensor> values(nodes_.size());
    std::vector<int> remainingUses(nodes_.size(), 0);
    for (std::size_t id = 0; id < nodes_.size(); ++id)
        if (needed[id])
            for (int i : nodes_[id].inputs) ++remainingUses[std::size_t(i)];
    std::set<int> keep;
    for (const std::string& name : outputs) keep.insert(index_.at(name));
    for (std::size_t id = 0; id < nodes_.size(); ++id) {
        if (!needed[id]) continue;
        const Node& n = nodes_[id];
        if (n.op == "Const") {
            values[id] = constants_.at(n.name);
        } else if (n.op == "Placeholder") {
            auto it = inputs.find(n.name);
            if (it == inputs.end()) throw Error("the graph needs an input '" + n.name + "'");
            values[id] = it->second;
        } else {
            values[id] = evaluate(n, values);
            // Activations are released as soon as their last reader ran.
            for (int i : n.inputs)
                if (--remainingUses[std::size_t(i)] == 0 && !keep.count(i)) values[std::size_t(i)] = torch::Tensor();
        }
    }
    std::vector<torch::Tensor> result;
    for (const std::string& name : outputs) result.push_back(values[std::size_t(index_.at(name))]);
    return result;
}

}  // namespace ideu::nets
