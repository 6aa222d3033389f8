#include "nets/gfpgan.h"

#include <cmath>

namespace F = torch::nn::functional;

namespace ideu::nets {
namespace {

torch::Tensor lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); }

torch::Tensor resize(const torch::Tensor& x, double factor) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .scale_factor(std::vector<double>{factor, factor})
                                 .mode(torch::kBilinear)
                                 .align_corners(false).recompute_scale_factor(false));
}

std::map<int, int> channelTable(double narrow, int multiplier) {
    return {{4, int(512 * narrow)},
            {8, int(512 * narrow)},
            {16, int(512 * narrow)},
            {32, int(512 * narrow)},
            {64, int(256 * multiplier * narrow)},
            {128, int(128 * multiplier * narrow)},
            {256, int(64 * multiplier * narrow)},
            {512, int(32 * multiplier * narrow)},
            {1024, int(16 * multiplier * narrow)}};
}

torch::nn::Conv2d conv2d(int in, int out, int k, bool bias = true) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(bias));
}

// A holder for parameters or buffers that live directly under a name (e.g. "constant_input.weight").
struct Holder : torch::nn::Module {};

}  // namespace

ModulatedConvImpl::ModulatedConvImpl(int in_, int out_, int kernel_, int styleDim, bool demodulate_, bool upsample_)
    : in(in_), out(out_), kernel(kernel_), demodulate(demodulate_), upsample(upsample_) {
    weight = register_parameter("weight", torch::randn({1, out, in, kernel, kernel}) / std::sqrt(double(in * kernel * kernel)));
    modulation = register_module("modulation", torch::nn::Linear(styleDim, in));
}

torch::Tensor ModulatedConvImpl::forward(const torch::Tensor& xIn, const torch::Tensor& styleIn) {
    const int64_t b = xIn.size(0);
    const torch::Tensor style = modulation(styleIn).view({b, 1, in, 1, 1});
    torch::Tensor w = weight * style;  // [B, out, in, k, k]
    if (demodulate) {
        const torch::Tensor demod = torch::rsqrt(w.pow(2).sum({2, 3, 4}) + 1e-8);
        w = w * demod.view({b, out, 1, 1, 1});
    }
    w = w.view({b * out, in, kernel, kernel});
    torch::Tensor x = upsample ? resize(xIn, 2.0) : xIn;
    const int64_t h = x.size(2), wd = x.size(3);
    x = x.reshape({1, b * in, h, wd});
    torch::Tensor y = F::conv2d(x, w, F::Conv2dFuncOptions().padding(kernel / 2).groups(b));
    return y.view({b, out, y.size(2), y.size(3)});
}

StyleConvImpl::StyleConvImpl(int in, int out, int kernel, int styleDim, bool upsample) {
    modulated_conv = register_module("modulated_conv", ModulatedConv(in, out, kernel, styleDim, true, upsample));
    weight = register_parameter("weight", torch::zeros({1}));
    bias = register_parameter("bias", torch::zeros({1, out, 1, 1}));
}

torch::Tensor StyleConvImpl::forward(const torch::Tensor& x, const torch::Tensor& style, const torch::Tensor& noise) {
    torch::Tensor out = modulated_conv(x, style) * std::sqrt(2.0);
    out = out + weight * noise;
    out = out + bias;
    return lrelu(out);
}

ToRgbImpl::ToRgbImpl(int in, int styleDim, bool upsample_) : upsample(upsample_) {
    modulated_conv = register_module("modulated_conv", ModulatedConv(in, 3, 1, styleDim, false, false));
    bias = register_parameter("bias", torch::zeros({1, 3, 1, 1}));
}

torch::Tensor ToRgbImpl::forward(const torch::Tensor& x, const torch::Tensor& style, const torch::Tensor& skip) {
    torch::Tensor out = modulated_conv(x, style) + bias;
    if (skip.defined()) out = out + (upsample ? resize(skip, 2.0) : skip);
    return out;
}

GfpganResBlockImpl::GfpganResBlockImpl(int in, int out, double scale_) : scale(scale_) {
    conv1 = register_module("conv1", conv2d(in, in, 3));
    conv2 = register_module("conv2", conv2d(in, out, 3));
    skip = register_module("skip", conv2d(in, out, 1, false));
}

torch::Tensor GfpganResBlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor y = lrelu(conv1(x));
    y = resize(y, scale);
    y = lrelu(conv2(y));
    return y + skip(resize(x, scale));
}

