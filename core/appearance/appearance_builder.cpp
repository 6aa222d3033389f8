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

cv::Point2d meanPoint(const Landmarks68& p, int from, int to) {
    cv::Point2d s(0, 0);
    for (int i = from; i <= to; ++i) s += p[std::size_t(i)];
    return s / double(to - from + 1);
}

// Mean |d/dy| of each row of `box` (a smoothed grey crop).
std::vector<double> rowEdges(const cv::Mat& gradientY, cv::Rect box) {
    box &= cv::Rect(0, 0, gradientY.cols, gradientY.rows);
    std::vector<double> rows;
    for (int y = box.y; y < box.y + box.height; ++y) {
        double sum = 0;
        for (int x = box.x; x < box.x + box.width; ++x) sum += std::abs(gradientY.at<float>(y, x));
        rows.push_back(box.width > 0 ? sum / box.width : 0);
    }
    return rows;
}

double maxOf(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
double medianOf(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
}

cv::Rect boxOf(double x0, double y0, double x1, double y1) {
    return cv::Rect(cv::Point(int(std::lround(std::min(x0, x1))), int(std::lround(std::min(y0, y1)))),
                    cv::Point(int(std::lround(std::max(x0, x1))), int(std::lround(std::max(y0, y1)))));
}

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

double glassesScore(const FittedFace& face) {
    const Landmarks68& p = face.landmarks;
    cv::Mat grey, gy;
    cv::cvtColor(face.crop.image, grey, cv::COLOR_BGR2GRAY);
    grey.convertTo(grey, CV_32F);
    cv::GaussianBlur(grey, grey, cv::Size(0, 0), 1.2);
    cv::Sobel(grey, gy, CV_32F, 0, 1, 3);
    const cv::Point2d le = meanPoint(p, 36, 41), re = meanPoint(p, 42, 47);
    const double d = cv::norm(re - le);
    const double eyeY = 0.5 * (le.y + re.y);
    const double browY = 0.5 * (p[21].y + p[22].y);
    // The bridge: between the inner eye corners, from a little below the brows to the eye line.
    const double inner = p[42].x - p[39].x;
    const double top = std::max(eyeY - 0.3 * d, browY + 0.3 * (eyeY - browY));
    const double bridge = maxOf(rowEdges(gy, boxOf(p[39].x + 0.15 * inner, top, p[42].x - 0.15 * inner, eyeY + 0.05 * d)));
    // The rims under the eyes.
    auto rim = [&](int outer, int innerCorner, int lid1, int lid2) {
        const double bottom = std::max(p[std::size_t(lid1)].y, p[std::size_t(lid2)].y);
        return maxOf(rowEdges(gy, boxOf(p[std::size_t(outer)].x, bottom + 0.12 * d, p[std::size_t(innerCorner)].x, bottom + 0.45 * d)));
    };
    const double rims = std::max(rim(36, 39, 40, 41), rim(45, 42, 46, 47));
    // The cheeks' own texture: between the nose wing and the jaw, below the rims.
    const double cheeks = 0.5 * (medianOf(rowEdges(gy, boxOf(p[3].x + 0.3 * (p[31].x - p[3].x), p[30].y, p[31].x, p[33].y))) +
                                 medianOf(rowEdges(gy, boxOf(p[35].x, p[30].y, p[13].x - 0.3 * (p[13].x - p[35].x), p[33].y))));
    return std::sqrt(bridge * rims) / (cheeks + 4.0) / 4.0;
}

double foreheadCover(const FittedFace& face) {
    const Landmarks68& p = face.landmarks;
    cv::Mat lab;
    cv::cvtColor(face.crop.image, lab, cv::COLOR_BGR2Lab);
    const cv::Point2d le = meanPoint(p, 36, 41), re = meanPoint(p, 42, 47);
    const double d = cv::norm(re - le);
    // Cheek colour: patches halfway between the jaw and the nose tip.
    std::vector<float> channel[3];
    for (const cv::Point2d& c : {(p[2] + p[30]) * 0.5, (p[14] + p[30]) * 0.5}) {
        const cv::Rect box = boxOf(c.x - 0.1 * d, c.y - 0.1 * d, c.x + 0.1 * d, c.y + 0.1 * d) & cv::Rect(0, 0, lab.cols, lab.rows);
        for (int y = box.y; y < box.y + box.height; ++y)
            for (int x = box.x; x < box.x + box.width; ++x)
                for (int k = 0; k < 3; ++k) channel[k].push_back(lab.at<cv::Vec3b>(y, x)[k]);
    }
    float skin[3];
    for (int k = 0; k < 3; ++k) {
        if (channel[k].empty()) return 1;
        std::nth_element(channel[k].begin(), channel[k].begin() + std::ptrdiff_t(channel[k].size() / 2), channel[k].end());
        skin[k] = channel[k][channel[k].size() / 2];
    }
    // The band just above the brows.
    const double h = 0.5 * (le.y + re.y) - 0.5 * (p[19].y + p[24].y);
    std::vector<cv::Point> band;
    for (int i = 17; i <= 26; ++i) band.emplace_back(cvRound(p[std::size_t(i)].x), cvRound(p[std::size_t(i)].y - 0.15 * h));
    for (int i = 26; i >= 17; --i) band.emplace_back(cvRound(p[std::size_t(i)].x), cvRound(p[std::size_t(i)].y - 0.6 * h));
    cv::Mat mask = cv::Mat::zeros(lab.size(), CV_8U);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{band}, cv::Scalar(255));
    // Local texture: hair strands, unlike skin, vary within a few pixels.
    cv::Mat lightness, mean, meanSq;
    cv::extractChannel(lab, lightness, 0);
    lightness.convertTo(lightness, CV_32F, 100.0 / 255.0);
    cv::blur(lightness, mean, cv::Size(5, 5));
    cv::blur(lightness.mul(lightness), meanSq, cv::Size(5, 5));
    int total = 0, unlike = 0;
    for (int y = 0; y < lab.rows; ++y)
        for (int x = 0; x < lab.cols; ++x) {
            if (!mask.at<std::uint8_t>(y, x)) continue;
            const cv::Vec3b c = lab.at<cv::Vec3b>(y, x);
            const double dl = (double(c[0]) - skin[0]) * 100.0 / 255.0, da = double(c[1]) - skin[1], db = double(c[2]) - skin[2];
            ++total;
            // Darker than the cheeks (hair, a hat's shadow), of another colour altogether, or
            // textured like strands; a brighter or paler forehead is only its shine.
            const float m = mean.at<float>(y, x);
            const double texture = std::sqrt(std::max(0.f, meanSq.at<float>(y, x) - m * m));
            unlike += dl < -12 || std::hypot(da, db) > 25 || texture > 6;
        }
    return total ? double(unlike) / total : 1;
}

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
