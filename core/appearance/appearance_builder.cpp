#include "appearance/appearance_builder.h"

#include "common/parallel.h"
#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "io/image_io.h"
#include "recognition/faceres.h"

#include <Eigen/Eigenvalues>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace ideu {
namespace {

constexpr float kDetailRange = 0.25f;  // stored relief is clipped to ±25 % of the luminance

double mouthOpening(const Landmarks68& p) {
    const double width = cv::norm(p[54] - p[48]);
    const double gap = (cv::norm(p[66] - p[62]) + cv::norm(p[67] - p[61]) + cv::norm(p[65] - p[63])) / 3.0;
    return width > 0 ? gap / width : 0;
}

struct GalleryFace {
    std::string reason;
    cv::Mat relative;  // model grid roi, CV_32FC3
    cv::Mat weight;    // model grid roi, CV_32F
    cv::Mat relief;    // detail roi, CV_32F
    float reliefSd = 0;
    float age = 0, gender = 0;
    Eigen::VectorXf shape;  // α
};

GalleryFace skipped(std::string reason) {
    GalleryFace out;
    out.reason = std::move(reason);
    return out;
}

GalleryFace processPhoto(const FaceModelContext& context, const std::string& path, const AppearanceBuildOptions& options,
                         const cv::Rect& roi, const cv::Rect& detailRoi) {
    GalleryFace out;
    const Image image = loadImage(path);
    const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
    if (faces.empty()) return skipped("no face found");
    for (std::size_t i = 1; i < faces.size(); ++i)
        if (faces[i].box.width >= 0.4 * faces[0].box.width) return skipped("several faces");
    const FittedFace face = fitFaceGeometry(context, image.bgr, faces[0]);
    const GalleryScreening& s = options.screening;
    char why[96];
    if (face.fit.nmeInner > s.maxNme) {
        std::snprintf(why, sizeof why, "bad fit (landmark error %.3f)", face.fit.nmeInner);
        return skipped(why);
    }
    const Eigen::Vector3d angles = face.fit.pose.anglesDegrees();
    if (std::abs(angles.x()) > s.maxTurnDegrees || std::abs(angles.y()) > s.maxTurnDegrees) {
        std::snprintf(why, sizeof why, "turned (yaw %.0f°, pitch %.0f°)", angles.x(), angles.y());
        return skipped(why);
    }
    if (mouthOpening(face.landmarks) > s.maxMouthOpening) return skipped("mouth open");
    if (glassesScore(face) > s.glassesThreshold) return skipped("glasses");
    if (foreheadCover(face) > s.maxForeheadCover) return skipped("hair or a hat over the brows");

    const PhotoTexture& tex = face.texture;
    const cv::Vec3f tone = skinTone(context, tex.albedo, tex.visibility);  // the rims are outside its region
    // The unseen side is mirror-filled by the texture sampler; its weight is what the photo saw
    // there or on the mirrored texel.
    cv::Mat seen;
    cv::flip(tex.visibility, seen, 1);
    cv::max(seen, tex.visibility, seen);
    seen.setTo(0, context.openingRims());  // eye whites, lashes and teeth, not albedo: filled from the lids and lips
    const RelativeAlbedo relative = relativeAlbedo(context, tex.albedo, seen, tone, isGreyTone(tone), options.uvSize, roi);
    out.relative = relative.structure;
    out.weight = relative.weight;
    out.relief = detailRelief(context, tex.albedo, seen, options.detailUvSize, detailRoi);
    out.reliefSd = reliefSd(out.relief, toGrid(seen, cv::Mat(), context.uvSize(), options.detailUvSize, detailRoi));
    out.shape = face.fit.identity;
    const FaceResOutput attributes = FaceResRecognizer::shared()->describe(image.bgr, faces[0].landmarks);
    // Rounded: the pack's bytes must not depend on the last bits of a thread-count-dependent convolution.
    out.age = float(std::round(attributes.ageYears() * 10) / 10);
    out.gender = float(std::round(attributes.gender * 1000) / 1000);
    return out;
}

}  // namespace