StyleGan2DecoderImpl::StyleGan2DecoderImpl(const GfpganConfig& c) : sftHalf(c.sftHalf) {
    const auto channels = channelTable(c.narrow, c.channelMultiplier);
    const int logSize = int(std::lround(std::log2(c.outSize)));
    // style_mlp: NormStyleCode at 0, then Linear/LeakyReLU pairs: Linears at 1, 3, ..., 15.
    style_mlp = torch::nn::Sequential();
    style_mlp->push_back(torch::nn::Identity());
    for (int i = 0; i < c.numMlp; ++i) {
        style_mlp->push_back(torch::nn::Linear(c.numStyleFeat, c.numStyleFeat));
        style_mlp->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
    }
    register_module("style_mlp", style_mlp);
    constant_input = std::make_shared<Holder>();
    constant_input->register_parameter("weight", torch::randn({1, channels.at(4), 4, 4}));
    register_module("constant_input", constant_input);
    style_conv1 = register_module("style_conv1", StyleConv(channels.at(4), channels.at(4), 3, c.numStyleFeat, false));
    to_rgb1 = register_module("to_rgb1", ToRgb(channels.at(4), c.numStyleFeat, false));
    numLayers = (logSize - 2) * 2 + 1;
    noises = std::make_shared<Holder>();
    for (int j = 0; j < numLayers; ++j) {
        const int r = 1 << ((j + 5) / 2);
        noises->register_buffer("noise" + std::to_string(j), torch::randn({1, 1, r, r}));
    }
    register_module("noises", noises);
    style_convs = torch::nn::ModuleList();
    to_rgbs = torch::nn::ModuleList();
    int in = channels.at(4);
    for (int i = 3; i <= logSize; ++i) {
        const int out = channels.at(1 << i);
        style_convs->push_back(StyleConv(in, out, 3, c.numStyleFeat, true));
        style_convs->push_back(StyleConv(out, out, 3, c.numStyleFeat, false));
        to_rgbs->push_back(ToRgb(out, c.numStyleFeat, true));
        in = out;
    }
    register_module("style_convs", style_convs);
    register_module("to_rgbs", to_rgbs);
}

torch::Tensor StyleGan2DecoderImpl::forward(const torch::Tensor& latent, const std::vector<torch::Tensor>& conditions,
                                            std::map<std::string, torch::Tensor>* inter) {
    const int64_t b = latent.size(0);
    std::vector<torch::Tensor> noise;
    for (int j = 0; j < numLayers; ++j) noise.push_back(noises->named_buffers(false)["noise" + std::to_string(j)]);
    torch::Tensor out = constant_input->named_parameters(false)["weight"].repeat({b, 1, 1, 1});
    out = style_conv1(out, latent.select(1, 0), noise[0]);
    if (inter) (*inter)["sg.style_conv1"] = out[0].unsqueeze(0).clone();
    torch::Tensor skip = to_rgb1(out, latent.select(1, 1), torch::Tensor());
    if (inter) (*inter)["sg.to_rgb1"] = skip[0].unsqueeze(0).clone();
    int i = 1;
    for (std::size_t k = 0; k < to_rgbs->size(); ++k) {
        out = style_convs[2 * k]->as<StyleConvImpl>()->forward(out, latent.select(1, i), noise[std::size_t(2 * k + 1)]);
        if (inter) (*inter)["sg.style_convs" + std::to_string(2 * k)] = out[0].unsqueeze(0).clone();
        if (i < int(conditions.size())) {
            if (sftHalf) {
                const int64_t half = out.size(1) / 2;
                auto parts = torch::split(out, half, 1);
                const torch::Tensor sft = parts[1] * conditions[std::size_t(i - 1)] + conditions[std::size_t(i)];
                out = torch::cat({parts[0], sft}, 1);
            } else {
                out = out * conditions[std::size_t(i - 1)] + conditions[std::size_t(i)];
            }
        }
        if (inter) (*inter)["sg.after_sft" + std::to_string(k)] = out[0].unsqueeze(0).clone();
        out = style_convs[2 * k + 1]->as<StyleConvImpl>()->forward(out, latent.select(1, i + 1), noise[std::size_t(2 * k + 2)]);
        if (inter) (*inter)["sg.style_convs" + std::to_string(2 * k + 1)] = out[0].unsqueeze(0).clone();
        skip = to_rgbs[k]->as<ToRgbImpl>()->forward(out, latent.select(1, i + 2), skip);
        if (inter) (*inter)["sg.to_rgbs" + std::to_string(k)] = skip[0].unsqueeze(0).clone();
        i += 2;
    }
    return skip;
}

