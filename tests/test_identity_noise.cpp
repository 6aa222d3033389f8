// Seeded identity noise: golden values (bit-identical on every machine), the portable log,
// and the perturbation touching the identity code only.
#include "identity/identity_code.h"
#include "identity/seeded_noise.h"

#include <QtTest>

#include <cmath>
#include <cstring>

using namespace ideu;

namespace {
std::uint64_t bits(double x) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}
}  // namespace

class TestIdentityNoise : public QObject {
    Q_OBJECT
private slots:
    void uniformGoldenValues() {
        SeededRandom r(42);
        // xoshiro256** seeded by SplitMix64(42): the first outputs (computed independently in
        // Python from the published algorithms).
        const std::uint64_t expected[3] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull};
        for (std::uint64_t e : expected) QCOMPARE(r.nextBits(), e);
    }

    void normalGoldenValues() {
        const std::vector<double> n = normalSamples(42, 0, 6);
        // Bit patterns of 0.0516953007441368, -0.49993665885829625, -1.3981922011787378,
        // -0.17632929299863304, -1.137356792678761, 0.07574884856857608 (Python reference).
        const std::uint64_t expected[6] = {0x3faa77ce741b1c87ull, 0xbfdffef653f78b87ull, 0xbff65efec9195be1ull,
                                           0xbfc691f55160c256ull, 0xbff2329d0947050bull, 0x3fb36446cb4fcaf6ull};
        for (int i = 0; i < 6; ++i) QCOMPARE(bits(n[std::size_t(i)]), expected[i]);
    }

    void portableLogIsAccurate() {
        for (double x : {1e-300, 1e-9, 0.001, 0.1, 0.5, 0.7071, 0.99999, 1.0, 1.5, 2.0, 1234.5, 1e200}) {
            const double rel = std::abs(portableLog(x) - std::log(x)) / std::max(1e-300, std::abs(std::log(x)));
            QVERIFY2(rel < 1e-14 || std::abs(portableLog(x) - std::log(x)) < 1e-15, qPrintable(QString::number(x)));
        }
    }

    void normalsHaveTheRightMoments() {
        const std::vector<double> n = normalSamples(7, 3, 200000);
        double mean = 0, var = 0;
        for (double x : n) mean += x;
        mean /= double(n.size());
        for (double x : n) var += (x - mean) * (x - mean);
        var /= double(n.size() - 1);
        QVERIFY(std::abs(mean) < 0.01);
        QVERIFY(std::abs(var - 1) < 0.015);
    }

    void keptSequencesAreTheGeneratorsDraws() {
        // normalSequence keeps the draws of recent seeds; whatever it kept, extended or
        // evicted, it hands out the generator's own numbers in its order.
        auto draws = [](std::uint64_t seed, std::size_t n) {
            SeededRandom r(seed);
            std::vector<double> v(n);
            for (double& x : v) x = r.standardNormal();
            return v;
        };
        const auto shortOne = normalSequence(11, 5);  // odd: the generator holds a spare
        QVERIFY(shortOne->size() >= 5);
        const auto longer = normalSequence(11, 1001);
        QCOMPARE(*longer, draws(11, longer->size()));
        QCOMPARE(std::vector<double>(longer->begin(), longer->begin() + 5), std::vector<double>(shortOne->begin(), shortOne->begin() + 5));
        for (std::uint64_t seed = 20; seed < 30; ++seed) normalSequence(seed, 10);  // evicts seed 11
        const auto again = normalSequence(11, 7);
        QCOMPARE(std::vector<double>(again->begin(), again->begin() + 7), draws(11, 7));
        QVERIFY(*normalSequence(12, 50) != *normalSequence(13, 50));
    }

    void perturbationIsSeededAndScaled() {
        IdentityCode code;
        code.shape = Eigen::VectorXf::Zero(100);
        code.albedo = Eigen::VectorXf::Zero(80);
        const IdentityCode a = perturbIdentity(code, 0.25, 5), b = perturbIdentity(code, 0.25, 5);
        QVERIFY(a.shape == b.shape && a.albedo == b.albedo && a.detailSeed == b.detailSeed);
        const IdentityCode c = perturbIdentity(code, 0.25, 6);
        QVERIFY((a.shape - c.shape).norm() > 1);
        QVERIFY((a.albedo - c.albedo).norm() > 1);
        // Shape and albedo draw from different streams: not the same numbers.
        QVERIFY((a.shape.head(80) - a.albedo).norm() > 1);
        // Scale 0 leaves the code as it is; the noise grows linearly with the scale (k = 3).
        const IdentityCode zero = perturbIdentity(code, 0, 5);
        QVERIFY(zero.shape == code.shape && zero.albedo == code.albedo && zero.detailMix == 0 && zero.detailSeed == 0);
        const IdentityCode half = perturbIdentity(code, 0.125, 5);
        QVERIFY((half.shape * 2 - a.shape).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY((half.albedo * 2 - a.albedo).cwiseAbs().maxCoeff() < 1e-5f);
        // The bank detail grows with the scale up to full strength at 0.2.
        QVERIFY(std::abs(half.detailMix - 0.625f) < 1e-6f && a.detailMix == 1.f);
        // Components switch off independently; none at all keeps the code.
        NoiseSettings shapeOnly;
        setIdentityComponents(shapeOnly, {"shape"});
        const IdentityCode s = perturbIdentity(code, 0.25, 5, shapeOnly);
        QVERIFY(s.shape == a.shape && s.albedo == code.albedo && s.detailMix == 0);
        NoiseSettings none;
        setIdentityComponents(none, {"none"});
        const IdentityCode n = perturbIdentity(code, 0.25, 5, none);
        QVERIFY(n.shape == code.shape && n.albedo == code.albedo && n.detailMix == 0);
        double sd = std::sqrt(a.shape.squaredNorm() / 100.0);
        QVERIFY2(sd > 0.55 && sd < 0.95, qPrintable(QString::number(sd)));  // 3 x 0.25 = 0.75
        // Clipped: never beyond 3 SD of noise nor a code beyond 3.
        const IdentityCode big = perturbIdentity(code, 10, 5);
        QVERIFY(big.shape.cwiseAbs().maxCoeff() <= 3.0f);
    }

    // z'_id keeps of the photo's α only its part along the constrained directions (what the
    // noise may not move: age, gender, the antisymmetric modes), measured from the average
    // face (the centre), fully from the detail's full scale (0.2) on: the rest is the photo's
    // own proportions, and noise added to them leaves them in the code. Two faces that differ
    // only there get the same perturbed shape.
    void theShapeCodeKeepsOnlyItsConstrainedPart() {
        const Eigen::Index k = 100;
        NoiseConstraints constraints;
        constraints.shape = Eigen::MatrixXf::Zero(k, 3);
        for (int c = 0; c < 3; ++c) constraints.shape(7 * c + 2, c) = 1;  // modes 2, 9, 16
        constraints.shapeCentre = Eigen::VectorXf::LinSpaced(k, 0.4f, -0.3f);
        IdentityCode a;
        a.shape = Eigen::VectorXf::LinSpaced(k, -1.5f, 1.2f);
        a.albedo = Eigen::VectorXf::Zero(80);
        IdentityCode b = a;
        b.shape(40) += 1.f;  // another face, the same along the kept modes
        b.shape(3) -= 0.7f;
        for (const double scale : {0.2, 0.5}) {
            const IdentityCode pa = perturbIdentity(a, scale, 5, {}, constraints);
            QVERIFY(pa.shape == perturbIdentity(b, scale, 5, {}, constraints).shape);
            for (int c = 0; c < 3; ++c) QCOMPARE(pa.shape(7 * c + 2), a.shape(7 * c + 2));  // kept, and no noise there
        }
        // Half-way at half the full scale: α − ½(α − c − K·Kᵀ·(α − c)) + noise (the noise: what
        // a zero code gets without a centre).
        const IdentityCode half = perturbIdentity(a, 0.1, 5, {}, constraints);
        IdentityCode zero = a;
        zero.shape.setZero();
        NoiseConstraints uncentred = constraints;
        uncentred.shapeCentre.resize(0);
        const Eigen::VectorXf noise = perturbIdentity(zero, 0.1, 5, {}, uncentred).shape;
        const Eigen::VectorXf fromCentre = a.shape - constraints.shapeCentre;
        const Eigen::VectorXf keptPart = constraints.shape * (constraints.shape.transpose() * fromCentre);
        QVERIFY((half.shape - (a.shape - 0.5f * (fromCentre - keptPart) + noise)).cwiseAbs().maxCoeff() < 1e-5f);
        // At full strength: c + K·Kᵀ·(α − c) + noise.
        QVERIFY((perturbIdentity(a, 0.2, 5, {}, constraints).shape -
                 (constraints.shapeCentre + keptPart + 2.f * noise)).cwiseAbs().maxCoeff() < 1e-5f);
        QVERIFY(keptCode(a.shape, 0.f, constraints.shape, constraints.shapeCentre) == a.shape);
        QVERIFY(perturbIdentity(a, 0, 5, {}, constraints).shape == a.shape);  // scale 0: X_p = X_f
    }

    // The attribute shifts move the kept coordinates with the ramp and survive whole at full
    // strength; the albedo's as well, and shiftedAlbedoCode is where its kept part lies.
    void theKeptAttributeCoordinatesMoveByTheShift() {
        const Eigen::Index k = 40;
        NoiseConstraints constraints;
        constraints.shape = Eigen::MatrixXf::Zero(k, 2);
        constraints.shape(3, 0) = constraints.shape(11, 1) = 1;
        constraints.albedo = Eigen::MatrixXf::Zero(30, 1);
        constraints.albedo(5, 0) = 1;
        IdentityCode a;
        a.shape = Eigen::VectorXf::LinSpaced(k, -1.f, 1.f);
        a.albedo = Eigen::VectorXf::LinSpaced(30, 0.8f, -0.6f);
        IdentityCode shifted = a;
        shifted.shapeAttributeShift = Eigen::VectorXf::Zero(k);
        shifted.shapeAttributeShift(3) = 0.9f;
        shifted.shapeAttributeShift(11) = -0.4f;
        shifted.albedoAttributeShift = Eigen::VectorXf::Zero(30);
        shifted.albedoAttributeShift(5) = 1.3f;
        QCOMPARE(shiftedAlbedoCode(shifted)(5), a.albedo(5) + 1.3f);
        QVERIFY(shiftedAlbedoCode(a) == a.albedo);  // no shift: β itself
        for (const double scale : {0.1, 0.2, 0.5}) {
            const float ramp = float(std::min(1.0, scale / NoiseSettings().detailFullScale));
            const IdentityCode plain = perturbIdentity(a, scale, 9, {}, constraints);
            const IdentityCode moved = perturbIdentity(shifted, scale, 9, {}, constraints);
            const Eigen::VectorXf shapeMove = moved.shape - plain.shape, albedoMove = moved.albedo - plain.albedo;
            QVERIFY((shapeMove - ramp * shifted.shapeAttributeShift).cwiseAbs().maxCoeff() < 1e-6f);
            QVERIFY((albedoMove - ramp * shifted.albedoAttributeShift).cwiseAbs().maxCoeff() < 1e-6f);
        }
        const IdentityCode none = perturbIdentity(shifted, 0, 9, {}, constraints);  // scale 0: X_p = X_f
        QVERIFY(none.shape == a.shape && none.albedo == a.albedo);
    }
};

QTEST_GUILESS_MAIN(TestIdentityNoise)
#include "test_identity_noise.moc"
