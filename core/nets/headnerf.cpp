#include "nets/headnerf.h"

#include <cmath>

namespace F = torch::nn::functional;

namespace ideu::nets {
namespace {

torch::nn::Conv2d conv1x1(int in, int out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)); }
torch::Tensor lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); }
torch::Tensor up2(const torch::Tensor& x) {
    return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kBilinear).align_corners(false).recompute_scale_factor(false));
}

}  // namespace

HeadNerfMlpImpl::HeadNerfMlpImpl(const HeadNerfConfig& c) {
    const int input = 63 + c.shapeCode();
    for (int i = 0; i < 8; ++i) {
        const int in = i == 0 ? input : i == 5 ? input + c.hidden : c.hidden;
        feaExt.push_back(register_module("FeaExt_module_" + std::to_string(i), conv1x1(in, c.hidden)));
    }
    density_module = register_module("density_module", conv1x1(c.hidden, 1));
    RGB_layer_0 = register_module("RGB_layer_0", conv1x1(c.hidden, c.hidden));
    RGB_layer_1 = register_module("RGB_layer_1", conv1x1(c.hidden + c.appearanceCode(), c.hidden / 2));
    RGB_layer_2 = register_module("RGB_layer_2", conv1x1(c.hidden / 2, c.featmapChannels));
}

std::pair<torch::Tensor, torch::Tensor> HeadNerfMlpImpl::forward(const torch::Tensor& in, const torch::Tensor& appearance) {
    torch::Tensor h = in;
    for (int i = 0; i < 8; ++i) {
        h = torch::relu(feaExt[std::size_t(i)](h));
        if (i == 4) h = torch::cat({in, h}, 1);
    }
    const torch::Tensor density = torch::relu(density_module(h));
    torch::Tensor f = RGB_layer_0(h);
    f = torch::relu(RGB_layer_1(torch::cat({f, appearance}, 1)));
    return {density, RGB_layer_2(f)};
}

BlurImpl::BlurImpl() { f = register_buffer("f", torch::tensor({1.f, 2.f, 1.f})); }

torch::Tensor BlurImpl::forward(const torch::Tensor& x) {
    // kornia filter2d(normalized=True): the 3x3 kernel f f^T divided by the sum of its absolute
    // values, depthwise, with 1-pixel reflect padding.
    torch::Tensor k = f.unsqueeze(1) * f.unsqueeze(0);
    k = k / k.abs().sum();
    const int64_t c = x.size(1);
    k = k.view({1, 1, 3, 3}).expand({c, 1, 3, 3}).contiguous();
    const torch::Tensor padded = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect));
    return F::conv2d(padded, k, F::Conv2dFuncOptions().groups(c));
}

PixelShuffleUpImpl::PixelShuffleUpImpl(int channels) {
    layer_1 = register_module("layer_1", conv1x1(channels, 2 * channels));
    layer_2 = register_module("layer_2", conv1x1(2 * channels, 4 * channels));
    blur_layer = register_module("blur_layer", Blur());
}

torch::Tensor PixelShuffleUpImpl::forward(const torch::Tensor& x) {
    const torch::Tensor y = x.repeat({1, 4, 1, 1});
    torch::Tensor h = lrelu(layer_1(x));
    h = lrelu(layer_2(h)) + y;
    return blur_layer(F::pixel_shuffle(h, 2));
}

NeuralRendererImpl::NeuralRendererImpl(const HeadNerfConfig& c) {
    blocks = int(std::lround(std::log2(double(c.predImageSize) / c.featmapSize)));
    bg_featmap = register_parameter("bg_featmap", torch::ones({1, c.featmapChannels, c.featmapSize, c.featmapSize}));
    feat_upsample_list = torch::nn::ModuleList();
    feat_layers = torch::nn::ModuleList();
    feat_2_rgb_list = torch::nn::ModuleList();
    feat_2_rgb_list->push_back(conv1x1(c.featmapChannels, 3));
    for (int b = 0; b < blocks; ++b) {
        const int in = std::max(c.featmapChannels >> b, 32);
        const int out = std::max(c.featmapChannels >> (b + 1), 32);
        feat_upsample_list->push_back(PixelShuffleUp(in));
        feat_layers->push_back(conv1x1(in, out));
        feat_2_rgb_list->push_back(conv1x1(out, 3));
    }
    register_module("feat_upsample_list", feat_upsample_list);
    register_module("feat_layers", feat_layers);
    register_module("feat_2_rgb_list", feat_2_rgb_list);
    rgb_upsample = register_module("rgb_upsample", torch::nn::Sequential(torch::nn::Identity(), Blur()));
}

torch::Tensor NeuralRendererImpl::forward(const torch::Tensor& x, std::map<std::string, torch::Tensor>* inter) {
    auto up = [&](const torch::Tensor& t) { return rgb_upsample[1]->as<BlurImpl>()->forward(up2(t)); };
    torch::Tensor rgb = up(feat_2_rgb_list[0]->as<torch::nn::Conv2dImpl>()->forward(x));
    torch::Tensor net = x;
    for (int b = 0; b < blocks; ++b) {
        net = feat_upsample_list[std::size_t(b)]->as<PixelShuffleUpImpl>()->forward(net);
        if (inter) (*inter)["nr.up" + std::to_string(b)] = net.clone();
        net = feat_layers[std::size_t(b)]->as<torch::nn::Conv2dImpl>()->forward(net);
        if (inter) (*inter)["nr.hid" + std::to_string(b)] = net.clone();
        net = lrelu(net);
        rgb = rgb + feat_2_rgb_list[std::size_t(b + 1)]->as<torch::nn::Conv2dImpl>()->forward(net);
        if (b < blocks - 1) rgb = up(rgb);
    }
    return torch::sigmoid(rgb);
}

