#include "nets/bisenet.h"

namespace F = torch::nn::functional;

namespace ideu::nets {
namespace {

torch::nn::Conv2d conv(int in, int out, int k, int stride, int padding) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(padding).bias(false));
}

// PyTorch's legacy "nearest" (source index = floor(dst * in / out)).
torch::Tensor nearest(const torch::Tensor& x, at::IntArrayRef size) {
    return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>(size.begin(), size.end())).mode(torch::kNearest));
}

torch::Tensor bilinearCorners(const torch::Tensor& x, at::IntArrayRef size) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>(size.begin(), size.end()))
                                 .mode(torch::kBilinear)
                                 .align_corners(true));
}

}  // namespace

ConvBNReLUImpl::ConvBNReLUImpl(int in, int out, int kernel, int stride, int padding) {
    conv = register_module("conv", nets::conv(in, out, kernel, stride, padding));
    bn = register_module("bn", torch::nn::BatchNorm2d(out));
}
torch::Tensor ConvBNReLUImpl::forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }

BasicBlockImpl::BasicBlockImpl(int in, int out, int stride) {
    conv1 = register_module("conv1", conv(in, out, 3, stride, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2 = register_module("conv2", conv(out, out, 3, 1, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (in != out || stride != 1)
        downsample = register_module("downsample", torch::nn::Sequential(conv(in, out, 1, stride, 0), torch::nn::BatchNorm2d(out)));
}
torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    return torch::relu(y + (downsample ? downsample->forward(x) : x));
}

ResNet18Impl::ResNet18Impl() {
    conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
    layer1 = register_module("layer1", torch::nn::Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1)));
    layer2 = register_module("layer2", torch::nn::Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128, 1)));
    layer3 = register_module("layer3", torch::nn::Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256, 1)));
    layer4 = register_module("layer4", torch::nn::Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512, 1)));
}
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> ResNet18Impl::forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = torch::max_pool2d(y, 3, 2, 1);
    y = layer1->forward(y);
    const torch::Tensor feat8 = layer2->forward(y);
    const torch::Tensor feat16 = layer3->forward(feat8);
    const torch::Tensor feat32 = layer4->forward(feat16);
    return {feat8, feat16, feat32};
}

AttentionRefinementImpl::AttentionRefinementImpl(int in, int out) {
    conv = register_module("conv", ConvBNReLU(in, out, 3, 1, 1));
    conv_atten = register_module("conv_atten", nets::conv(out, out, 1, 1, 0));
    bn_atten = register_module("bn_atten", torch::nn::BatchNorm2d(out));
}
torch::Tensor AttentionRefinementImpl::forward(const torch::Tensor& x) {
    const torch::Tensor f = conv(x);
    torch::Tensor a = f.mean({2, 3}, true);
    a = torch::sigmoid(bn_atten(conv_atten(a)));
    return f * a;
}

ContextPathImpl::ContextPathImpl() {
    resnet = register_module("resnet", ResNet18());
    arm16 = register_module("arm16", AttentionRefinement(256, 128));
    arm32 = register_module("arm32", AttentionRefinement(512, 128));
    conv_head32 = register_module("conv_head32", ConvBNReLU(128, 128, 3, 1, 1));
    conv_head16 = register_module("conv_head16", ConvBNReLU(128, 128, 3, 1, 1));
    conv_avg = register_module("conv_avg", ConvBNReLU(512, 128, 1, 1, 0));
}
ContextFeatures ContextPathImpl::forward(const torch::Tensor& x) {
    ContextFeatures f;
    std::tie(f.feat8, f.feat16, f.feat32) = resnet(x);
    torch::Tensor avg = conv_avg(f.feat32.mean({2, 3}, true));
    avg = nearest(avg, f.feat32.sizes().slice(2));
    const torch::Tensor s32 = arm32(f.feat32) + avg;
    f.up32 = conv_head32(nearest(s32, f.feat16.sizes().slice(2)));
    const torch::Tensor s16 = arm16(f.feat16) + f.up32;
    f.up16 = conv_head16(nearest(s16, f.feat8.sizes().slice(2)));
    return f;
}

FeatureFusionImpl::FeatureFusionImpl(int in, int out) {
    convblk = register_module("convblk", ConvBNReLU(in, out, 1, 1, 0));
    conv1 = register_module("conv1", conv(out, out / 4, 1, 1, 0));
    conv2 = register_module("conv2", conv(out / 4, out, 1, 1, 0));
}
torch::Tensor FeatureFusionImpl::forward(const torch::Tensor& spatial, const torch::Tensor& context) {
    const torch::Tensor f = convblk(torch::cat({spatial, context}, 1));
    torch::Tensor a = f.mean({2, 3}, true);
    a = torch::sigmoid(conv2(torch::relu(conv1(a))));
    return f * a + f;
}

BiSeNetOutputImpl::BiSeNetOutputImpl(int in, int mid, int classes) {
    conv = register_module("conv", ConvBNReLU(in, mid, 3, 1, 1));
    conv_out = register_module("conv_out", nets::conv(mid, classes, 1, 1, 0));
}
torch::Tensor BiSeNetOutputImpl::forward(const torch::Tensor& x) { return conv_out(conv(x)); }

BiSeNetImpl::BiSeNetImpl(int classes) {
    cp = register_module("cp", ContextPath());
    ffm = register_module("ffm", FeatureFusion(256, 256));
    conv_out = register_module("conv_out", BiSeNetOutput(256, 256, classes));
    conv_out16 = register_module("conv_out16", BiSeNetOutput(128, 64, classes));
    conv_out32 = register_module("conv_out32", BiSeNetOutput(128, 64, classes));
}

BiSeNetResult BiSeNetImpl::run(const torch::Tensor& x) {
    BiSeNetResult r;
    const auto size = x.sizes().slice(2);
    const ContextFeatures f = cp(x);
    r.feat8 = f.feat8;
    r.feat16 = f.feat16;
    r.feat32 = f.feat32;
    r.cpFeat16Up = f.up16;
    r.cpFeat32Up = f.up32;
    r.ffmOut = ffm(f.feat8, f.up16);
    r.headLow = conv_out(r.ffmOut);
    r.head16Low = conv_out16(f.up16);
    r.head32Low = conv_out32(f.up32);
    r.out = bilinearCorners(r.headLow, size);
    r.out16 = bilinearCorners(r.head16Low, size);
    r.out32 = bilinearCorners(r.head32Low, size);
    return r;
}

torch::Tensor bisenetInput(const torch::Tensor& rgbU8) {
    const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f});
    const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f});
    torch::Tensor x = rgbU8.to(torch::kFloat32) / 255.0f;
    x = (x - mean) / std;
    return x.permute({2, 0, 1}).unsqueeze(0).contiguous();
}

}  // namespace ideu::nets
