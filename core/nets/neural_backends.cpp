// Torch first (Qt's macros would break it; there is no Qt here).
#include <torch/torch.h>

#include "nets/neural_backends.h"

#include "common/error.h"
#include "deid/fitted_face.h"
#include "identity/seeded_noise.h"
#include "models/model_store.h"
#include "nets/bisenet.h"
#include "nets/flat_weights.h"
#include "nets/gfpgan.h"
#include "nets/headnerf.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <mutex>

namespace ideu {
namespace {

torch::Device device() { return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

nlohmann::json readConfig(const std::string& path) {
    if (path.empty()) return nlohmann::json::object();
    std::ifstream in(path);
    if (!in) return nlohmann::json::object();
    try {
        const nlohmann::json j = nlohmann::json::parse(in);
        return j.contains("config") ? j.at("config") : j;
    } catch (const nlohmann::json::exception&) {
        throw ModelError("'" + path + "' is not valid JSON");
    }
}

BackendAvailability availability(const char* name) {
    BackendAvailability a;
    const ModelStore& store = ModelStore::instance();
    const ModelEntry& e = store.entry(name);
    a.licence = e.licence;
    try {
        store.require(name);
        a.available = true;
    } catch (const ModelError& error) {
        a.reason = error.what();
    }
    return a;
}

// BGR uint8 crop -> RGB uint8 HWC tensor.
torch::Tensor rgbTensor(const cv::Mat& bgr) {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

// BiSeNet classes -> our labels. Glasses, ears, earrings, neck, clothes, hair, hat and the
// background are all "other": kept from X.
FaceLabel mapBiSeNetClass(int c) {
    switch (c) {
        case 1: return kLabelSkin;
        case 2: case 3: return kLabelBrows;
        case 4: case 5: return kLabelEyes;
        case 10: return kLabelNose;
        case 11: return kLabelMouth;
        case 12: case 13: return kLabelLips;
        default: return kLabelOther;
    }
}

class BiSeNetParser : public FaceParser {
public:
    explicit BiSeNetParser(const std::string& path) {
        loadStrict(*net_, nets::loadTensorDict(path), "BiSeNet");
        net_->eval();
        net_->to(device());
    }
    std::string name() const override { return "bisenet"; }
    cv::Mat parse(const ParsingInput& in) const override {
        cv::Mat image8;
        if (in.image.type() == CV_8UC3) image8 = in.image;
        else in.image.convertTo(image8, CV_8UC3);
        torch::NoGradGuard noGrad;
        torch::Tensor labels;
        {
            std::lock_guard<std::mutex> lock(mutex_);  // one forward at a time per network
            labels = net_->forward(nets::bisenetInput(rgbTensor(image8)).to(device()))[0].argmax(0).to(torch::kCPU).to(torch::kUInt8);
        }
        cv::Mat out(image8.rows, image8.cols, CV_8U);
        const std::uint8_t* src = labels.data_ptr<std::uint8_t>();
        for (int i = 0; i < image8.rows * image8.cols; ++i) out.data[i] = mapBiSeNetClass(src[i]);
        return out;
    }

private:
    mutable nets::BiSeNet net_;
    mutable std::mutex mutex_;
};

class GfpganRestorer : public Restorer {
public:
    GfpganRestorer(const std::string& path, const nlohmann::json& config) {
        nets::GfpganConfig c = nets::GfpganConfig::official();
        c.outSize = config.value("out_size", c.outSize);
        c.numStyleFeat = config.value("num_style_feat", c.numStyleFeat);
        c.channelMultiplier = config.value("channel_multiplier", c.channelMultiplier);
        c.narrow = config.value("narrow", c.narrow);
        net_ = nets::Gfpgan(c);
        loadStrict(*net_, nets::loadTensorDict(path), "GFPGAN");
        net_->eval();
        net_->to(device());
    }
    std::string name() const override { return "gfpgan"; }
    cv::Mat restore(const RestoreInput& in) const override {
        const Hybrid& hybrid = *in.hybrid;
        const int size = net_->config.outSize;
        cv::Mat x;
        cv::resize(hybrid.hybrid, x, cv::Size(size, size), 0, 0, size < hybrid.hybrid.cols ? cv::INTER_AREA : cv::INTER_CUBIC);
        torch::NoGradGuard noGrad;
        torch::Tensor input = rgbTensor(x).to(torch::kFloat32).div(255.0).sub(0.5).div(0.5).permute({2, 0, 1}).unsqueeze(0).contiguous();
        torch::Tensor out;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            out = net_->forward(input.to(device())).to(torch::kCPU);
        }
        const torch::Tensor u8 = nets::gfpganToUint8(out);
        cv::Mat rgb(size, size, CV_8UC3, u8.data_ptr<std::uint8_t>()), restored;
        cv::cvtColor(rgb, restored, cv::COLOR_RGB2BGR);
        cv::resize(restored, restored, hybrid.hybrid.size(), 0, 0, cv::INTER_CUBIC);
        // The restored face goes in where the head mask is (feathered); the rest of the crop
        // stays the warped photo, so pixels away from the face keep their bytes.
        cv::Mat mask;
        hybrid.faceMask.convertTo(mask, CV_32F, 1.0 / 255.0);
        cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(9, 9)));
        cv::GaussianBlur(mask, mask, cv::Size(0, 0), 4.0);
        cv::Mat out8 = hybrid.warped.clone();
        for (int y = 0; y < out8.rows; ++y)
            for (int xx = 0; xx < out8.cols; ++xx) {
                const float w = mask.at<float>(y, xx);
                if (w <= 1e-3f) continue;
                const cv::Vec3b a = out8.at<cv::Vec3b>(y, xx), b = restored.at<cv::Vec3b>(y, xx);
                for (int c = 0; c < 3; ++c) out8.at<cv::Vec3b>(y, xx)[c] = cv::saturate_cast<uchar>(a[c] + w * (float(b[c]) - a[c]));
            }
        return out8;
    }

private:
    mutable nets::Gfpgan net_{nullptr};
    mutable std::mutex mutex_;
};

}  // namespace

