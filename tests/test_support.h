#pragma once
// Helpers shared by the test suites.
#include <QString>
#include <QTemporaryDir>

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace ideu::test {

// ../shared (or $IDEU_SHARED); empty when missing, and tests that need it QSKIP.
QString sharedDir();
QString facePhoto(const QString& relative);  // path under shared/faces
std::vector<std::string> allFacePhotos();    // every photo under shared/faces, sorted

// Runs `program args`, returns exit code; stdout and stderr are captured.
int runProcess(const QString& program, const QStringList& args, QByteArray* out = nullptr,
               QByteArray* err = nullptr, int timeoutMs = 300000);
QString cliPath();

std::vector<std::uint8_t> readBytes(const QString& path);
void writeBytes(const QString& path, const std::vector<std::uint8_t>& bytes);
std::string fileSha256(const QString& path);

// A synthetic test picture with structure in every region (gradients, shapes, noise).
cv::Mat syntheticPicture(int width, int height, unsigned seed = 1);
double maxAbsDiff(const cv::Mat& a, const cv::Mat& b);

// A turned face: the face model fitted to shared/faces/obama/obama.jpg, turned to `yaw`
// degrees and rendered (skin, eyes and lips from the appearance model) on a grey backdrop.
struct ProfileRender {
    cv::Mat image;  // CV_8UC3, 512 x 512
    cv::Mat mask;   // CV_8U, the rendered face
};
ProfileRender renderedProfile(double yaw);

}  // namespace ideu::test

#define IDEU_REQUIRE_SHARED()                                                  \
    do {                                                                       \
        if (ideu::test::sharedDir().isEmpty()) QSKIP("../shared is missing");  \
    } while (0)
