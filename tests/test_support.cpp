#include "test_support.h"

#include "common/sha256.h"
#include "appearance/model_albedo.h"
#include "io/image_io.h"
#include "pipeline/deid_pipeline.h"
#include "render/face_renderer.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace ideu::test {

QString sharedDir() {
    QString dir = qEnvironmentVariable("IDEU_SHARED", IDEU_SHARED_DIR);
    return QDir(dir).exists("faces") ? QDir(dir).absolutePath() : QString();
}

QString facePhoto(const QString& relative) { return sharedDir() + "/faces/" + relative; }

std::vector<std::string> allFacePhotos() {
    std::vector<std::string> files;
    if (sharedDir().isEmpty()) return files;
    QDirIterator it(sharedDir() + "/faces", {"*.png", "*.jpg"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) files.push_back(it.next().toStdString());
    std::sort(files.begin(), files.end());
    return files;
}

int runProcess(const QString& program, const QStringList& args, QByteArray* out, QByteArray* err, int timeoutMs) {
    QProcess process;
    process.start(program, args);
    if (!process.waitForStarted(10000)) return -1;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return -2;
    }
    if (out) *out = process.readAllStandardOutput();
    if (err) *err = process.readAllStandardError();
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -3;
}

QString cliPath() { return QString(IDEU_CLI_PATH); }

std::vector<std::uint8_t> readBytes(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    const QByteArray data = f.readAll();
    return std::vector<std::uint8_t>(data.begin(), data.end());
}

void writeBytes(const QString& path, const std::vector<std::uint8_t>& bytes) {
    QFile f(path);
    f.open(QIODevice::WriteOnly | QIODevice::Truncate);
    f.write(reinterpret_cast<const char*>(bytes.data()), qint64(bytes.size()));
}

std::string fileSha256(const QString& path) {
    const auto bytes = readBytes(path);
    return sha256Hex(bytes.data(), bytes.size());
}

cv::Mat syntheticPicture(int width, int height, unsigned seed) {
    cv::Mat image(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(255 * x / std::max(1, width - 1)),
                                                  uchar(255 * y / std::max(1, height - 1)), uchar((x * 7 + y * 3) % 256));
    cv::RNG rng(seed);
    for (int i = 0; i < 12; ++i) {
        const cv::Point c(rng.uniform(0, width), rng.uniform(0, height));
        cv::circle(image, c, rng.uniform(2, std::max(3, width / 6)),
                   cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), cv::FILLED);
    }
    cv::Mat noise(image.size(), CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 16);
    image += noise;
    return image;
}

double maxAbsDiff(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    double maxValue = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &maxValue);
    return maxValue;
}

ProfileRender renderedProfile(double yaw) {
    DeidPipeline pipeline(loadImage(facePhoto("obama/obama.jpg").toStdString()));
    const auto f = pipeline.fitted(0);
    const FaceModelContext& context = pipeline.context();
    FaceFit turned = f->fit;
    const Eigen::Vector3d angles = turned.pose.anglesDegrees();
    turned.pose.rotation = Pose::fromAnglesDegrees(yaw, angles[1], angles[2]);
    const Eigen::VectorXf shape = context.model().shape(f->fit.identity, f->fit.expression);
    const FaceGeometry geometry = makeGeometry(context, shape, turned.pose, f->fit.camera);
    // The eye and mouth openings move with the head.
    const FaceRender render = renderFace(context, *f, geometry, turned.projectedLandmarks(context.model()),
                                         synthesizeAlbedo(context, pipeline.appearanceModel(), f->appearance, f->albedoValues, 0.f, 0));
    ProfileRender out;
    out.image = cv::Mat(render.image.size(), CV_8UC3, cv::Scalar(120, 125, 130));
    cv::Mat image8;
    render.image.convertTo(image8, CV_8UC3);
    image8.copyTo(out.image, render.mask);
    out.mask = render.mask;
    return out;
}

}  // namespace ideu::test
