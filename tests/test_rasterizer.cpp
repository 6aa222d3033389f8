// The z-buffered rasterizer on known triangles: coverage, barycentrics, depth, watertight
// shared edges, culling.
#include "render/rasterizer.h"

#include <opencv2/core.hpp>

#include <QtTest>

using namespace ideu;

namespace {

struct Scene {
    Eigen::Matrix<float, 3, Eigen::Dynamic> screen;
    std::vector<std::array<int, 3>> triangles;
};

int coveredCount(const RasterBuffers& r) {
    int n = 0;
    for (int t : r.triangle) n += t >= 0;
    return n;
}

}  // namespace

class TestRasterizer : public QObject {
    Q_OBJECT
private slots:
    void knownTriangle() {
        // Right triangle with legs of 40 px: covers 40*41/2 pixels with the top-left rule.
        Scene s;
        s.screen.resize(3, 3);
        s.screen << 10, 50, 10,  //
            10, 10, 50,          //
            2, 2, 2;
        s.triangles = {{0, 2, 1}};  // clockwise on screen = front-facing (frontSign -1)
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        RasterBuffers r;
        rasterize(in, 64, 64, r, 3);
        const int n = coveredCount(r);
        QVERIFY2(std::abs(n - 800) <= 41, qPrintable(QString::number(n)));
        // At vertex 0 the barycentrics are (1, 0, 0) and the depth is the vertex depth.
        const std::size_t at = r.index(10, 10);
        QCOMPARE(r.triangle[at], 0);
        QVERIFY(std::abs(r.bary[3 * at] - 1.f) < 1e-5f);
        QVERIFY(std::abs(r.depth[at] - 2.f) < 1e-5f);
        QVERIFY(!r.covered(60, 60));

        // Back faces are culled unless asked otherwise.
        s.triangles = {{0, 1, 2}};
        rasterize(in, 64, 64, r);
        QCOMPARE(coveredCount(r), 0);
        in.culling = Culling::None;
        rasterize(in, 64, 64, r);
        QVERIFY(coveredCount(r) > 700);
    }

    void perspectiveCorrectBarycentrics() {
        // Depth 1 at the left edge, 3 at the right: the midpoint in 3-D projects left of the
        // screen midpoint; interpolated depth follows 1/z.
        Scene s;
        s.screen.resize(3, 4);
        s.screen << 0, 100, 100, 0,  //
            0, 0, 10, 10,            //
            1, 3, 3, 1;
        s.triangles = {{0, 3, 2}, {0, 2, 1}};
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        in.culling = Culling::None;
        RasterBuffers r;
        rasterize(in, 101, 11, r);
        const float z = r.depth[r.index(50, 5)];
        QVERIFY2(std::abs(z - 1.5f) < 0.02f, qPrintable(QString::number(z)));  // 1 / lerp(1/1, 1/3, 0.5) = 1.5
    }

    void sharedEdgesAreWatertight() {
        // A fan of thin triangles around a centre: every pixel inside is covered exactly once.
        Scene s;
        const int n = 37;
        s.screen.resize(3, n + 1);
        s.screen.col(0) << 100.3f, 99.7f, 5.f;
        for (int i = 0; i < n; ++i) {
            const double a = 2 * CV_PI * i / n;
            s.screen.col(i + 1) << float(100.3 + 80 * std::cos(a)), float(99.7 + 80 * std::sin(a)), 5.f;
        }
        for (int i = 0; i < n; ++i) s.triangles.push_back({0, 1 + (i + 1) % n, 1 + i});
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        in.culling = Culling::None;
        RasterBuffers r;
        rasterize(in, 200, 200, r);
        // Every pixel within the inscribed circle is covered.
        for (int y = 0; y < 200; ++y)
            for (int x = 0; x < 200; ++x)
                if (std::hypot(x - 100.3, y - 99.7) < 78) QVERIFY2(r.covered(x, y), qPrintable(QString("%1,%2").arg(x).arg(y)));
        // Split-area check: each pixel belongs to one triangle, so per-triangle counts add up.
        std::vector<int> counts(std::size_t(n), 0);
        for (int t : r.triangle)
            if (t >= 0) ++counts[std::size_t(t)];
        int total = 0;
        for (int c : counts) total += c;
        QCOMPARE(total, coveredCount(r));
    }

    void nearerTriangleWins() {
        Scene s;
        s.screen.resize(3, 6);
        s.screen << 0, 30, 0, 0, 30, 0,  //
            0, 0, 30, 0, 0, 30,          //
            5, 5, 5, 2, 2, 2;
        s.triangles = {{0, 2, 1}, {3, 5, 4}};
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        RasterBuffers r;
        rasterize(in, 32, 32, r);
        QCOMPARE(r.triangle[r.index(5, 5)], 1);
    }

    void threadsGiveTheSameResult() {
        Scene s;
        s.screen.resize(3, 3);
        s.screen << 3.3f, 250.1f, 17.9f, 2.2f, 40.5f, 240.8f, 1, 2, 3;
        s.triangles = {{0, 2, 1}};
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        RasterBuffers one, many;
        rasterize(in, 256, 256, one, 1);
        rasterize(in, 256, 256, many, 7);
        QVERIFY(one.triangle == many.triangle);
        QVERIFY(one.bary == many.bary);
    }
};

QTEST_GUILESS_MAIN(TestRasterizer)
#include "test_rasterizer.moc"
