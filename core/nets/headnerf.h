#pragma once
// HeadNeRF (CrisHY1995/headnerf) in LibTorch: a parametric NeRF of the head. Shape code =
// identity 100 + expression 79, appearance code = albedo 100 + illumination 27. Rays through
// a feature-map grid are sampled, an 8x384 MLP with a skip predicts density and a 256-d
// feature, volume rendering gives a feature map, and a neural renderer (pixel-shuffle
// upsampling, blur) turns it into the image. Differentiable, so codes and camera can be fitted.
#include <torch/torch.h>

#include <map>
#include <string>

namespace ideu::nets {

struct HeadNerfConfig {
    int featmapSize = 32;
    int featmapChannels = 256;
    int predImageSize = 512;
    int idenCode = 100, exprCode = 79, textCode = 100, illumCode = 27;
    int samples = 64;
    double worldZ1 = 2.5, worldZ2 = -3.5;
    int hidden = 384;
    int shapeCode() const { return idenCode + exprCode; }
    int appearanceCode() const { return textCode + illumCode; }
    static HeadNerfConfig reso32HR() { return {}; }
    static HeadNerfConfig fixture() {
        HeadNerfConfig c;
        c.featmapSize = 8;
        c.predImageSize = 128;
        return c;
    }
};

struct HeadNerfMlpImpl : torch::nn::Module {
    explicit HeadNerfMlpImpl(const HeadNerfConfig& c);
    // in: [B, 242, Nr, Ns] (encoding + shape code), appearance: [B, 127, Nr, Ns]
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& in, const torch::Tensor& appearance);
    std::vector<torch::nn::Conv2d> feaExt;
    torch::nn::Conv2d density_module{nullptr}, RGB_layer_0{nullptr}, RGB_layer_1{nullptr}, RGB_layer_2{nullptr};
};
TORCH_MODULE(HeadNerfMlp);

struct BlurImpl : torch::nn::Module {
    BlurImpl();
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor f;
};
TORCH_MODULE(Blur);

struct PixelShuffleUpImpl : torch::nn::Module {
    explicit PixelShuffleUpImpl(int channels);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d layer_1{nullptr}, layer_2{nullptr};
    Blur blur_layer{nullptr};
};
TORCH_MODULE(PixelShuffleUp);

struct NeuralRendererImpl : torch::nn::Module {
    explicit NeuralRendererImpl(const HeadNerfConfig& c);
    torch::Tensor forward(const torch::Tensor& featmap, std::map<std::string, torch::Tensor>* inter = nullptr);
    torch::Tensor bg_featmap;
    torch::nn::ModuleList feat_upsample_list{nullptr}, feat_layers{nullptr}, feat_2_rgb_list{nullptr};
    torch::nn::Sequential rgb_upsample{nullptr};
    int blocks = 4;
};
TORCH_MODULE(NeuralRenderer);

struct HeadNerfOutput {
    torch::Tensor mergeImage;  // [B, 3, S, S] in 0..1
    torch::Tensor bgImage;
    torch::Tensor bgAlpha;     // [B, 1, F, F]: 1 - opacity of the head
    std::map<std::string, torch::Tensor> intermediates;
};

struct HeadNerfImpl : torch::nn::Module {
    explicit HeadNerfImpl(const HeadNerfConfig& c = HeadNerfConfig::reso32HR());
    // R: [B,3,3] camera-to-world rotation, T: [B,3,1] camera centre, invK: [B,3,3] inverse
    // intrinsics at feature-map scale.
    HeadNerfOutput render(const torch::Tensor& shapeCode, const torch::Tensor& appearanceCode, const torch::Tensor& R,
                          const torch::Tensor& T, const torch::Tensor& invK, bool keepIntermediates = false);
    HeadNerfConfig config;
    HeadNerfMlp fg_CD_predictor{nullptr};
    NeuralRenderer neural_render{nullptr};
};
TORCH_MODULE(HeadNerf);

}  // namespace ideu::nets
