#pragma once
// Loading photos the way a user expects (upright, 8-bit BGR, alpha kept) and saving exports
// with no metadata of the source, atomically, never over an input.
#include "io/image_probe.h"

#include <opencv2/core.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace ideu {

struct ImageLoadOptions {
    // Images with more pixels are refused before their pixels are decoded.
    std::uint64_t maxPixels = 100'000'000;
    std::uint64_t maxFileBytes = std::uint64_t(1) << 30;
};

struct Image {
    cv::Mat bgr;    // CV_8UC3, EXIF orientation applied
    cv::Mat alpha;  // CV_8UC1 when the source has a non-opaque alpha channel, else empty
    std::string path;
    ImageHeader header;   // as stored in the file (before orientation)
    int sourceBitDepth = 8;
    int sourceChannels = 3;
    bool hasAlpha() const { return !alpha.empty(); }
};

// Throws ImageError "<path>: <reason>" for every failure (missing, empty, truncated,
// corrupt, too large, unsupported). Registers the file as an input that must not be
// overwritten.
Image loadImage(const std::string& path, const ImageLoadOptions& options = {});
Image decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                  const ImageLoadOptions& options = {});

// Applies an EXIF orientation (1..8) so that the result is upright.
cv::Mat applyOrientation(const cv::Mat& image, int orientation);

struct ImageSaveOptions {
    int quality = 95;  // JPEG and WebP (WebP: 101 = lossless)
    std::vector<std::string> protectedPaths;  // never written to, besides the registered inputs
};

// Format from the extension: .png, .jpg/.jpeg, .webp; Unknown otherwise.
ImageFormat formatForPath(const std::string& path);

// Photo files by name: the extensions loadImage is offered (lower case, with the dot), the
// test (case-insensitive), and every such file under a folder (recursive, following linked
// folders once each, sorted; throws Error when the folder itself cannot be read). Entries that
// cannot be read, broken links and links back to a folder already searched are skipped and
// described in `problems`; the folder `exclude` (a run's output) is not searched.
const std::vector<std::string>& imageExtensions();
bool hasImageExtension(const std::string& path);
std::vector<std::string> findImages(const std::string& folder, std::vector<std::string>* problems = nullptr,
                                    const std::string& exclude = "");
// Where the export of a photo goes: the same name when it is a format saveImage writes, else
// the name with .png.
std::string exportName(const std::string& path);
// `path`, or with "-2", "-3", ... before its extension, whichever is not in `taken` yet (then
// added): outputs of one run never collide (x.tif and x.png both export as x.png).
std::string uniqueOutputPath(const std::string& path, std::set<std::string>& taken);

// Encodes without any metadata block. Alpha is kept for PNG and WebP; JPEG has none, so a
// transparent image is flattened onto white.
std::vector<std::uint8_t> encodeImage(const cv::Mat& bgr, const cv::Mat& alpha, ImageFormat format,
                                      int quality = 95);

// Encodes and writes atomically (temp file + rename), creating parent folders.
void saveImage(const std::string& path, const cv::Mat& bgr, const cv::Mat& alpha = cv::Mat(),
               const ImageSaveOptions& options = {});

}  // namespace ideu
