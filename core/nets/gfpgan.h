#pragma once
// GFPGANv1Clean (TencentARC/GFPGAN, the architecture behind v1.3/v1.4) in LibTorch: a U-Net
// encoder, CS-SFT conditions and a "clean" StyleGAN2 decoder with modulated/demodulated
// convolutions. Module names mirror the reference so official weights load 1:1.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace ideu::nets {

struct GfpganConfig {
    int outSize = 512;
    int numStyleFeat = 512;
    int channelMultiplier = 2;
    double narrow = 1.0;
    int numMlp = 8;
    bool sftHalf = true;
    static GfpganConfig official() { return {}; }
    // The reduced configuration of the test fixture.
    static GfpganConfig fixture() { return {64, 128, 1, 0.125, 8, true}; }
};

struct ModulatedConvImpl : torch::nn::Module {
    ModulatedConvImpl(int in, int out, int kernel, int styleDim, bool demodulate, bool upsample);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style);
    torch::Tensor weight;
    torch::nn::Linear modulation{nullptr};
    int in, out, kernel;
    bool demodulate, upsample;
};
TORCH_MODULE(ModulatedConv);

struct StyleConvImpl : torch::nn::Module {
    StyleConvImpl(int in, int out, int kernel, int styleDim, bool upsample);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style, const torch::Tensor& noise);
    ModulatedConv modulated_conv{nullptr};
    torch::Tensor weight, bias;
};
TORCH_MODULE(StyleConv);

struct ToRgbImpl : torch::nn::Module {
    ToRgbImpl(int in, int styleDim, bool upsample);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style, const torch::Tensor& skip);
    ModulatedConv modulated_conv{nullptr};
    torch::Tensor bias;
    bool upsample;
};
TORCH_MODULE(ToRgb);

struct GfpganResBlockImpl : torch::nn::Module {
    GfpganResBlockImpl(int in, int out, double scale);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
    double scale;
};
TORCH_MODULE(GfpganResBlock);

struct StyleGan2DecoderImpl : torch::nn::Module {
    explicit StyleGan2DecoderImpl(const GfpganConfig& config);
    // latent: [B, numLatent, numStyleFeat]; conditions: scale0, shift0, scale1, shift1, ...
    torch::Tensor forward(const torch::Tensor& latent, const std::vector<torch::Tensor>& conditions,
                          std::map<std::string, torch::Tensor>* intermediates = nullptr);
    torch::nn::Sequential style_mlp{nullptr};  // unused with latent input; kept for the names
    torch::nn::ModuleList style_convs{nullptr}, to_rgbs{nullptr};
    StyleConv style_conv1{nullptr};
    ToRgb to_rgb1{nullptr};
    std::shared_ptr<torch::nn::Module> constant_input, noises;
    int numLayers = 0;
    bool sftHalf = true;
};
TORCH_MODULE(StyleGan2Decoder);

struct GfpganResult {
    torch::Tensor image;                 // [B, 3, S, S], unbounded (RGB, about -1..1)
    std::vector<torch::Tensor> unetRgb;  // toRGB side outputs
    std::map<std::string, torch::Tensor> intermediates;  // sample 0 (only when asked for)
};

struct GfpganImpl : torch::nn::Module {
    explicit GfpganImpl(const GfpganConfig& config = GfpganConfig::official());
    // x: [B, 3, S, S] RGB in [-1, 1]. Uses the stored noise buffers (deterministic).
    GfpganResult run(const torch::Tensor& x, bool returnRgb = false, bool keepIntermediates = false);
    torch::Tensor forward(const torch::Tensor& x) { return run(x).image; }
    GfpganConfig config;
    int logSize = 9;
    torch::nn::Conv2d conv_body_first{nullptr}, final_conv{nullptr};
    torch::nn::ModuleList conv_body_down{nullptr}, conv_body_up{nullptr}, toRGB{nullptr};
    torch::nn::ModuleList condition_scale{nullptr}, condition_shift{nullptr};
    torch::nn::Linear final_linear{nullptr};
    StyleGan2Decoder stylegan_decoder{nullptr};
};
TORCH_MODULE(Gfpgan);

// Official post-processing: clamp to [-1, 1], to 0..255, round half to even, uint8, HWC RGB.
torch::Tensor gfpganToUint8(const torch::Tensor& image);

}  // namespace ideu::nets
