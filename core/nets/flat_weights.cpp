#include "nets/flat_weights.h"

#include "common/error.h"
#include "common/files.h"

#include <set>
#include <sstream>

namespace ideu::nets {

TensorDict loadTensorDict(const std::string& path) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(path, std::uint64_t(8) << 30);
    } catch (const Error& e) {
        throw ModelError(e.what());
    }
    TensorDict out;
    try {
        const c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
        if (!value.isGenericDict()) throw ModelError("'" + path + "' does not hold a dict of tensors");
        for (const auto& entry : value.toGenericDict()) {
            if (!entry.key().isString() || !entry.value().isTensor())
                throw ModelError("'" + path + "' holds a non-tensor entry (convert it with models/convert_weights.py)");
            out[entry.key().toStringRef()] = entry.value().toTensor();
        }
    } catch (const c10::Error& e) {
        throw ModelError("'" + path + "' cannot be read as a flat weight file (" + std::string(e.what_without_backtrace()).substr(0, 200) +
                         "); convert official checkpoints with models/convert_weights.py");
    }
    return out;
}

void loadStrict(torch::nn::Module& module, const TensorDict& weights, const std::string& what) {
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    std::ostringstream problems;
    int problemCount = 0;
    auto assign = [&](const std::string& name, torch::Tensor& target) {
        auto it = weights.find(name);
        if (it == weights.end()) {
            if (problemCount++ < 5) problems << " missing " << name << ';';
            return;
        }
        if (it->second.sizes() != target.sizes()) {
            if (problemCount++ < 5) problems << " shape of " << name << ';';
            return;
        }
        target.copy_(it->second.to(target.dtype()));
        used.insert(name);
    };
    for (auto& p : module.named_parameters(true)) assign(p.key(), p.value());
    for (auto& b : module.named_buffers(true)) assign(b.key(), b.value());
    for (const auto& [name, tensor] : weights)
        if (!used.count(name) && problemCount++ < 5) problems << " unexpected " << name << ';';
    if (problemCount > 0)
        throw ModelError(what + " weights do not fit the network (" + std::to_string(problemCount) + " problem(s):" + problems.str() + ")");
}

}  // namespace ideu::nets
