// CPU (or CUDA) time of the paper's networks at their official sizes. Weights do not change the
// cost, so the networks are built with their default initialisation.
#include <torch/torch.h>

#include "bench_common.h"

#include "common/runtime.h"
#include "nets/bisenet.h"
#include "nets/gfpgan.h"
#include "nets/headnerf.h"

#include <cstdio>

namespace ideu::bench {

int benchNets(const std::vector<std::string>& args) {
    const int repeat = args.empty() ? 3 : std::max(1, std::atoi(args[0].c_str()));
    configureThreads(0);
    torch::manual_seed(0);
    const torch::Device device = torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    std::printf("device: %s, %d threads\n", computeDeviceName().c_str(), at::get_num_threads());
    auto time = [&](const char* name, const std::function<void()>& f) {
        f();  // warm-up
        std::vector<double> t;
        for (int r = 0; r < repeat; ++r) {
            Stopwatch watch;
            f();
            if (device.is_cuda()) torch::cuda::synchronize();
            t.push_back(watch.ms());
        }
        std::printf("%-44s median %9.1f ms\n", name, median(t));
        return median(t);
    };
    torch::NoGradGuard noGrad;
    nets::BiSeNet bisenet;
    bisenet->eval();
    bisenet->to(device);
    const torch::Tensor face512 = torch::rand({1, 3, 512, 512}, device);
    const double tb = time("BiSeNet parse, 512x512", [&] { bisenet->forward(face512); });
    nets::Gfpgan gfpgan(nets::GfpganConfig::official());
    gfpgan->eval();
    gfpgan->to(device);
    const double tg = time("GFPGANv1Clean restore, 512x512", [&] { gfpgan->forward(face512 * 2 - 1); });
    nets::HeadNerf headnerf(nets::HeadNerfConfig::reso32HR());
    headnerf->eval();
    headnerf->to(device);
    const auto opts = torch::TensorOptions().device(device);
    const torch::Tensor shape = torch::zeros({1, 179}, opts), appearance = torch::zeros({1, 127}, opts);
    const torch::Tensor R = torch::diag(torch::tensor({1.f, -1.f, -1.f})).unsqueeze(0).to(device);
    const torch::Tensor T = torch::tensor({0.f, 0.f, 12.f}).view({1, 3, 1}).to(device);
    const torch::Tensor invK = torch::tensor({1 / 128.36f, 0.f, -16.11f / 128.36f, 0.f, 1 / 128.36f, -16.47f / 128.36f, 0.f, 0.f, 1.f})
                                   .view({1, 3, 3}).to(device);
    const double th = time("HeadNeRF render, 32x32 features -> 512x512", [&] { headnerf->render(shape, appearance, R, T, invK); });
    double step = 0;
    {
        torch::AutoGradMode grad(true);
        torch::Tensor s = shape.clone().set_requires_grad(true), a = appearance.clone().set_requires_grad(true);
        step = time("HeadNeRF fitting step (render + backward)", [&] {
            headnerf->render(s, a, R, T, invK).mergeImage.mean().backward();
        });
    }
    std::printf("HeadNeRF fit of 300 steps: about %.1f min\n", 300 * step / 60000.0);
    std::printf("bisenet_ms=%.0f gfpgan_ms=%.0f headnerf_render_ms=%.0f headnerf_step_ms=%.0f\n", tb, tg, th, step);
    return 0;
}

}  // namespace ideu::bench
