#pragma once
// Reads an image container's structure (size, EXIF orientation, metadata blocks) without
// decoding pixels, so huge, truncated or corrupt files are refused before any allocation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ideu {

enum class ImageFormat { Unknown, Jpeg, Png, Tiff, WebP, Bmp };

const char* formatName(ImageFormat format);

struct ImageHeader {
    ImageFormat format = ImageFormat::Unknown;
    int width = 0;
    int height = 0;
    int orientation = 1;  // For a JPEG: why its entropy-coded data contradicts its header ("" when it decodes cleanly):
// a stream that ends early, corrupt data. libjpeg only warns about these and fills the rest
// with grey, so the whole stream is decoded (at 1/8 scale) to find out.
std::string jpegStreamProblem(const std::uint8_t* data, std::size_t size);

// EXIF orientation 1..8 (1 = upright)
    // Names of the metadata blocks found (e.g. "EXIF", "XMP", "ICC", "comment", "tEXt"),
    // in file order. Exports must have none.
    std::vector<std::string> metadata;
    int pages = 1;  // TIFF: images (directories) in the file; only the first is read
};

// Throws ImageError "<name>: <reason>" for empty, unknown, truncated or malformed data.
ImageHeader probeImage(const std::uint8_t* data, std::size_t size, const std::string& name);

// For a JPEG: why its entropy-coded data contradicts its header ("" when it decodes cleanly):
// a stream that ends early, corrupt data. libjpeg only warns about these and fills the rest
// with grey, so the whole stream is decoded (at 1/8 scale) to find out.
std::string jpegStreamProblem(const std::uint8_t* data, std::size_t size);

// EXIF orientation from a TIFF-structured EXIF block (the bytes after "Exif\0\0");
// 1 when absent or malformed.
int exifOrientation(const std::uint8_t* tiff, std::size_t size);

}  // namespace ideu
