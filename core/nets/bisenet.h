#pragma once
// BiSeNet face parsing (zllrunning/face-parsing.PyTorch, 19 classes) in LibTorch. The module
// tree mirrors the reference, so its state-dict names load 1:1.
#include <torch/torch.h>

namespace ideu::nets {

struct ConvBNReLUImpl : torch::nn::Module {
    ConvBNReLUImpl(int in, int out, int kernel, int stride, int padding);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBNReLU);

struct BasicBlockImpl : torch::nn::Module {
    BasicBlockImpl(int in, int out, int stride);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

struct ResNet18Impl : torch::nn::Module {
    ResNet18Impl();
    // feat8, feat16, feat32
    std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNet18);

struct AttentionRefinementImpl : torch::nn::Module {
    AttentionRefinementImpl(int in, int out);
    torch::Tensor forward(const torch::Tensor& x);
    ConvBNReLU conv{nullptr};
    torch::nn::Conv2d conv_atten{nullptr};
    torch::nn::BatchNorm2d bn_atten{nullptr};
};
TORCH_MODULE(AttentionRefinement);

struct ContextFeatures {
    torch::Tensor feat8, feat16, feat32;  // ResNet-18 at 1/8, 1/16, 1/32 (feat8 is the spatial path)
    torch::Tensor up16, up32;             // cp_feat16_up, cp_feat32_up
};

struct ContextPathImpl : torch::nn::Module {
    ContextPathImpl();
    ContextFeatures forward(const torch::Tensor& x);
    ResNet18 resnet{nullptr};
    AttentionRefinement arm16{nullptr}, arm32{nullptr};
    ConvBNReLU conv_head32{nullptr}, conv_head16{nullptr}, conv_avg{nullptr};
};
TORCH_MODULE(ContextPath);

struct FeatureFusionImpl : torch::nn::Module {
    FeatureFusionImpl(int in, int out);
    torch::Tensor forward(const torch::Tensor& spatial, const torch::Tensor& context);
    ConvBNReLU convblk{nullptr};
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(FeatureFusion);

struct BiSeNetOutputImpl : torch::nn::Module {
    BiSeNetOutputImpl(int in, int mid, int classes);
    torch::Tensor forward(const torch::Tensor& x);
    ConvBNReLU conv{nullptr};
    torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(BiSeNetOutput);

struct BiSeNetResult {
    torch::Tensor out, out16, out32;  // logits at the input size
    torch::Tensor feat8, feat16, feat32, cpFeat16Up, cpFeat32Up, ffmOut, headLow, head16Low, head32Low;
};

struct BiSeNetImpl : torch::nn::Module {
    explicit BiSeNetImpl(int classes = 19);
    BiSeNetResult run(const torch::Tensor& x);  // x: N,3,H,W normalised (ImageNet mean/std)
    torch::Tensor forward(const torch::Tensor& x) { return run(x).out; }
    ContextPath cp{nullptr};
    FeatureFusion ffm{nullptr};
    BiSeNetOutput conv_out{nullptr}, conv_out16{nullptr}, conv_out32{nullptr};
};
TORCH_MODULE(BiSeNet);

// RGB uint8 HWC -> normalised NCHW float.
torch::Tensor bisenetInput(const torch::Tensor& rgbU8);

}  // namespace ideu::nets
