// The LibTorch ports of BiSeNet, GFPGANv1Clean and HeadNeRF against the reference fixtures
// (random weights, outputs and intermediates computed by the original PyTorch code).
#include <torch/torch.h>

#include "common/error.h"
#include "nets/bisenet.h"
#include "nets/flat_weights.h"
#include "nets/gfpgan.h"
#include "nets/headnerf.h"
#include "test_support.h"

#include <QtTest>
#include <QTemporaryDir>

using namespace ideu;
using namespace ideu::nets;

namespace {

QString fixture(const QString& net, const QString& file) { return test::sharedDir() + "/fixtures/nets/" + net + "/" + file; }

// max|port - ref| <= 1e-4 * max|ref| (the fixtures' recommended check).
void expectClose(const torch::Tensor& port, const torch::Tensor& ref, const char* name, double relative = 1e-4) {
    QVERIFY2(port.sizes() == ref.sizes(), name);
    const double scale = ref.abs().max().item<double>();
    const double diff = (port.to(torch::kFloat32) - ref.to(torch::kFloat32)).abs().max().item<double>();
    qInfo("%-28s max|diff| %.3g (max|ref| %.3g, %.2g relative)", name, diff, scale, diff / std::max(scale, 1e-12));
    QVERIFY2(diff <= std::max(relative * scale, 1e-7), name);
}

}  // namespace

