#pragma once
// The project's model-pack layout: a JSON header that lists named arrays (dtype, shape,
// byte offset and size) and one little-endian binary holding them back to back, hashed with
// SHA-256 (the hash goes in the header). Used by the 3-D face model and the appearance model.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ideu {

class PackWriter {
public:
    void add(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape, const void* data,
             std::size_t bytes);
    const nlohmann::json& arrays() const { return arrays_; }
    const std::vector<std::uint8_t>& binary() const { return binary_; }
    std::string sha256() const;

private:
    nlohmann::json arrays_ = nlohmann::json::object();
    std::vector<std::uint8_t> binary_;
};

// Reads arrays named in `header["arrays"]` out of `binary`, checking dtype, shape, size and
// bounds; `file` names the pack in errors (ModelError).
class PackReader {
public:
    PackReader(const nlohmann::json& header, const std::vector<std::uint8_t>& binary, std::string file)
        : header_(header), binary_(binary), file_(std::move(file)) {}
    template <typename T>
    std::vector<T> read(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape) const {
        std::vector<T> out(elements(shape));
        copy(name, dtype, shape, sizeof(T), out.data());
        return out;
    }

private:
    static std::size_t elements(const std::vector<std::int64_t>& shape);
    void copy(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape,
              std::size_t elementBytes, void* out) const;
    const nlohmann::json& header_;
    const std::vector<std::uint8_t>& binary_;
    std::string file_;
};

}  // namespace ideu
