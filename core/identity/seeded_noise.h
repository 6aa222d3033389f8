#pragma once
// Reproducible noise: the same seed gives bit-identical numbers on every machine and
// compiler. xoshiro256** for uniform bits (seeded by SplitMix64) and a Marsaglia polar
// normal sampler whose logarithm is computed here with +, -, x, / only (the C library's log
// may differ in the last bit between platforms; sqrt is exact by IEEE 754). This file is
// compiled without floating-point contraction.
#include <cstdint>
#include <memory>
#include <vector>

namespace ideu {

class SeededRandom {
public:
    explicit SeededRandom(std::uint64_t seed);
    std::uint64_t nextBits();
    double uniform();         // [0, 1), 53 random bits
    double standardNormal();  // N(0, 1)

private:
    std::uint64_t s_[4];
    bool hasSpare_ = false;
    double spare_ = 0;
};

// Natural logarithm from exactly rounded operations only (for x > 0).
double portableLog(double x);

// n samples of N(0, 1) for a seed and a stream id (different parts of the identity code
// draw from different streams, so adding a parameter does not shift the others).
std::vector<double> normalSamples(std::uint64_t seed, std::uint64_t stream, int n);

// The first n (at least) draws of SeededRandom(seed).standardNormal(), the same numbers in the
// same order. The sequences of the last few seeds are kept (thread-safe), so work repeated
// with one seed, such as a slider drag's re-runs, draws its per-pixel noise only once.
std::shared_ptr<const std::vector<double>> normalSequence(std::uint64_t seed, std::size_t n);

}  // namespace ideu