GfpganImpl::GfpganImpl(const GfpganConfig& c) : config(c) {
    logSize = int(std::lround(std::log2(c.outSize)));
    const auto unet = channelTable(c.narrow * 0.5, c.channelMultiplier);
    const int first = unet.at(c.outSize);
    conv_body_first = register_module("conv_body_first", conv2d(3, first, 1));
    conv_body_down = torch::nn::ModuleList();
    int in = first;
    for (int i = logSize; i > 2; --i) {
        const int out = unet.at(1 << (i - 1));
        conv_body_down->push_back(GfpganResBlock(in, out, 0.5));
        in = out;
    }
    register_module("conv_body_down", conv_body_down);
    final_conv = register_module("final_conv", conv2d(in, unet.at(4), 3));
    in = unet.at(4);
    conv_body_up = torch::nn::ModuleList();
    toRGB = torch::nn::ModuleList();
    condition_scale = torch::nn::ModuleList();
    condition_shift = torch::nn::ModuleList();
    for (int i = 3; i <= logSize; ++i) {
        const int out = unet.at(1 << i);
        conv_body_up->push_back(GfpganResBlock(in, out, 2.0));
        toRGB->push_back(conv2d(out, 3, 1));
        const int sftOut = c.sftHalf ? out : 2 * out;
        auto branch = [&] {
            return torch::nn::Sequential(conv2d(out, out, 3), torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
                                         conv2d(out, sftOut, 3));
        };
        condition_scale->push_back(branch());
        condition_shift->push_back(branch());
        in = out;
    }
    register_module("conv_body_up", conv_body_up);
    register_module("toRGB", toRGB);
    register_module("condition_scale", condition_scale);
    register_module("condition_shift", condition_shift);
    const int numLatent = logSize * 2 - 2;
    final_linear = register_module("final_linear", torch::nn::Linear(unet.at(4) * 16, numLatent * c.numStyleFeat));
    stylegan_decoder = register_module("stylegan_decoder", StyleGan2Decoder(c));
}

GfpganResult GfpganImpl::run(const torch::Tensor& x, bool returnRgb, bool keep) {
    GfpganResult r;
    std::map<std::string, torch::Tensor>* inter = keep ? &r.intermediates : nullptr;
    torch::Tensor feat = lrelu(conv_body_first(x));
    std::vector<torch::Tensor> skips;
    for (std::size_t i = 0; i < conv_body_down->size(); ++i) {
        feat = conv_body_down[i]->as<GfpganResBlockImpl>()->forward(feat);
        skips.insert(skips.begin(), feat);
        if (inter) r.intermediates["enc.down" + std::to_string(i)] = feat[0].unsqueeze(0).clone();
    }
    feat = lrelu(final_conv(feat));
    if (inter) r.intermediates["enc.final_feat_flat"] = feat[0].reshape({1, -1}).clone();
    torch::Tensor style = final_linear(feat.reshape({feat.size(0), -1}));
    if (inter) r.intermediates["style_code_flat"] = style.clone();
    style = style.view({style.size(0), -1, config.numStyleFeat});
    std::vector<torch::Tensor> conditions;
    for (std::size_t i = 0; i < conv_body_up->size(); ++i) {
        feat = feat + skips[i];
        feat = conv_body_up[i]->as<GfpganResBlockImpl>()->forward(feat);
        if (inter) r.intermediates["dec_unet.up" + std::to_string(i)] = feat[0].unsqueeze(0).clone();
        const torch::Tensor scale = condition_scale[i]->as<torch::nn::SequentialImpl>()->forward(feat);
        const torch::Tensor shift = condition_shift[i]->as<torch::nn::SequentialImpl>()->forward(feat);
        if (inter) {
            r.intermediates["cond.scale" + std::to_string(i)] = scale[0].unsqueeze(0).clone();
            r.intermediates["cond.shift" + std::to_string(i)] = shift[0].unsqueeze(0).clone();
        }
        conditions.push_back(scale);
        conditions.push_back(shift);
        if (returnRgb) r.unetRgb.push_back(toRGB[i]->as<torch::nn::Conv2dImpl>()->forward(feat));
    }
    r.image = stylegan_decoder(style, conditions, inter);
    return r;
}

torch::Tensor gfpganToUint8(const torch::Tensor& image) {
    torch::Tensor x = image.clamp(-1, 1);
    x = ((x + 1) / 2 * 255).round();  // round half to even, as torch/numpy do
    return x.to(torch::kUInt8).squeeze(0).permute({1, 2, 0}).contiguous();
}

}  // namespace ideu::nets