class TestNets : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        IDEU_REQUIRE_SHARED();
        torch::manual_seed(0);
    }

    void bisenetMatchesTheReference() {
        const TensorDict io = loadTensorDict(fixture("bisenet", "io.pt").toStdString());
        BiSeNet net;
        loadStrict(*net, loadTensorDict(fixture("bisenet", "weights.pt").toStdString()), "BiSeNet");
        net->eval();
        torch::NoGradGuard noGrad;
        expectClose(bisenetInput(io.at("input_u8")), io.at("input"), "input (preprocessing)", 1e-6);
        const BiSeNetResult r = net->run(io.at("input"));
        expectClose(r.out, io.at("out"), "out");
        expectClose(r.feat8, io.at("inter.resnet_feat8"), "resnet_feat8");
        expectClose(r.feat16, io.at("inter.resnet_feat16"), "resnet_feat16");
        expectClose(r.feat32, io.at("inter.resnet_feat32"), "resnet_feat32");
        expectClose(r.cpFeat16Up, io.at("inter.cp_feat16_up"), "cp_feat16_up");
        expectClose(r.cpFeat32Up, io.at("inter.cp_feat32_up"), "cp_feat32_up");
        expectClose(r.ffmOut, io.at("inter.ffm_out"), "ffm_out");
        expectClose(r.headLow, io.at("inter.head_out_lowres"), "head_out_lowres");
        expectClose(r.head16Low, io.at("inter.head_out16_lowres"), "head_out16_lowres");
        expectClose(r.head32Low, io.at("inter.head_out32_lowres"), "head_out32_lowres");
        // Labels: equal wherever the reference's top-2 margin is clear.
        const auto flips = [](const torch::Tensor& logits, const torch::Tensor& labels) {
            const auto top = logits[0].topk(2, 0);
            const torch::Tensor margin = std::get<0>(top)[0] - std::get<0>(top)[1];
            const torch::Tensor differ = logits[0].argmax(0) != labels;
            return std::pair<int, int>{int(differ.sum().item<int64_t>()), int((differ & (margin >= 1e-3)).sum().item<int64_t>())};
        };
        const auto [flipped, clearFlips] = flips(r.out, io.at("labels"));
        QCOMPARE(clearFlips, 0);
        QVERIFY(flipped <= 2);
        // The odd size (76 x 100) checks legacy-nearest resizing in the context path.
        const BiSeNetResult odd = net->run(io.at("odd.input"));
        expectClose(odd.out, io.at("odd.out"), "odd.out");
        QCOMPARE(flips(odd.out, io.at("odd.labels")).second, 0);
    }

    void gfpganMatchesTheReference() {
        const TensorDict io = loadTensorDict(fixture("gfpgan", "io.pt").toStdString());
        Gfpgan net(GfpganConfig::fixture());
        loadStrict(*net, loadTensorDict(fixture("gfpgan", "weights.pt").toStdString()), "GFPGAN");
        net->eval();
        torch::NoGradGuard noGrad;
        const GfpganResult r = net->run(io.at("input"), true, true);
        expectClose(r.image, io.at("out"), "out");
        for (int i = 0; i < 4; ++i) {
            const std::string key = "unet_rgb" + std::to_string(i);
            expectClose(r.unetRgb[std::size_t(i)], io.at(key), key.c_str());
        }
        for (const auto& [name, ref] : io) {
            if (name.rfind("inter.", 0) != 0) continue;
            const std::string key = name.substr(6);
            QVERIFY2(r.intermediates.count(key), key.c_str());
            expectClose(r.intermediates.at(key), ref, key.c_str());
        }
        // The official uint8 conversion: at most a few values off by one.
        const torch::Tensor u8 = gfpganToUint8(r.image.slice(0, 0, 1));
        const torch::Tensor diff = (u8.to(torch::kInt32) - io.at("out_u8")[0].to(torch::kInt32)).abs();
        QVERIFY(diff.max().item<int>() <= 1);
        QVERIFY(diff.sum().item<int>() <= 4);
    }

    void gfpganOfficialModuleTreeMatchesTheOfficialNames() {
        // Build the official 512 configuration and compare every name and shape with the
        // listing of the real checkpoint (so params_ema loads 1:1).
        Gfpgan net(GfpganConfig::official());
        QFile listing(fixture("gfpgan", "names_official512.txt"));
        QVERIFY(listing.open(QIODevice::ReadOnly));
        std::map<std::string, std::vector<int64_t>> expected;
        for (const QByteArray& line : listing.readAll().split('\n')) {
            const QList<QByteArray> parts = line.split('\t');
            if (parts.size() < 2) continue;
            std::vector<int64_t> shape;
            for (const QByteArray& d : parts[1].mid(1, parts[1].size() - 2).split(','))
                if (!d.trimmed().isEmpty()) shape.push_back(d.trimmed().toLongLong());
            expected[parts[0].toStdString()] = shape;
        }
        std::map<std::string, std::vector<int64_t>> actual;
        for (const auto& p : net->named_parameters()) actual[p.key()] = p.value().sizes().vec();
        for (const auto& b : net->named_buffers()) actual[b.key()] = b.value().sizes().vec();
        QCOMPARE(int(actual.size()), 285);
        QVERIFY(actual == expected);
    }

    void headnerfMatchesTheReferenceWithGradients() {
        const TensorDict io = loadTensorDict(fixture("headnerf", "io.pt").toStdString());
        HeadNerf net(HeadNerfConfig::fixture());
        loadStrict(*net, loadTensorDict(fixture("headnerf", "weights.pt").toStdString()), "HeadNeRF");
        net->eval();
        torch::Tensor shape = io.at("shape_code").clone().set_requires_grad(true);
        torch::Tensor appearance = io.at("appea_code").clone().set_requires_grad(true);
        torch::Tensor R = io.at("Rmat").clone().set_requires_grad(true);
        torch::Tensor T = io.at("Tvec").clone().set_requires_grad(true);
        const HeadNerfOutput out = net->render(shape, appearance, R, T, io.at("inv_inmat"), true);
        expectClose(out.mergeImage, io.at("merge_img"), "merge_img");
        expectClose(out.bgImage, io.at("bg_img"), "bg_img");
        for (const char* key : {"rays.dir", "rays.len", "rays.zvals", "rays.z_dists", "rays.pts", "mlp.density",
                                "render.alpha", "render.weights", "fg_feat", "bg_alpha", "merge_featmap", "nr.up0", "nr.hid0", "nr.up1"})
            expectClose(out.intermediates.at(key), io.at(key), key);
        // Per-sample features of the stored rays.
        const torch::Tensor rays = io.at("mlp.feat_sel_rays");
        expectClose(out.intermediates.at("mlp.feature").index_select(2, rays), io.at("mlp.feat_sel"), "mlp.feat_sel");
        expectClose(out.intermediates.at("mlp.in_vp").index_select(2, rays), io.at("mlp.in_vp_sel"), "mlp.in_vp_sel");
        // Gradients of the mean image.
        const torch::Tensor loss = out.mergeImage.mean();
        expectClose(loss.detach().reshape({1}), io.at("loss").reshape({1}), "loss");
        loss.backward();
        expectClose(shape.grad(), io.at("grad.shape_code"), "grad.shape_code");
        expectClose(appearance.grad(), io.at("grad.appea_code"), "grad.appea_code");
        expectClose(R.grad(), io.at("grad.Rmat"), "grad.Rmat");
        expectClose(T.grad(), io.at("grad.Tvec"), "grad.Tvec");
    }

    void wrongWeightsAreRefusedClearly() {
        BiSeNet net;
        TensorDict weights = loadTensorDict(fixture("bisenet", "weights.pt").toStdString());
        weights.erase("ffm.conv1.weight");
        weights["extra.weight"] = torch::zeros({1});
        try {
            loadStrict(*net, weights, "BiSeNet");
            QFAIL("no error");
        } catch (const ModelError& e) {
            const QString message = e.what();
            QVERIFY(message.contains("missing ffm.conv1.weight"));
            QVERIFY(message.contains("unexpected extra.weight"));
        }
        QVERIFY_THROWS_EXCEPTION(ModelError, loadTensorDict(fixture("bisenet", "names.txt").toStdString()));
    }

    void aFileThatIsNoArchiveIsRefusedBeforeTorchReadsIt() {
        // Torch's in-memory reader does not bound its reads: handed a text file it read past
        // the buffer (AddressSanitizer in test_nets). A text file, a truncated weight file
        // and an empty one are refused first, with the file's name and what it is not.
        QTemporaryDir dir;
        const QByteArray weights = [] {
            QFile file(fixture("bisenet", "weights.pt"));
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        }();
        QVERIFY(weights.size() > 1000);
        const std::vector<std::pair<QString, QByteArray>> cases = {
            {fixture("bisenet", "names.txt"), {}},
            {dir.filePath("truncated.pt"), weights.left(weights.size() - 100)},
            {dir.filePath("empty.pt"), QByteArray()},
        };
        for (const auto& [path, contents] : cases) {
            if (path.startsWith(dir.path())) {
                QFile file(path);
                QVERIFY(file.open(QIODevice::WriteOnly));
                file.write(contents);
            }
            try {
                loadTensorDict(path.toStdString());
                QFAIL(qPrintable("no error for " + path));
            } catch (const ModelError& e) {
                const QString message = e.what();
                QVERIFY2(message.contains(path) && message.contains("not a PyTorch weight file"), qPrintable(message));
            }
        }
        QVERIFY(!loadTensorDict(fixture("bisenet", "weights.pt").toStdString()).empty());
    }
};

QTEST_GUILESS_MAIN(TestNets)
#include "test_nets.moc"
