#pragma once
// SHA-256 (FIPS 180-4) for verifying model files without pulling in a crypto library.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ideu {

class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t size);
    std::array<std::uint8_t, 32> finish();
    std::string finishHex();

private:
    void compress(const std::uint8_t* block);
    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t bufferSize_ = 0;
    std::uint64_t totalBytes_ = 0;
};

std::string sha256Hex(const void* data, std::size_t size);
// Hash of a whole file; throws ideu::Error naming the file when it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace ideu
