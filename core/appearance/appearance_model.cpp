#include "appearance/appearance_model.h"
#include "appearance/model_albedo.h"

#include <cblas.h>

#include "common/array_pack.h"
#include "common/error.h"
#include "common/files.h"
#include "common/parallel.h"
#include "common/sha256.h"
#include "models/model_store.h"

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace fs = std::filesystem;

namespace ideu {
namespace {

cv::Rect rectFrom(const nlohmann::json& j) { return {j.at(0).get<int>(), j.at(1).get<int>(), j.at(2).get<int>(), j.at(3).get<int>()}; }
nlohmann::json toJson(const cv::Rect& r) { return {r.x, r.y, r.width, r.height}; }

}  // namespace

Eigen::VectorXf AlbedoPca::reconstruct(const Eigen::VectorXf& coefficients) const {
    Eigen::VectorXf out = mean;
    if (coefficients.size()) addProduct(out, basis, stddev.cwiseProduct(coefficients));
    return out;
}

Eigen::VectorXf AlbedoPca::perturbedValues(const Eigen::VectorXf& projection, const Eigen::VectorXf& noise,
                                           float scale) const {
    if (noise.size() == 0 || scale == 0.f) return projection;
    Eigen::VectorXf direction;
    {
        std::lock_guard<std::mutex> lock(noiseDirections->mutex);
        for (const auto& e : noiseDirections->entries)
            if (e.basis == basis.data() && e.noise.size() == noise.size() && e.noise == noise) direction = e.values;
    }
    if (direction.size() == 0) {
        direction = Eigen::VectorXf::Zero(mean.size());
        addProduct(direction, basis, stddev.cwiseProduct(noise));
        std::lock_guard<std::mutex> lock(noiseDirections->mutex);
        constexpr std::size_t kKept = 4;  // a few seeds: the editor's faces share one seed
        noiseDirections->entries.push_front({basis.data(), noise, direction});
        if (noiseDirections->entries.size() > kKept) noiseDirections->entries.pop_back();
    }
    return projection + scale * direction;
}

void AlbedoPca::prepareFit() {
    // By the distance to the model's outline: wide over the forehead and the temples (the
    // gallery's hair reaches there), narrow below the eyes.
    cv::Mat inside = mask > 0, distance;
    cv::copyMakeBorder(inside, inside, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
    cv::distanceTransform(inside, distance, cv::DIST_L2, 3);
    distance = distance(cv::Rect(1, 1, roi.width, roi.height)).clone();
    topFade = cv::Mat::zeros(roi.size(), CV_32F);
    int eyeRow = roi.height / 2;  // the mask's widest row is about at the eyes
    for (int y = 0, widest = 0; y < roi.height; ++y)
        if (const int w = cv::countNonZero(mask.row(y)); w > widest) widest = w, eyeRow = y;
    for (int y = 0; y < roi.height; ++y)
        for (int x = 0; x < roi.width; ++x) {
            const float width = y < eyeRow ? 14.f : 5.f;  // model-grid texels
            const float t = std::min(1.f, std::max(0.f, distance.at<float>(y, x) - 1.f) / width);
            topFade.at<float>(y, x) = t * t * (3 - 2 * t);
        }
    cv::GaussianBlur(topFade, topFade, cv::Size(0, 0), 2.0);
    {
        std::vector<int> texelAt(std::size_t(roi.area()), -1);
        for (int t = 0; t < texelCount(); ++t) texelAt[std::size_t(texels[std::size_t(t)])] = t;
        mirrorTexel.assign(texels.size(), -1);
        for (int t = 0; t < texelCount(); ++t) {
            const int x = texels[std::size_t(t)] % roi.width, y = texels[std::size_t(t)] / roi.width;
            const int mx = uvSize - 1 - (roi.x + x) - roi.x;  // u -> 1 - u on the grid
            if (mx >= 0 && mx < roi.width) mirrorTexel[std::size_t(t)] = texelAt[std::size_t(y * roi.width + mx)];
        }
        antisymmetricModes.clear();
        for (int k = 0; k < components(); ++k)
            if (antisymmetricShare(basis.col(k)) > 0.5) antisymmetricModes.push_back(k);
    }
    // Nearest modelled texel of every roi pixel (a distance transform's labels).
    {
        cv::Mat outside = mask == 0, dist, labels;
        cv::distanceTransform(outside, dist, labels, cv::DIST_L2, 5, cv::DIST_LABEL_PIXEL);
        // Labels number the zero pixels (the texels) from 1 in scan order.
        nearestTexel.assign(std::size_t(roi.area()), 0);
        std::vector<int> texelAt(std::size_t(roi.area()), -1);
        for (int t = 0; t < texelCount(); ++t) texelAt[std::size_t(texels[std::size_t(t)])] = t;
        std::vector<int> labelTexel;
        for (int p = 0; p < roi.area(); ++p)
            if (texelAt[std::size_t(p)] >= 0) labelTexel.push_back(texelAt[std::size_t(p)]);
        for (int p = 0; p < roi.area(); ++p) {
            const int label = labels.ptr<int>()[p];
            nearestTexel[std::size_t(p)] = label >= 1 && label <= int(labelTexel.size()) ? labelTexel[std::size_t(label - 1)] : 0;
        }
        for (int t = 0; t < texelCount(); ++t)
            if (nearestTexel[std::size_t(texels[std::size_t(t)])] != t) throw Error("appearance model: texel labels out of order");
    }
    fitTexels.clear();
    for (int t = 0; t < texelCount(); ++t) {
        const int pixel = texels[std::size_t(t)];
        if ((pixel % roi.width) % 2 == 0 && (pixel / roi.width) % 2 == 0) fitTexels.push_back(t);
    }
    const Eigen::Index n = Eigen::Index(3 * fitTexels.size());
    fitBasis.resize(n, components());
    for (int k = 0; k < components(); ++k) {
        const float* column = basis.col(k).data();
        float* out = fitBasis.col(k).data();
        for (std::size_t i = 0; i < fitTexels.size(); ++i)
            for (int c = 0; c < 3; ++c) out[3 * i + std::size_t(c)] = column[3 * fitTexels[i] + c] * stddev(k);
    }
}

double AlbedoPca::antisymmetricShare(const Eigen::VectorXf& values) const {
    double anti = 0, all = 0;
    for (std::size_t t = 0; t < mirrorTexel.size(); ++t) {
        const int m = mirrorTexel[t];
        if (m < 0) continue;
        for (int c = 0; c < 3; ++c) {
            const double a = values(Eigen::Index(3 * t) + c), b = values(Eigen::Index(3 * m) + c);
            anti += 0.25 * (a - b) * (a - b);
            all += a * a;
        }
    }
    return all > 0 ? anti / all : 0.0;
}

cv::Mat AlbedoPca::toImage(const Eigen::VectorXf& values, bool filled) const {
    cv::Mat image = cv::Mat::zeros(roi.size(), CV_32FC3);
    auto* px = image.ptr<cv::Vec3f>();
    const float* v = values.data();
    if (filled && nearestTexel.size() == std::size_t(roi.area())) {
        for (std::size_t p = 0; p < nearestTexel.size(); ++p) {
            const float* t = v + 3 * std::size_t(nearestTexel[p]);
            px[p] = cv::Vec3f(t[0], t[1], t[2]);
        }
        return image;
    }
    for (std::size_t t = 0; t < texels.size(); ++t) px[texels[t]] = cv::Vec3f(v[3 * t], v[3 * t + 1], v[3 * t + 2]);
    return image;
}

namespace {

// FaceRes's gender score (> 0.5: male) as a logit, bounded (the score saturates).
float genderLogit(float gender) {
    const float g = std::clamp(gender, 0.02f, 0.98f);
    return std::log(g / (1 - g));
}

// The regression of the bank's age and gender logit on its codes: ridge (cross-validated on
// the bank, the albedo code explains R² 0.51 of the age and 0.84 of the gender, the shape code
// 0.51 and 0.79), its directions orthonormalised by Gram-Schmidt.
AttributeRegression attributeRegression(const std::vector<BankFace>& bank, bool shape, const std::vector<int>& unused = {}) {
    AttributeRegression r;
    const Eigen::Index n = Eigen::Index(bank.size());
    const Eigen::Index k = n ? (shape ? bank[0].shape.size() : bank[0].coefficients.size()) : 0;
    if (n < 3 || k == 0) return r;
    Eigen::MatrixXd x(n, k);
    Eigen::MatrixXd y(n, 2);
    for (Eigen::Index i = 0; i < n; ++i) {
        const BankFace& b = bank[std::size_t(i)];
        x.row(i) = (shape ? b.shape : b.coefficients).cast<double>().transpose();
        y(i, 0) = b.age;
        y(i, 1) = genderLogit(b.gender);
    }
    const Eigen::RowVectorXd xMean = x.colwise().mean(), yMean = y.colwise().mean();
    x.rowwise() -= xMean;
    y.rowwise() -= yMean;
    for (int j : unused) x.col(j).setZero();  // the directions lie off these coordinates
    Eigen::MatrixXd normal = x.transpose() * x;
    normal.diagonal().array() += 0.1 * double(n);
    const Eigen::MatrixXd w = normal.ldlt().solve(x.transpose() * y);
    const Eigen::MatrixXd predicted = x * w;
    r.weights = w.cast<float>();
    r.codeMean = xMean.transpose().cast<float>();
    r.readingMean = yMean.transpose().cast<float>();
    for (int c = 0; c < 2; ++c) {
        r.slope(c) = float(predicted.col(c).dot(y.col(c)) / std::max(1e-12, y.col(c).squaredNorm()));
        std::vector<double> readings(y.col(c).data(), y.col(c).data() + n);
        const std::size_t lowRank = std::size_t(std::lround(kAttributeRangeQuantile * double(n - 1)));
        std::nth_element(readings.begin(), readings.begin() + std::ptrdiff_t(lowRank), readings.end());
        r.low(c) = float(readings[lowRank] + yMean(c));
        std::nth_element(readings.begin(), readings.begin() + std::ptrdiff_t(n - 1 - Eigen::Index(lowRank)), readings.end());
        r.high(c) = float(readings[std::size_t(n - 1) - lowRank] + yMean(c));
    }
    r.directions.resize(k, 0);
    for (int c = 0; c < 2; ++c) {
        Eigen::VectorXd v = w.col(c);
        for (Eigen::Index j = 0; j < r.directions.cols(); ++j)
            v -= r.directions.col(j).cast<double>().dot(v) * r.directions.col(j).cast<double>();
        if (v.norm() < 1e-9) continue;
        r.directions.conservativeResize(k, r.directions.cols() + 1);
        r.directions.col(r.directions.cols() - 1) = (v / v.norm()).cast<float>();
    }
    return r;
}

}  // namespace

Eigen::Vector2f AttributeRegression::reads(const Eigen::VectorXf& code) const {
    return readingMean + weights.transpose() * (code - codeMean);
}

Eigen::VectorXf AttributeRegression::shiftTo(const Eigen::VectorXf& code, float age, float gender) const {
    if (directions.cols() == 0 || code.size() != weights.rows()) return Eigen::VectorXf::Zero(code.size());
    // The sex as the bank's confident readings of it: FaceRes is unsure of several women in
    // photos (a score of 0.10–0.25), and a code made to read as unsure reads as a man once the
    // noise has moved the rest of the face.
    const Eigen::Vector2f reading(std::clamp(age, low(0), high(0)), gender > 0.5f ? high(1) : low(1));
    const Eigen::Vector2f target = readingMean + slope.cwiseProduct(reading - readingMean);
    const Eigen::Vector2f now = reads(code);
    const Eigen::MatrixXf along = weights.transpose() * directions;  // 2 × directions
    return directions * along.completeOrthogonalDecomposition().solve(target - now);
}

void AppearanceModel::prepareAttributes() {
    // A mirrored face has the same age and gender: the albedo's attribute directions lie in
    // its symmetric modes.
    albedoAttributes = attributeRegression(bank, false, pca.antisymmetricModes);
    shapeAttributes = attributeRegression(bank, true);
    shapeMean.resize(0);
    if (!bank.empty() && bank[0].shape.size() > 0) {
        shapeMean = Eigen::VectorXf::Zero(bank[0].shape.size());
        for (const BankFace& b : bank) shapeMean += b.shape;
        shapeMean /= float(bank.size());
    }
    const Eigen::Index k = pca.components();
    albedoKept = albedoAttributes.directions.rows() == k ? albedoAttributes.directions : Eigen::MatrixXf(k, 0);
    prepareKept();
}

void AppearanceModel::prepareKept() {
    const Eigen::Index k = pca.components(), a = albedoKept.cols();
    const std::vector<int>& anti = pca.antisymmetricModes;
    albedoNoiseOff = Eigen::MatrixXf::Zero(k, a + Eigen::Index(anti.size()));
    albedoNoiseOff.leftCols(a) = albedoKept;
    for (std::size_t i = 0; i < anti.size(); ++i) albedoNoiseOff(anti[i], a + Eigen::Index(i)) = 1;
    albedoKeptValues = pca.basis * (pca.stddev.asDiagonal() * albedoKept);
}

void AppearanceModel::keepAreaContrasts(const std::vector<cv::Mat>& areas, const cv::Mat& reference) {
    const Eigen::Index k = pca.components();
    if (k == 0 || albedoKept.rows() != k) return;
    // An area's mean of one colour channel as a linear functional of the model values (BGR per texel).
    auto channelMean = [&](const cv::Mat& area, int channel) {
        CV_Assert(area.type() == CV_32F && area.size() == pca.roi.size());
        Eigen::VectorXd functional = Eigen::VectorXd::Zero(pca.mean.size());
        double total = 0;
        for (int t = 0; t < pca.texelCount(); ++t) {
            const double w = area.ptr<float>()[pca.texels[std::size_t(t)]];
            functional(3 * t + channel) = w;
            total += w;
        }
        if (!(total > 0)) throw Error("appearance model: an area for the kept contrasts has no modelled texel");
        return Eigen::VectorXd(functional / total);
    };
    const std::array<Eigen::VectorXd, 3> referenceMean = {channelMean(reference, 0), channelMean(reference, 1),
                                                          channelMean(reference, 2)};
    for (const cv::Mat& area : areas)
        for (int channel = 0; channel < 3; ++channel) {
            // The contrast is mean·functional + β·(S·Bᵀ·functional): β moves it only along that vector.
            const Eigen::VectorXd functional = channelMean(area, channel) - referenceMean[std::size_t(channel)];
            const Eigen::VectorXf alongBasis = pca.basis.transpose() * functional.cast<float>();
            Eigen::VectorXd v = pca.stddev.cast<double>().cwiseProduct(alongBasis.cast<double>());
            // The areas are mirror-symmetric and the noise is off the antisymmetric modes already.
            for (int j : pca.antisymmetricModes) v(j) = 0;
            const double before = v.norm();
            for (Eigen::Index j = 0; j < albedoKept.cols(); ++j)
                v -= albedoKept.col(j).cast<double>().dot(v) * albedoKept.col(j).cast<double>();
            if (!(v.norm() > 1e-3 * before)) continue;  // already kept
            albedoKept.conservativeResize(k, albedoKept.cols() + 1);
            albedoKept.col(albedoKept.cols() - 1) = (v / v.norm()).cast<float>();
        }
    prepareKept();
}

Eigen::MatrixXf AppearanceModel::albedoAreas() const {
    const Eigen::Index attributes = albedoAttributes.directions.rows() == albedoKept.rows() ? albedoAttributes.directions.cols() : 0;
    return albedoKept.rightCols(std::max<Eigen::Index>(0, albedoKept.cols() - attributes));
}

Eigen::VectorXf AppearanceModel::areaShift(const Eigen::VectorXf& code, const std::vector<int>& faces) const {
    const Eigen::MatrixXf areas = albedoAreas();
    if (areas.cols() == 0 || areas.rows() != code.size() || faces.empty()) return Eigen::VectorXf::Zero(code.size());
    Eigen::VectorXf mean = Eigen::VectorXf::Zero(code.size());
    for (int face : faces) mean += bank.at(std::size_t(face)).coefficients;
    mean /= float(faces.size());
    return areas * (areas.transpose() * (mean - code));
}

float AppearanceModel::youngestAge() const {
    if (bank.empty()) return 0;
    return std::min_element(bank.begin(), bank.end(), [](const BankFace& a, const BankFace& b) { return a.age < b.age; })->age;
}

void AppearanceModel::prepareGalleryRange() {
    const int n = int(bank.size()), k = pca.components();
    const Eigen::Index values = pca.mean.size();
    albedoLow = pca.mean;
    albedoHigh = pca.mean;
    if (n == 0 || k == 0) return;
    Eigen::MatrixXf scaled(k, n);  // diag(stddev) · the bank's codes
    for (int i = 0; i < n; ++i) scaled.col(i) = pca.stddev.cwiseProduct(bank[std::size_t(i)].coefficients);
    const std::size_t lowRank = std::size_t(std::lround(kGalleryRangeQuantile * (n - 1)));
    const std::size_t highRank = std::size_t(n - 1) - lowRank;
    // The reconstructions in blocks of rows (all of them at once would take 130 MB).
    constexpr Eigen::Index kBlock = 2048;
    Eigen::MatrixXf block(kBlock, n);
    std::vector<float> row(static_cast<std::size_t>(n));
    for (Eigen::Index start = 0; start < values; start += kBlock) {
        const Eigen::Index rows = std::min(kBlock, values - start);
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, int(rows), n, k, 1.f, pca.basis.data() + start,
                    int(pca.basis.rows()), scaled.data(), k, 0.f, block.data(), int(kBlock));
        for (Eigen::Index r = 0; r < rows; ++r) {
            for (int i = 0; i < n; ++i) row[std::size_t(i)] = block(r, i);
            std::nth_element(row.begin(), row.begin() + std::ptrdiff_t(lowRank), row.end());
            albedoLow(start + r) += row[lowRank];
            std::nth_element(row.begin(), row.begin() + std::ptrdiff_t(highRank), row.end());
            albedoHigh(start + r) += row[highRank];
        }
    }
}

Eigen::VectorXf AppearanceModel::keptValues(const Eigen::VectorXf& code) const {
    if (albedoKept.cols() == 0 || code.size() != albedoKept.rows()) return pca.mean;
    return pca.mean + albedoKeptValues * (albedoKept.transpose() * code);
}

cv::Mat AppearanceModel::detailOf(int face) const {
    cv::Mat out;
    detail.at(std::size_t(face)).convertTo(out, CV_32F, detailQuantum);
    return out;
}

AppearanceModel loadAppearanceModel(const std::string& jsonPath) {
    AppearanceModel model;
    nlohmann::json& header = model.header;
    {
        std::ifstream in(jsonPath);
        if (!in) throw ModelError("cannot open appearance model header '" + jsonPath + "'");
        try {
            header = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw ModelError("appearance model header '" + jsonPath + "' is not valid JSON: " + e.what());
        }
    }
    try {
        if (header.value("format", "") != kAppearancePackFormat)
            throw ModelError("'" + jsonPath + "' is not an " + std::string(kAppearancePackFormat) + " header");
        if (header.value("version", 0) != kAppearancePackVersion)
            throw ModelError("appearance model '" + jsonPath + "' has version " + std::to_string(header.value("version", 0)) +
                             ", this build reads version " + std::to_string(kAppearancePackVersion) +
                             " (rebuild it with 'ideudemon-cli build-appearance-model')");
        const fs::path binPath = fs::path(jsonPath).replace_extension(".bin");
        std::vector<std::uint8_t> bin;
        try {
            bin = readFileBytes(binPath.string(), std::uint64_t(4) << 30);
        } catch (const Error& e) {
            throw ModelError(std::string("appearance model binary: ") + e.what());
        }
        model.sha256 = sha256Hex(bin.data(), bin.size());
        if (header.at("sha256").get<std::string>() != model.sha256)
            throw ModelError("appearance model '" + binPath.string() + "' is corrupt (SHA-256 differs from its header)");

        AlbedoPca& pca = model.pca;
        pca.uvSize = header.at("uv_size");
        pca.roi = rectFrom(header.at("roi"));
        const int k = header.at("components"), t = header.at("texels"), n = header.at("faces");
        model.detailUvSize = header.at("detail_uv_size");
        model.detailRoi = rectFrom(header.at("detail_roi"));
        model.detailQuantum = header.at("detail_quantum");
        pca.residualVariance = header.at("residual_variance");
        model.varianceExplained = header.at("variance_explained");
        const auto files = header.at("files").get<std::vector<std::string>>();
        if (pca.uvSize <= 0 || k <= 0 || t <= 0 || n <= 0 || int(files.size()) != n || pca.roi.area() <= 0 ||
            pca.roi.x < 0 || pca.roi.y < 0 || pca.roi.br().x > pca.uvSize || pca.roi.br().y > pca.uvSize ||
            model.detailUvSize <= 0 || model.detailRoi.area() <= 0 || model.detailQuantum <= 0)
            throw ModelError("appearance model '" + jsonPath + "': inconsistent sizes in the header");

        const PackReader pack(header, bin, jsonPath);
        const auto mask = pack.read<std::uint8_t>("mask", "uint8", {pca.roi.height, pca.roi.width});
        pca.mask = cv::Mat(pca.roi.size(), CV_8U, const_cast<std::uint8_t*>(mask.data())).clone();
        for (int i = 0; i < pca.roi.area(); ++i)
            if (mask[std::size_t(i)]) pca.texels.push_back(i);
        if (int(pca.texels.size()) != t) throw ModelError("appearance model '" + jsonPath + "': mask and texel count differ");
        const auto mean = pack.read<float>("mean", "float32", {t, 3});
        pca.mean = Eigen::Map<const Eigen::VectorXf>(mean.data(), 3 * t);
        const auto basis = pack.read<float>("basis", "float32", {k, t, 3});
        pca.basis = Eigen::Map<const Eigen::MatrixXf>(basis.data(), 3 * t, k);
        const auto sd = pack.read<float>("stddev", "float32", {k});
        pca.stddev = Eigen::Map<const Eigen::VectorXf>(sd.data(), k);
        const auto coefficients = pack.read<float>("coefficients", "float32", {n, k});
        const int shapeCount = header.at("shape_components");
        if (shapeCount <= 0) throw ModelError("appearance model '" + jsonPath + "': no shape codes");
        const auto shapes = pack.read<float>("shape_coefficients", "float32", {n, shapeCount});
        const auto age = pack.read<float>("age", "float32", {n});
        const auto gender = pack.read<float>("gender", "float32", {n});
        const auto detailSd = pack.read<float>("detail_sd", "float32", {n});
        const auto detail = pack.read<std::int8_t>("detail", "int8", {n, model.detailRoi.height, model.detailRoi.width});
        const std::size_t plane = std::size_t(model.detailRoi.area());
        for (int i = 0; i < n; ++i) {
            BankFace face;
            face.file = files[std::size_t(i)];
            face.coefficients = Eigen::Map<const Eigen::VectorXf>(coefficients.data() + std::size_t(i) * std::size_t(k), k);
            face.shape = Eigen::Map<const Eigen::VectorXf>(shapes.data() + std::size_t(i) * std::size_t(shapeCount), shapeCount);
            face.age = age[std::size_t(i)];
            face.gender = gender[std::size_t(i)];
            face.detailSd = detailSd[std::size_t(i)];
            model.bank.push_back(face);
            model.detail.push_back(
                cv::Mat(model.detailRoi.size(), CV_8S, const_cast<std::int8_t*>(detail.data() + std::size_t(i) * plane)).clone());
        }
        for (Eigen::Index i = 0; i < pca.stddev.size(); ++i)
            if (!(pca.stddev(i) > 0)) throw ModelError("appearance model '" + jsonPath + "': a mode has no variance");
        pca.prepareFit();
        model.prepareAttributes();
        model.prepareGalleryRange();
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("appearance model header '" + jsonPath + "' is incomplete: " + e.what());
    }
    return model;
}

std::string writeAppearanceModel(const AppearanceModel& model, const std::string& jsonPath, const nlohmann::json& info) {
    const AlbedoPca& pca = model.pca;
    const int k = pca.components(), t = pca.texelCount(), n = int(model.bank.size());
    if (int(model.detail.size()) != n) throw Error("appearance model: detail bank and faces differ in number");
    PackWriter pack;
    cv::Mat mask = pca.mask.isContinuous() ? pca.mask : pca.mask.clone();
    pack.add("mask", "uint8", {pca.roi.height, pca.roi.width}, mask.data, mask.total());
    pack.add("mean", "float32", {t, 3}, pca.mean.data(), sizeof(float) * std::size_t(pca.mean.size()));
    pack.add("basis", "float32", {k, t, 3}, pca.basis.data(), sizeof(float) * std::size_t(pca.basis.size()));
    pack.add("stddev", "float32", {k}, pca.stddev.data(), sizeof(float) * std::size_t(k));
    const int shapeCount = n ? int(model.bank[0].shape.size()) : 0;
    std::vector<float> coefficients, shapes, age, gender, detailSd;
    std::vector<std::int8_t> detail;
    std::vector<std::string> files;
    for (int i = 0; i < n; ++i) {
        const BankFace& f = model.bank[std::size_t(i)];
        coefficients.insert(coefficients.end(), f.coefficients.data(), f.coefficients.data() + k);
        if (f.shape.size() != shapeCount) throw Error("appearance model: bank faces differ in their shape codes");
        shapes.insert(shapes.end(), f.shape.data(), f.shape.data() + shapeCount);
        age.push_back(f.age);
        gender.push_back(f.gender);
        detailSd.push_back(f.detailSd);
        files.push_back(f.file);
        const cv::Mat d = model.detail[std::size_t(i)].isContinuous() ? model.detail[std::size_t(i)] : model.detail[std::size_t(i)].clone();
        detail.insert(detail.end(), d.ptr<std::int8_t>(), d.ptr<std::int8_t>() + d.total());
    }
    pack.add("coefficients", "float32", {n, k}, coefficients.data(), sizeof(float) * coefficients.size());
    pack.add("shape_coefficients", "float32", {n, shapeCount}, shapes.data(), sizeof(float) * shapes.size());
    pack.add("age", "float32", {n}, age.data(), sizeof(float) * age.size());
    pack.add("gender", "float32", {n}, gender.data(), sizeof(float) * gender.size());
    pack.add("detail_sd", "float32", {n}, detailSd.data(), sizeof(float) * detailSd.size());
    pack.add("detail", "int8", {n, model.detailRoi.height, model.detailRoi.width}, detail.data(), detail.size());
    nlohmann::json header = {{"format", kAppearancePackFormat},
                             {"version", kAppearancePackVersion},
                             {"byte_order", "little"},
                             {"layout", "C order (row-major), no padding"},
                             {"albedo", "relative: BGR albedo divided by the face's mean skin colour; "
                                        "albedo = mean + basis * (stddev * coefficients), coefficients ~ N(0,1)"},
                             {"uv_size", pca.uvSize},
                             {"roi", toJson(pca.roi)},
                             {"components", k},
                             {"texels", t},
                             {"faces", n},
                             {"shape_components", shapeCount},
                             {"residual_variance", pca.residualVariance},
                             {"variance_explained", model.varianceExplained},
                             {"detail_uv_size", model.detailUvSize},
                             {"detail_roi", toJson(model.detailRoi)},
                             {"detail_quantum", model.detailQuantum},
                             {"detail", "relative luminance relief (band-passed) of each face, int8 x detail_quantum"},
                             {"files", files},
                             {"info", info},
                             {"arrays", pack.arrays()},
                             {"sha256", pack.sha256()}};
    const fs::path binPath = fs::path(jsonPath).replace_extension(".bin");
    writeFileAtomically(binPath.string(), pack.binary());
    writeTextAtomically(jsonPath, header.dump(1) + "\n");
    return pack.sha256();
}

const AppearanceModel& sharedAppearanceModel() {
    static std::once_flag once;
    static AppearanceModel model;
    std::call_once(once, [] {
        // The reader checks the binary against the SHA-256 its header records.
        model = loadAppearanceModel(ModelStore::instance().require("appearance-model"));
        const BeardAreas beard = beardAreas(FaceModelContext::shared(), model.pca);
        model.keepAreaContrasts(beard.areas, beard.reference);
    });
    return model;
}

}  // namespace ideu