HeadNerfImpl::HeadNerfImpl(const HeadNerfConfig& c) : config(c) {
    fg_CD_predictor = register_module("fg_CD_predictor", HeadNerfMlp(c));
    neural_render = register_module("neural_render", NeuralRenderer(c));
}

HeadNerfOutput HeadNerfImpl::render(const torch::Tensor& shapeCode, const torch::Tensor& appearanceCode, const torch::Tensor& R,
                                    const torch::Tensor& T, const torch::Tensor& invK, bool keep) {
    HeadNerfOutput out;
    const int64_t b = shapeCode.size(0);
    const int fs = config.featmapSize;
    const int nr = fs * fs, ns = config.samples;
    const auto options = shapeCode.options();
    // 1. Rays through the feature-map pixel grid (integer coordinates, ray = y*F + x).
    const torch::Tensor idx = torch::arange(nr, options);
    const torch::Tensor xs = torch::fmod(idx, fs), ys = torch::floor(idx / fs);
    const torch::Tensor pix = torch::stack({xs, ys, torch::ones_like(xs)}, 0).unsqueeze(0).expand({b, 3, nr});  // [B,3,Nr]
    torch::Tensor dir = torch::bmm(R, torch::bmm(invK, pix));  // [B,3,Nr]
    dir = dir / dir.norm(2, 1, true);
    const torch::Tensor len = -1.0 / dir.select(1, 2).unsqueeze(1);  // [B,1,Nr]
    // 2. Depth planes between world z 2.5 and -3.5 below the camera.
    const torch::Tensor oz = T.select(1, 2);  // [B,1]
    const torch::Tensor z1 = oz - config.worldZ1, z2 = oz - config.worldZ2;
    const torch::Tensor t = torch::linspace(0, 1, ns + 1, options);
    const torch::Tensor zv = z1.unsqueeze(-1) * (1 - t) + z2.unsqueeze(-1) * t;  // [B,1,Ns+1]
    const torch::Tensor zvals = zv.slice(2, 0, ns).unsqueeze(2).expand({b, 1, nr, ns});
    const torch::Tensor zDists = (zv.slice(2, 1, ns + 1) - zv.slice(2, 0, ns)).unsqueeze(2) * len.unsqueeze(-1);  // [B,1,Nr,Ns]
    const torch::Tensor pts = T.unsqueeze(-1) + (dir * len).unsqueeze(-1) * zvals;  // [B,3,Nr,Ns]
    if (keep) {
        out.intermediates["rays.dir"] = dir.unsqueeze(-1).detach();
        out.intermediates["rays.len"] = len.unsqueeze(-1).detach();
        out.intermediates["rays.zvals"] = zvals.detach();
        out.intermediates["rays.z_dists"] = zDists.detach();
        out.intermediates["rays.pts"] = pts.detach();
    }
    // 3. Positional encoding: p, then sin(2^k p), cos(2^k p) for k = 0..9 (no pi).
    std::vector<torch::Tensor> enc{pts};
    for (int k = 0; k < 10; ++k) {
        const double f = std::pow(2.0, k);
        enc.push_back(torch::sin(pts * f));
        enc.push_back(torch::cos(pts * f));
    }
    const torch::Tensor encoding = torch::cat(enc, 1);  // [B,63,Nr,Ns]
    const torch::Tensor shape = shapeCode.view({b, -1, 1, 1}).expand({b, shapeCode.size(1), nr, ns});
    const torch::Tensor appearance = appearanceCode.view({b, -1, 1, 1}).expand({b, appearanceCode.size(1), nr, ns});
    const torch::Tensor in = torch::cat({encoding, shape}, 1);
    // 4. MLP.
    auto [density, feature] = fg_CD_predictor(in, appearance);
    if (keep) {
        out.intermediates["mlp.density"] = density.detach();
        out.intermediates["mlp.feature"] = feature.detach();
        out.intermediates["mlp.in_vp"] = encoding.detach();
    }
    // 5. Volume rendering.
    const torch::Tensor alpha = 1 - torch::exp(-density * zDists);
    const torch::Tensor trans = torch::cumprod(1 - alpha + 1e-10, 3);
    const torch::Tensor transExclusive = torch::cat({torch::ones_like(trans.slice(3, 0, 1)), trans.slice(3, 0, ns - 1)}, 3);
    const torch::Tensor weights = alpha * transExclusive;  // [B,1,Nr,Ns]
    const torch::Tensor fgFeat = (weights * feature).sum(3).view({b, feature.size(1), fs, fs});
    const torch::Tensor bgAlpha = (1 - weights.sum(3)).view({b, 1, fs, fs});
    const torch::Tensor merge = fgFeat + bgAlpha * neural_render->bg_featmap;
    if (keep) {
        out.intermediates["render.alpha"] = alpha.detach();
        out.intermediates["render.weights"] = weights.detach();
        out.intermediates["fg_feat"] = fgFeat.detach();
        out.intermediates["bg_alpha"] = bgAlpha.detach();
        out.intermediates["merge_featmap"] = merge.detach();
    }
    // 6. Neural renderer, for the head over the learned background and the background alone.
    out.mergeImage = neural_render(merge, keep ? &out.intermediates : nullptr);
    out.bgImage = neural_render(neural_render->bg_featmap.expand({b, -1, -1, -1}));
    out.bgAlpha = bgAlpha;
    return out;
}

}  // namespace ideu::nets