AppearanceBuildResult buildAppearanceModel(const std::string& galleryDir, const AppearanceBuildOptions& options,
                                           const std::function<void(int, int)>& progress, const CancelToken& cancel) {
    const FaceModelContext& context = FaceModelContext::shared();
    if (options.uvSize <= 0 || context.uvSize() % options.uvSize || options.detailUvSize % options.uvSize ||
        context.uvSize() % options.detailUvSize)
        throw Error("the appearance model's UV grids must divide the atlas (" + std::to_string(context.uvSize()) + ") evenly");
    std::vector<std::string> files;
    {
        std::error_code ec;
        if (!fs::is_directory(galleryDir, ec)) throw Error("'" + galleryDir + "' is not a folder of face photos");
        for (const auto& entry : fs::directory_iterator(galleryDir))
            if (entry.is_regular_file() && hasImageExtension(entry.path().string())) files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        if (files.empty()) throw Error("no photos in '" + galleryDir + "'");
    }
    FaceResRecognizer::shared();  // the bank's ages and genders need it: fail once, before the work

    // The model grid: the atlas's face area averaged down, grown by a texel.
    AppearanceModel model;
    AlbedoPca& pca = model.pca;
    pca.uvSize = options.uvSize;
    model.detailUvSize = options.detailUvSize;
    {
        cv::Mat small;
        cv::resize(context.faceMask(), small, cv::Size(options.uvSize, options.uvSize), 0, 0, cv::INTER_AREA);
        cv::Mat mask = small > 0, mirrored;
        cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
        // Mirror-symmetric (the UV layout maps u to 1 - u), so every texel has its mirror texel.
        cv::flip(mask, mirrored, 1);
        mask |= mirrored;
        const cv::Rect box = cv::boundingRect(mask);
        pca.roi = cv::Rect(box.x - 1, box.y - 1, box.width + 2, box.height + 2) & cv::Rect(0, 0, options.uvSize, options.uvSize);
        pca.mask = mask(pca.roi).clone();
        if (pca.roi.x + pca.roi.br().x != options.uvSize) throw Error("the model grid's face area is not mirror-symmetric");
        for (int i = 0; i < pca.roi.area(); ++i)
            if (pca.mask.data[i]) pca.texels.push_back(i);
        const int f = options.detailUvSize / options.uvSize;
        model.detailRoi = cv::Rect(pca.roi.x * f, pca.roi.y * f, pca.roi.width * f, pca.roi.height * f);
    }

    std::vector<GalleryFace> faces(files.size());
    forEachOnWorkers(
        files.size(), options.jobs,
        [&](std::size_t k) {
            try {
                faces[k] = processPhoto(context, files[k], options, pca.roi, model.detailRoi);
            } catch (const ImageError& e) {
                faces[k].reason = std::string("unreadable: ") + e.what();
            }
        },
        [&](std::size_t k) { return files[k]; }, progress, cancel);

    AppearanceBuildResult result;
    std::vector<std::size_t> accepted;
    for (std::size_t k = 0; k < files.size(); ++k) {
        result.verdicts.push_back({fs::path(files[k]).filename().string(), faces[k].reason});
        if (faces[k].reason.empty()) accepted.push_back(k);
    }
    const Eigen::Index n = Eigen::Index(accepted.size());
    if (n < 10) throw Error("only " + std::to_string(n) + " of " + std::to_string(files.size()) +
                            " gallery photos are usable; an appearance model needs at least 10");

    // PCA by the Gram matrix (2N x 2N), as the samples are far fewer than the values. Each
    // face also enters mirrored (row N + i): faces are nearly symmetric, and what the gallery
    // holds of asymmetry is mostly light the SH model did not explain. With both, every mode
    // is either mirror-symmetric or antisymmetric, so the identity noise can keep to the
    // symmetric ones (AlbedoPca::antisymmetricModes).
    const Eigen::Index d = 3 * Eigen::Index(pca.texels.size());
    Eigen::MatrixXf data(2 * n, d);
    for (Eigen::Index i = 0; i < n; ++i) {
        const cv::Mat& rel = faces[accepted[std::size_t(i)]].relative;
        cv::Mat mirrored;
        cv::flip(rel, mirrored, 1);
        const auto* px = rel.ptr<cv::Vec3f>();
        const auto* mx = mirrored.ptr<cv::Vec3f>();
        for (std::size_t t = 0; t < pca.texels.size(); ++t)
            for (int c = 0; c < 3; ++c) {
                data(i, Eigen::Index(3 * t) + c) = px[pca.texels[t]][c];
                data(n + i, Eigen::Index(3 * t) + c) = mx[pca.texels[t]][c];
            }
    }
    pca.mean = data.colwise().mean().transpose();
    data.rowwise() -= pca.mean.transpose();
    const Eigen::MatrixXd gram = (data * data.transpose()).cast<double>();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram);
    const Eigen::VectorXd eigen = solver.eigenvalues().reverse().cwiseMax(0.0);
    const double total = eigen.sum();
    int k = options.components;
    if (k <= 0) {
        double cumulative = 0;
        k = 0;
        while (k < eigen.size() && cumulative < 0.98 * total) cumulative += eigen(k++);
        k = std::min(k, kMaxAppearanceComponents);
    }
    const Eigen::Index samples = 2 * n;
    k = std::clamp(k, 1, int(samples) - 1);
    pca.basis.resize(d, k);
    pca.stddev.resize(k);
    Eigen::MatrixXf coefficients(n, k);
    for (int j = 0; j < k; ++j) {
        Eigen::VectorXd u = solver.eigenvectors().col(samples - 1 - j);
        // A fixed sign, so the same gallery gives the same bytes: the first face's coefficient
        // that is not zero is positive (an antisymmetric mode's coefficients sum to zero).
        for (Eigen::Index i = 0; i < samples; ++i)
            if (std::abs(u(i)) > 1e-6 * u.cwiseAbs().maxCoeff()) {
                if (u(i) < 0) u = -u;
                break;
            }
        const double mu = std::max(eigen(j), 1e-12);
        pca.basis.col(j) = (data.transpose() * u.cast<float>()) / float(std::sqrt(mu));
        pca.stddev(j) = float(std::sqrt(mu / double(samples - 1)));
        coefficients.col(j) = (u.head(n) * std::sqrt(double(samples - 1))).cast<float>();
    }
    double explained = 0;
    for (int j = 0; j < k; ++j) explained += eigen(j);
    model.varianceExplained = total > 0 ? explained / total : 1;
    pca.residualVariance = float((total - explained) / double(samples - 1) / double(d));
    pca.prepareFit();

    // The detail bank, quantised to int8.
    model.detailQuantum = kDetailRange / 127.f;
    for (Eigen::Index i = 0; i < n; ++i) {
        const GalleryFace& g = faces[accepted[std::size_t(i)]];
        BankFace b;
        b.file = fs::path(files[accepted[std::size_t(i)]]).filename().string();
        b.coefficients = coefficients.row(i).transpose();
        b.shape = g.shape;
        b.age = g.age;
        b.gender = g.gender;
        b.detailSd = g.reliefSd;
        model.bank.push_back(b);
        cv::Mat q;
        g.relief.convertTo(q, CV_8S, 1.0 / model.detailQuantum);  // saturating, rounded
        model.detail.push_back(q);
    }

    nlohmann::json skipped = nlohmann::json::array();
    for (const GalleryVerdict& v : result.verdicts)
        if (!v.reason.empty()) skipped.push_back({{"file", v.file}, {"reason", v.reason}});
    // The gallery by name and, where it has one beside it (the mirror's layout), the hash of
    // its SHA256SUMS; never an absolute path (the same gallery anywhere gives the same pack).
    fs::path galleryPath = fs::path(galleryDir).lexically_normal();
    if (galleryPath.filename().empty()) galleryPath = galleryPath.parent_path();
    std::string sums;
    try {
        sums = sha256File((galleryPath.parent_path() / "SHA256SUMS").string());
    } catch (const Error&) {
    }
    result.info = {{"builder", kAppearanceBuilderRevision},
                   {"gallery", galleryPath.filename().string()},
                   {"gallery_sha256sums", sums},
                   {"photos", files.size()},
                   {"accepted", n},
                   {"skipped", skipped},
                   {"screening",
                    {{"max_nme", options.screening.maxNme},
                     {"max_turn_degrees", options.screening.maxTurnDegrees},
                     {"max_mouth_opening", options.screening.maxMouthOpening},
                     {"glasses_threshold", options.screening.glassesThreshold},
                     {"max_forehead_cover", options.screening.maxForeheadCover}}},
                   {"licence", "derived from StyleGAN2 (FFHQ) faces of nobody: NVIDIA's non-commercial licence applies"}};
    model.prepareAttributes();
    result.model = std::move(model);
    return result;
}

}  // namespace ideu
