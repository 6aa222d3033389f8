#include "identity/seeded_noise.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace ideu {
namespace {

std::uint64_t splitMix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
    std::uint64_t state = seed;
    for (auto& s : s_) s = splitMix64(state);
}

std::uint64_t SeededRandom::nextBits() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double SeededRandom::uniform() { return double(nextBits() >> 11) * 0x1.0p-53; }

double portableLog(double x) {
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln x = e ln 2 + 2 atanh((m-1)/(m+1)).
    int e = 0;
    double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
    if (m < 0.70710678118654752440) {
        m *= 2;
        e -= 1;
    }
    const double z = (m - 1) / (m + 1);  // |z| <= 0.1716
    const double z2 = z * z;
    double term = z, sum = 0;
    for (int k = 1; k <= 39; k += 2) {  // z^41/41 < 1e-33: far below double precision
        sum += term / k;
        term *= z2;
    }
    return double(e) * 0.69314718055994530942 + 2 * sum;
}

double SeededRandom::standardNormal() {
    if (hasSpare_) {
        hasSpare_ = false;
        return spare_;
    }
    double u, v, s;
    do {
        u = 2 * uniform() - 1;
        v = 2 * uniform() - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double factor = std::sqrt(-2 * portableLog(s) / s);
    spare_ = v * factor;
    hasSpare_ = true;
    return u * factor;
}

std::vector<double> normalSamples(std::uint64_t seed, std::uint64_t stream, int n) {
    SeededRandom random(seed ^ (0xD1B54A32D192ED03ull * (stream + 1)));
    std::vector<double> out(std::size_t(std::max(n, 0)));
    for (double& x : out) x = random.standardNormal();
    return out;
}

std::shared_ptr<const std::vector<double>> normalSequence(std::uint64_t seed, std::size_t n) {
    struct Kept {
        std::uint64_t seed;
        SeededRandom next;  // the generator after the kept draws
        std::shared_ptr<const std::vector<double>> values;
    };
    constexpr std::size_t kSeedsKept = 4;
    static std::mutex mutex;
    static std::vector<Kept> kept;  // most recently used first
    std::lock_guard<std::mutex> lock(mutex);
    auto it = std::find_if(kept.begin(), kept.end(), [&](const Kept& k) { return k.seed == seed; });
    if (it == kept.end()) {
        if (kept.size() == kSeedsKept) kept.pop_back();
        kept.insert(kept.begin(), Kept{seed, SeededRandom(seed), std::make_shared<const std::vector<double>>()});
    } else {
        std::rotate(kept.begin(), it, it + 1);
    }
    Kept& k = kept.front();
    if (k.values->size() < n) {
        // A longer copy continues the generator (earlier holders keep their shorter one).
        auto longer = std::make_shared<std::vector<double>>(*k.values);
        longer->reserve(n);
        while (longer->size() < n) longer->push_back(k.next.standardNormal());
        k.values = std::move(longer);
    }
    return k.values;
}

}  // namespace ideu
