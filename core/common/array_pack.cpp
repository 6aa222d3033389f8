#include "common/array_pack.h"

#include "common/error.h"
#include "common/sha256.h"

#include <cstring>

namespace ideu {

void PackWriter::add(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape,
                     const void* data, std::size_t bytes) {
    arrays_[name] = {{"dtype", dtype}, {"shape", shape}, {"offset", binary_.size()}, {"bytes", bytes}};
    const auto* p = static_cast<const std::uint8_t*>(data);
    binary_.insert(binary_.end(), p, p + bytes);
}

std::string PackWriter::sha256() const { return sha256Hex(binary_.data(), binary_.size()); }

std::size_t PackReader::elements(const std::vector<std::int64_t>& shape) {
    std::size_t count = 1;
    for (std::int64_t d : shape) count *= std::size_t(std::max<std::int64_t>(d, 0));
    return count;
}

void PackReader::copy(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape,
                      std::size_t elementBytes, void* out) const {
    if (!header_.contains("arrays") || !header_["arrays"].contains(name))
        throw ModelError("model pack '" + file_ + "': array '" + name + "' missing from the header");
    const auto& a = header_["arrays"][name];
    std::string actualType;
    std::vector<std::int64_t> actualShape;
    std::size_t offset = 0, bytes = 0;
    try {
        actualType = a.at("dtype");
        actualShape = a.at("shape").get<std::vector<std::int64_t>>();
        offset = a.at("offset");
        bytes = a.at("bytes");
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("model pack '" + file_ + "': array '" + name + "' is described incompletely: " + e.what());
    }
    if (actualType != dtype)
        throw ModelError("model pack '" + file_ + "': array '" + name + "' is " + actualType + ", expected " + dtype);
    if (actualShape != shape) throw ModelError("model pack '" + file_ + "': array '" + name + "' has an unexpected shape");
    if (bytes != elements(shape) * elementBytes)
        throw ModelError("model pack '" + file_ + "': array '" + name + "' has the wrong byte size");
    if (offset > binary_.size() || bytes > binary_.size() - offset)
        throw ModelError("model pack '" + file_ + "': array '" + name + "' lies outside the binary file");
    std::memcpy(out, binary_.data() + offset, bytes);  // little-endian host assumed (x86-64, arm64)
}

}  // namespace ideu
