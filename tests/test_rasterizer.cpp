// The z-buffered rasterizer on known triangles: coverage, barycentrics, depth, watertight
// shared edges, culling.
#include "render/rasterizer.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>

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

// The rasterizer's rule written plainly, as the oracle: every pixel of every triangle's box
// tested with the edge functions evaluated whole (from the lower vertex index), the top-left
// rule, perspective-correct barycentrics, the nearer depth kept (the earlier triangle on a tie).
RasterBuffers referenceRaster(const Scene& s, Culling culling, int width, int height) {
    RasterBuffers out;
    out.reset(width, height);
    const auto edge = [](double ax, double ay, double bx, double by, double px, double py) {
        return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
    };
    for (std::size_t t = 0; t < s.triangles.size(); ++t) {
        const auto& tri = s.triangles[t];
        double x[3], y[3], z[3];
        bool valid = true;
        for (int k = 0; k < 3; ++k) {
            x[k] = s.screen(0, tri[std::size_t(k)]), y[k] = s.screen(1, tri[std::size_t(k)]), z[k] = s.screen(2, tri[std::size_t(k)]);
            valid = valid && z[k] > 1e-6 && std::isfinite(x[k]) && std::isfinite(y[k]);
        }
        if (!valid) continue;
        const double area = edge(x[0], y[0], x[1], y[1], x[2], y[2]);
        if (area == 0) continue;
        const double orientation = area > 0 ? 1 : -1;
        if (culling == Culling::Back && orientation != -1) continue;
        const int ya = std::max(0, int(std::ceil(std::min({y[0], y[1], y[2]}))));
        const int yb = std::min(height - 1, int(std::floor(std::max({y[0], y[1], y[2]}))));
        const int xa = std::max(0, int(std::ceil(std::min({x[0], x[1], x[2]}))));
        const int xb = std::min(width - 1, int(std::floor(std::max({x[0], x[1], x[2]}))));
        for (int py = ya; py <= yb; ++py)
            for (int px = xa; px <= xb; ++px) {
                double w[3];
                bool inside = true;
                for (int k = 0; k < 3; ++k) {
                    const int i = (k + 1) % 3, j = (k + 2) % 3;
                    const bool forward = tri[std::size_t(i)] < tri[std::size_t(j)];
                    const int a = forward ? i : j, b = forward ? j : i;
                    w[k] = (forward ? 1.0 : -1.0) * orientation * edge(x[a], y[a], x[b], y[b], px, py);
                    const double dx = (x[j] - x[i]) * orientation, dy = (y[j] - y[i]) * orientation;
                    const bool topLeft = dy < 0 || (dy == 0 && dx > 0);
                    inside = inside && (w[k] > 0 || (w[k] == 0 && topLeft));
                }
                if (!inside) continue;
                const double inv = 1.0 / std::abs(area);
                const double b0 = w[0] * inv / z[0], b1 = w[1] * inv / z[1], b2 = w[2] * inv / z[2];
                const double sum = b0 + b1 + b2;
                const double depth = 1.0 / sum;
                const std::size_t at = out.index(px, py);
                if (depth >= out.depth[at]) continue;
                out.depth[at] = float(depth);
                out.triangle[at] = std::int32_t(t);
                out.bary[3 * at] = float(b0 / sum), out.bary[3 * at + 1] = float(b1 / sum), out.bary[3 * at + 2] = float(b2 / sum);
            }
    }
    return out;
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

    void matchesThePlainRuleToTheBit() {
        // Triangles of every shape, overlapping at random depths, some slivers, some larger than
        // the frame or partly outside it, seen from both sides; with culling and without, on one
        // stripe and on several. The rasterizer's shortcuts (each triangle set up once, row
        // terms, a row's run ended where it leaves the triangle) change no pixel.
        cv::RNG rng(20261207);
        Scene s;
        const int n = 400;
        s.screen.resize(3, 3 * n);
        for (int t = 0; t < n; ++t) {
            const float cx = rng.uniform(-20.f, 140.f), cy = rng.uniform(-20.f, 120.f);
            const float size = t % 10 == 0 ? rng.uniform(40.f, 300.f) : rng.uniform(0.5f, 12.f);
            for (int k = 0; k < 3; ++k) {
                float dx = rng.uniform(-size, size), dy = rng.uniform(-size, size);
                if (t % 7 == 0 && k == 2) dx *= 0.01f, dy = 0.01f * dx + rng.uniform(-0.3f, 0.3f);  // a sliver
                s.screen.col(3 * t + k) << cx + dx, cy + dy, rng.uniform(1.f, 9.f);
            }
            s.triangles.push_back({3 * t, 3 * t + 1, 3 * t + 2});
        }
        // Shared edges too: a strip of triangles on a jittered grid.
        const int firstGrid = int(s.screen.cols());
        s.screen.conservativeResize(3, firstGrid + 11 * 11);
        for (int j = 0; j < 11; ++j)
            for (int i = 0; i < 11; ++i)
                s.screen.col(firstGrid + 11 * j + i) << 5.3f + 11.f * i + rng.uniform(-3.f, 3.f), 3.7f + 9.f * j + rng.uniform(-3.f, 3.f), 0.5f;
        for (int j = 0; j < 10; ++j)
            for (int i = 0; i < 10; ++i) {
                const int a = firstGrid + 11 * j + i;
                s.triangles.push_back({a, a + 11, a + 1});
                s.triangles.push_back({a + 1, a + 11, a + 12});
            }
        RasterInput in;
        in.screen = &s.screen;
        in.triangles = &s.triangles;
        for (const Culling culling : {Culling::Back, Culling::None}) {
            in.culling = culling;
            const RasterBuffers expected = referenceRaster(s, culling, 123, 101);
            QVERIFY(coveredCount(expected) > 5000);
            for (const int threads : {1, 3}) {
                RasterBuffers r;
                rasterize(in, 123, 101, r, threads);
                QVERIFY(r.triangle == expected.triangle);
                QVERIFY(r.depth == expected.depth);
                QVERIFY(r.bary == expected.bary);
            }
        }
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