BackendAvailability bisenetAvailability() { return availability("bisenet"); }
BackendAvailability gfpganAvailability() { return availability("gfpgan"); }
BackendAvailability headnerfAvailability() { return availability("headnerf"); }

std::shared_ptr<const FaceParser> makeBiSeNetParser(const std::string& path) { return std::make_shared<BiSeNetParser>(path); }
std::shared_ptr<const Restorer> makeGfpganRestorer(const std::string& path, const std::string& configJson) {
    return std::make_shared<GfpganRestorer>(path, readConfig(configJson));
}
std::shared_ptr<const FaceParser> makeBiSeNetParser() { return makeBiSeNetParser(ModelStore::instance().require("bisenet")); }
std::shared_ptr<const Restorer> makeGfpganRestorer() {
    const std::string path = ModelStore::instance().require("gfpgan");
    return makeGfpganRestorer(path, path + ".json");
}

// ------------------------------------------------------------------------------ HeadNeRF
struct HeadNerfHead::Impl {
    mutable nets::HeadNerf net{nullptr};
    mutable std::mutex mutex;
};

HeadNerfHead::HeadNerfHead(const std::string& path, const std::string& configJson) : impl_(std::make_unique<Impl>()) {
    const nlohmann::json config = readConfig(configJson);
    nets::HeadNerfConfig c = nets::HeadNerfConfig::reso32HR();
    c.featmapSize = config.value("featmap_size", c.featmapSize);
    c.featmapChannels = config.value("featmap_nc", c.featmapChannels);
    c.predImageSize = config.value("pred_img_size", c.predImageSize);
    impl_->net = nets::HeadNerf(c);
    loadStrict(*impl_->net, nets::loadTensorDict(path), "HeadNeRF");
    impl_->net->eval();
}

HeadNerfHead::~HeadNerfHead() = default;

std::shared_ptr<HeadNerfHead> HeadNerfHead::fromModelStore() {
    const std::string path = ModelStore::instance().require("headnerf");
    return std::make_shared<HeadNerfHead>(path, path + ".json");
}

