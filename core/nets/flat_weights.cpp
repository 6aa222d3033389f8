#include "nets/flat_weights.h"

#include "common/error.h"
#include "common/files.h"

#include <set>
#include <sstream>

namespace ideu::nets {

namespace {

// Whether `bytes` are laid out as a zip archive, as torch.save writes them: a local file header
// first, and an end-of-central-directory record whose comment reaches exactly the end. Torch's
// in-memory reader does not bound its reads: handed anything else (a text file, a truncated
// download) it read past the buffer (AddressSanitizer, test_nets), so it gets only archives.
bool looksLikeZipArchive(const std::vector<std::uint8_t>& bytes) {
    constexpr std::size_t kEndRecord = 22, kLongestComment = 0xFFFF;
    const auto signatureAt = [&](std::size_t at, std::uint8_t third, std::uint8_t fourth) {
        return bytes[at] == 'P' && bytes[at + 1] == 'K' && bytes[at + 2] == third && bytes[at + 3] == fourth;
    };
    if (bytes.size() < kEndRecord || !signatureAt(0, 3, 4)) return false;
    const std::size_t last = bytes.size() - kEndRecord;
    const std::size_t first = last > kLongestComment ? last - kLongestComment : 0;
    for (std::size_t at = last + 1; at-- > first;) {
        if (!signatureAt(at, 5, 6)) continue;
        const std::size_t comment = std::size_t(bytes[at + 20]) | (std::size_t(bytes[at + 21]) << 8);
        if (at + kEndRecord + comment == bytes.size()) return true;
    }
    return false;
}

}  // namespace

TensorDict loadTensorDict(const std::string& path) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(path, std::uint64_t(8) << 30);
    } catch (const Error& e) {
        throw ModelError(e.what());
    }
    if (!looksLikeZipArchive(bytes))
        throw ModelError("'" + path + "' is not a PyTorch weight file (a torch.save zip archive; is it truncated, or another "
                         "file?); convert official checkpoints with models/convert_weights.py");
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
