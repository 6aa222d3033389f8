#include "io/image_io.h"

#include "common/error.h"
#include "common/files.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace ideu {
namespace {

cv::Mat toEightBit(const cv::Mat& image, const std::string& name) {
    cv::Mat out;
    switch (image.depth()) {
        case CV_8U: return image;
        case CV_8S: image.convertTo(out, CV_8U, 1.0, 128.0); return out;
        case CV_16U: image.convertTo(out, CV_8U, 1.0 / 257.0); return out;
        case CV_16S: image.convertTo(out, CV_8U, 1.0 / 257.0, 128.0); return out;
        case CV_32F:
        case CV_64F: image.convertTo(out, CV_8U, 255.0); return out;  // float images are 0..1
        default: break;
    }
    throw ImageError(name + ": unsupported sample format");
}

}  // namespace

cv::Mat applyOrientation(const cv::Mat& image, int orientation) {
    cv::Mat out;
    switch (orientation) {
        case 2: cv::flip(image, out, 1); return out;
        case 3: cv::rotate(image, out, cv::ROTATE_180); return out;
        case 4: cv::flip(image, out, 0); return out;
        case 5: cv::transpose(image, out); return out;
        case 6: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); return out;
        case 7: cv::transpose(image, out); cv::rotate(out, out, cv::ROTATE_180); return out;
        case 8: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
        default: return image;
    }
}

Image decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                  const ImageLoadOptions& options) {
    Image result;
    result.path = name;
    result.header = probeImage(bytes.data(), bytes.size(), name);
    const std::uint64_t pixels = std::uint64_t(result.header.width) * std::uint64_t(result.header.height);
    if (pixels > options.maxPixels)
        throw ImageError(name + ": " + std::to_string(result.header.width) + "x" +
                         std::to_string(result.header.height) + " pixels is above the limit of " +
                         std::to_string(options.maxPixels / 1'000'000) + " MP");
    if (result.header.format == ImageFormat::Jpeg) {
        const std::string problem = jpegStreamProblem(bytes.data(), bytes.size());
        if (!problem.empty())
            throw ImageError(name + ": corrupt JPEG: the image data does not match its " + std::to_string(result.header.width) +
                             "x" + std::to_string(result.header.height) + " header (" + problem + ")");
    }
    cv::Mat decoded;
    try {
        decoded = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw ImageError(name + ": corrupt " + formatName(result.header.format) + " data (" + e.err + ")");
    }
    if (decoded.empty())
        throw ImageError(name + ": corrupt or unsupported " + std::string(formatName(result.header.format)) + " data");
    if (decoded.cols != result.header.width || decoded.rows != result.header.height)
        throw ImageError(name + ": decoded size differs from the size in the header");
    result.sourceBitDepth = int(decoded.elemSize1() * 8);
    result.sourceChannels = decoded.channels();
    decoded = toEightBit(decoded, name);
    switch (decoded.channels()) {
        case 1: cv::cvtColor(decoded, result.bgr, cv::COLOR_GRAY2BGR); break;
        case 3: result.bgr = decoded; break;
        case 4: {
            std::vector<cv::Mat> planes;
            cv::split(decoded, planes);
            cv::merge(std::vector<cv::Mat>{planes[0], planes[1], planes[2]}, result.bgr);
            double minAlpha = 255;
            cv::minMaxLoc(planes[3], &minAlpha);
            if (minAlpha < 255) result.alpha = planes[3];
            break;
        }
        default: throw ImageError(name + ": unsupported channel count " + std::to_string(decoded.channels()));
    }
    result.bgr = applyOrientation(result.bgr, result.header.orientation);
    if (!result.alpha.empty()) result.alpha = applyOrientation(result.alpha, result.header.orientation);
    return result;
}

Image loadImage(const std::string& path, const ImageLoadOptions& options) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = readFileBytes(path, options.maxFileBytes);
    } catch (const Error& e) {
        throw ImageError(e.what());
    }
    InputRegistry::add(path);
    return decodeImage(bytes, path, options);
}

ImageFormat formatForPath(const std::string& path) {
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos) return ImageFormat::Unknown;
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == "png") return ImageFormat::Png;
    if (ext == "jpg" || ext == "jpeg") return ImageFormat::Jpeg;
    if (ext == "webp") return ImageFormat::WebP;
    return ImageFormat::Unknown;
}

const std::vector<std::string>& imageExtensions() {
    static const std::vector<std::string> extensions = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"};
    return extensions;
}

bool hasImageExtension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    const auto& known = imageExtensions();
    return std::find(known.begin(), known.end(), ext) != known.end();
}