int HeadNerfHead::imageSize() const { return impl_->net->config.predImageSize; }

HeadNerfCodes HeadNerfHead::initialCodes(const FittedFace& face) const {
    const nets::HeadNerfConfig& c = impl_->net->config;
    HeadNerfCodes codes;
    // Identity, expression, albedo and illumination start at HeadNeRF's mean: its 3DMM bases
    // are not the ICT ones and its SH light is normalised differently, so the ICT codes
    // cannot be copied over; the fit finds them. The camera comes from the fitted head pose.
    codes.shape.assign(std::size_t(c.shapeCode()), 0.f);
    codes.appearance.assign(std::size_t(c.appearanceCode()), 0.f);
    // Camera: HeadNeRF's head looks down its world -z with the camera at (0, 0, 12) for a
    // frontal view (R = diag(1, -1, -1) camera-to-world). Our head rotation, applied to that
    // camera, orbits it around the head.
    const Eigen::Matrix3d head = Pose::frontal().transpose() * face.fit.pose.rotation;  // head rotation in model axes
    const Eigen::Matrix3d base = Eigen::Vector3d(1, -1, -1).asDiagonal();
    const Eigen::Matrix3d R = head.transpose() * base;
    const Eigen::Vector3d T = head.transpose() * Eigen::Vector3d(0, 0, 12);
    for (int r = 0; r < 3; ++r)
        for (int k = 0; k < 3; ++k) codes.rotation.push_back(float(R(r, k)));
    for (int r = 0; r < 3; ++r) codes.translation.push_back(float(T(r)));
    return codes;
}

namespace {

torch::Tensor invIntrinsics(const nets::HeadNerfConfig& c) {
    // HeadNeRF's 32x32 intrinsics (ConfigFiles/cam_inmat_info_32x32.json) scaled to the map.
    const double f = 128.36 * c.featmapSize / 32.0, cx = 16.11 * c.featmapSize / 32.0, cy = 16.47 * c.featmapSize / 32.0;
    return torch::tensor({1.0 / f, 0.0, -cx / f, 0.0, 1.0 / f, -cy / f, 0.0, 0.0, 1.0}, torch::kFloat32).view({1, 3, 3});
}

}  // namespace

void HeadNerfHead::render(const HeadNerfCodes& codes, int cropSize, cv::Mat& image, cv::Mat& mask) const {
    const nets::HeadNerfConfig& c = impl_->net->config;
    torch::NoGradGuard noGrad;
    nets::HeadNerfOutput out;
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        out = impl_->net->render(torch::tensor(codes.shape).view({1, -1}), torch::tensor(codes.appearance).view({1, -1}),
                                 torch::tensor(codes.rotation).view({1, 3, 3}), torch::tensor(codes.translation).view({1, 3, 1}),
                                 invIntrinsics(c));
    }
    const torch::Tensor rgb = (out.mergeImage[0].permute({1, 2, 0}).clamp(0, 1) * 255).contiguous();
    cv::Mat rgbMat(c.predImageSize, c.predImageSize, CV_32FC3, rgb.data_ptr<float>());
    cv::Mat bgr;
    cv::cvtColor(rgbMat, bgr, cv::COLOR_RGB2BGR);
    cv::resize(bgr, image, cv::Size(cropSize, cropSize), 0, 0, cv::INTER_LINEAR);
    const torch::Tensor opacity = (1 - out.bgAlpha[0][0]).contiguous();
    cv::Mat opacityMat(c.featmapSize, c.featmapSize, CV_32F, opacity.data_ptr<float>()), up;
    cv::resize(opacityMat, up, cv::Size(cropSize, cropSize), 0, 0, cv::INTER_LINEAR);
    mask = up > 0.5;
}

HeadNerfCodes HeadNerfHead::perturb(const HeadNerfCodes& codes, double scale, std::uint64_t seed, double gain) const {
    const nets::HeadNerfConfig& c = impl_->net->config;
    HeadNerfCodes out = codes;
    const std::vector<double> identity = normalSamples(seed, 11, c.idenCode);
    const std::vector<double> albedo = normalSamples(seed, 12, c.textCode);
    for (int i = 0; i < c.idenCode; ++i) out.shape[std::size_t(i)] += float(std::clamp(identity[std::size_t(i)], -3.0, 3.0) * gain * scale);
    for (int i = 0; i < c.textCode; ++i) out.appearance[std::size_t(i)] += float(std::clamp(albedo[std::size_t(i)], -3.0, 3.0) * gain * scale);
    return out;
}

HeadNerfCodes HeadNerfHead::fit(const FittedFace& face, int steps, const std::function<bool(int, double)>& progress) const {
    const nets::HeadNerfConfig& c = impl_->net->config;
    HeadNerfCodes codes = initialCodes(face);
    // Target: the aligned crop at the network's output size, in 0..1 RGB.
    cv::Mat target;
    cv::resize(face.crop.image, target, cv::Size(c.predImageSize, c.predImageSize), 0, 0, cv::INTER_AREA);
    cv::cvtColor(target, target, cv::COLOR_BGR2RGB);
    target.convertTo(target, CV_32FC3, 1.0 / 255.0);
    const torch::Tensor goal = torch::from_blob(target.data, {c.predImageSize, c.predImageSize, 3}, torch::kFloat32)
                                   .clone().permute({2, 0, 1}).unsqueeze(0);
    torch::Tensor shape = torch::tensor(codes.shape).view({1, -1}).set_requires_grad(true);
    torch::Tensor appearance = torch::tensor(codes.appearance).view({1, -1}).set_requires_grad(true);
    torch::Tensor rotationDelta = torch::zeros({1, 3}, torch::kFloat32).set_requires_grad(true);
    torch::Tensor translationDelta = torch::zeros({1, 3, 1}, torch::kFloat32).set_requires_grad(true);
    const torch::Tensor R0 = torch::tensor(codes.rotation).view({1, 3, 3});
    const torch::Tensor T0 = torch::tensor(codes.translation).view({1, 3, 1});
    torch::optim::Adam optimizer({shape, appearance, rotationDelta, translationDelta}, torch::optim::AdamOptions(0.01));
    double best = 1e300;
    HeadNerfCodes bestCodes = codes;
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (int step = 0; step < steps; ++step) {
        optimizer.zero_grad();
        // Small-angle rotation update: R = (I + [w]x) R0, T = (I + [w]x) T0 + dT.
        const torch::Tensor w = rotationDelta[0];
        const torch::Tensor zero = torch::zeros({}, torch::kFloat32);
        const torch::Tensor skew = torch::stack({zero, -w[2], w[1], w[2], zero, -w[0], -w[1], w[0], zero}).view({1, 3, 3});
        const torch::Tensor delta = torch::eye(3).unsqueeze(0) + skew;
        const torch::Tensor R = torch::bmm(delta, R0), T = torch::bmm(delta, T0) + translationDelta;
        const nets::HeadNerfOutput out = impl_->net->render(shape, appearance, R, T, invIntrinsics(c));
        const torch::Tensor loss = (out.mergeImage - goal).pow(2).mean() + 1e-3 * (shape.pow(2).mean() + appearance.pow(2).mean());
        loss.backward();
        optimizer.step();
        const double value = loss.item<double>();
        if (value < best) {
            best = value;
            torch::NoGradGuard noGrad;
            bestCodes.shape.assign(shape.data_ptr<float>(), shape.data_ptr<float>() + shape.numel());
            bestCodes.appearance.assign(appearance.data_ptr<float>(), appearance.data_ptr<float>() + appearance.numel());
            const torch::Tensor Rc = R.detach().contiguous(), Tc = T.detach().contiguous();
            bestCodes.rotation.assign(Rc.data_ptr<float>(), Rc.data_ptr<float>() + 9);
            bestCodes.translation.assign(Tc.data_ptr<float>(), Tc.data_ptr<float>() + 3);
            bestCodes.loss = value;
        }
        bestCodes.steps = step + 1;
        if (progress && !progress(step + 1, value)) break;
    }
    return bestCodes;
}

}  // namespace ideu