std::vector<std::string> findImages(const std::string& folder, std::vector<std::string>* problems,
                                    const std::string& exclude) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw Error("cannot read the folder '" + folder + "': not a folder");
    std::vector<std::string> files;
    auto report = [&](const std::string& text) {
        if (problems) problems->push_back(text);
    };
    const fs::path excluded = exclude.empty() ? fs::path() : fs::weakly_canonical(exclude, ec);
    // Depth-first over folders, following linked folders once each: a link back to a folder
    // already searched (a loop such as `ln -s . self`) is reported and skipped.
    std::set<fs::path> searched;
    std::vector<fs::path> pending = {fs::path(folder)};
    bool first = true;
    while (!pending.empty()) {
        const fs::path dir = pending.back();
        pending.pop_back();
        const fs::path real = fs::canonical(dir, ec);
        if (ec) {
            if (first) throw Error("cannot read the folder '" + folder + "': " + ec.message());
            report(dir.string() + ": cannot read this folder (" + ec.message() + "), skipped");
            continue;
        }
        if (!excluded.empty() && real == excluded) continue;  // the run's own output
        if (!searched.insert(real).second) {
            report(dir.string() + ": a link to a folder already searched (" + real.string() + "), skipped");
            continue;
        }
        fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
        if (ec) {
            if (first) throw Error("cannot read the folder '" + folder + "': " + ec.message());
            report(dir.string() + ": cannot read this folder (" + ec.message() + "), skipped");
            continue;
        }
        first = false;
        std::vector<fs::path> subfolders;
        for (; it != end; it.increment(ec)) {
            if (ec) {
                report(dir.string() + ": listing stopped early (" + ec.message() + ")");
                break;
            }
            const fs::path path = it->path();
            std::error_code entryError;
            const fs::file_status status = fs::status(path, entryError);  // follows links
            if (entryError) {
                if (fs::is_symlink(fs::symlink_status(path, entryError)))
                    report(path.string() + ": a broken or looping link, skipped");
                else
                    report(path.string() + ": cannot read (" + entryError.message() + "), skipped");
                continue;
            }
            if (fs::is_directory(status)) subfolders.push_back(path);
            else if (fs::is_regular_file(status) && hasImageExtension(path.string())) files.push_back(path.string());
        }
        std::sort(subfolders.rbegin(), subfolders.rend());  // popped in name order
        for (const fs::path& sub : subfolders) pending.push_back(sub);
    }
    // Path order: a folder's files come before those of a sibling folder whose name extends it.
    std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) { return fs::path(a) < fs::path(b); });
    return files;
}

std::string exportName(const std::string& path) {
    if (formatForPath(path) != ImageFormat::Unknown) return path;
    return std::filesystem::path(path).replace_extension(".png").string();
}

std::string uniqueOutputPath(const std::string& path, std::set<std::string>& taken) {
    namespace fs = std::filesystem;
    const fs::path original(path);
    fs::path candidate = original;
    for (int n = 2; taken.count(candidate.lexically_normal().string()); ++n)
        candidate = original.parent_path() / (original.stem().string() + "-" + std::to_string(n) + original.extension().string());
    taken.insert(candidate.lexically_normal().string());
    return candidate.string();
}

std::vector<std::uint8_t> encodeImage(const cv::Mat& bgr, const cv::Mat& alpha, ImageFormat format,
                                      int quality) {
    if (bgr.empty() || bgr.type() != CV_8UC3) throw Error("encodeImage: expected an 8-bit BGR image");
    const bool withAlpha = !alpha.empty() && format != ImageFormat::Jpeg;
    cv::Mat pixels = bgr;
    if (withAlpha) {
        cv::merge(std::vector<cv::Mat>{bgr, alpha}, pixels);
    } else if (!alpha.empty()) {  // JPEG: flatten onto white
        cv::Mat a, inv, white(bgr.size(), CV_8UC3, cv::Scalar::all(255));
        cv::cvtColor(alpha, a, cv::COLOR_GRAY2BGR);
        cv::bitwise_not(a, inv);
        cv::Mat fg, bg;
        cv::multiply(bgr, a, fg, 1.0 / 255);
        cv::multiply(white, inv, bg, 1.0 / 255);
        pixels = fg + bg;
    }
    std::vector<int> params;
    std::string ext;
    quality = std::clamp(quality, 1, 101);
    switch (format) {
        case ImageFormat::Png: ext = ".png"; params = {cv::IMWRITE_PNG_COMPRESSION, 3}; break;
        case ImageFormat::Jpeg: ext = ".jpg"; params = {cv::IMWRITE_JPEG_QUALITY, std::min(quality, 100)}; break;
        case ImageFormat::WebP: ext = ".webp"; params = {cv::IMWRITE_WEBP_QUALITY, quality}; break;
        default: throw Error("cannot export in this format (use .png, .jpg or .webp)");
    }
    std::vector<std::uint8_t> bytes;
    if (!cv::imencode(ext, pixels, bytes, params)) throw Error("encoding " + ext + " failed");
    // The encoders write no metadata; check, because an export with the source's EXIF
    // would defeat the purpose of the app.
    const ImageHeader header = probeImage(bytes.data(), bytes.size(), "export");
    if (!header.metadata.empty()) throw Error("encoder wrote a metadata block (" + header.metadata.front() + ")");
    return bytes;
}

void saveImage(const std::string& path, const cv::Mat& bgr, const cv::Mat& alpha,
               const ImageSaveOptions& options) {
    const ImageFormat format = formatForPath(path);
    if (format == ImageFormat::Unknown)
        throw WriteError("'" + path + "': unknown output format (use .png, .jpg, .jpeg or .webp)");
    if (InputRegistry::contains(path))
        throw WriteError("refusing to overwrite input file '" + path + "'");
    writeFileAtomically(path, encodeImage(bgr, alpha, format, options.quality), options.protectedPaths);
}

}  // namespace ideu
