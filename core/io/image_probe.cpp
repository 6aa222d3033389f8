#include "io/image_probe.h"

#include "common/error.h"

#include <algorithm>
#include <cstring>

namespace ideu {
namespace {

// Bounds-checked big/little-endian readers over the file bytes.
class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::size_t size() const { return size_; }
    bool has(std::size_t pos, std::size_t n) const { return pos <= size_ && n <= size_ - pos; }
    std::uint8_t u8(std::size_t pos) const { return has(pos, 1) ? data_[pos] : 0; }
    std::uint16_t be16(std::size_t p) const { return std::uint16_t(u8(p) << 8 | u8(p + 1)); }
    std::uint32_t be32(std::size_t p) const { return std::uint32_t(be16(p)) << 16 | be16(p + 2); }
    std::uint16_t le16(std::size_t p) const { return std::uint16_t(u8(p) | u8(p + 1) << 8); }
    std::uint32_t le32(std::size_t p) const { return le16(p) | std::uint32_t(le16(p + 2)) << 16; }
    bool startsWith(std::size_t pos, const char* text) const {
        return startsWith(pos, text, std::strlen(text));
    }
    bool startsWith(std::size_t pos, const char* text, std::size_t n) const {
        return has(pos, n) && std::memcmp(data_ + pos, text, n) == 0;
    }
    const std::uint8_t* at(std::size_t pos) const { return data_ + pos; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
};

[[noreturn]] void fail(const std::string& name, const std::string& reason) {
    throw ImageError(name + ": " + reason);
}

// Minimal TIFF IFD reader shared by EXIF blocks and TIFF files.
struct Tiff {
    Bytes bytes;
    bool little = true;
    std::uint16_t u16(std::size_t p) const { return little ? bytes.le16(p) : bytes.be16(p); }
    std::uint32_t u32(std::size_t p) const { return little ? bytes.le32(p) : bytes.be32(p); }
    static std::size_t typeSize(std::uint16_t type) {
        switch (type) {
            case 1: case 2: case 6: case 7: return 1;
            case 3: case 8: return 2;
            case 4: case 9: case 11: return 4;
            case 5: case 10: case 12: return 8;
            default: return 0;
        }
    }
    // Value number i of an entry of type SHORT or LONG.
    bool value(std::size_t entry, std::uint32_t i, std::uint32_t& out) const {
        const std::uint16_t type = u16(entry + 2);
        const std::uint32_t count = u32(entry + 4);
        const std::size_t size = typeSize(type);
        if ((type != 3 && type != 4) || i >= count) return false;
        const std::size_t total = size * count;
        const std::size_t base = total <= 4 ? entry + 8 : u32(entry + 8);
        const std::size_t pos = base + size * i;
        if (!bytes.has(pos, size)) return false;
        out = type == 3 ? u16(pos) : u32(pos);
        return true;
    }
};

bool openTiff(Tiff& tiff, std::uint32_t& ifd) {
    const Bytes& b = tiff.bytes;
    if (b.startsWith(0, "II")) tiff.little = true;
    else if (b.startsWith(0, "MM")) tiff.little = false;
    else return false;
    if (tiff.u16(2) != 42) return false;
    ifd = tiff.u32(4);
    return b.has(ifd, 2);
}

void addUnique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// ---------------------------------------------------------------- JPEG
ImageHeader probeJpeg(const Bytes& b, const std::string& name) {
    ImageHeader header;
    header.format = ImageFormat::Jpeg;
    std::size_t pos = 2;
    bool frameSeen = false;
    while (true) {
        if (!b.has(pos, 2)) fail(name, "truncated JPEG (ends before the end-of-image marker)");
        if (b.u8(pos) != 0xFF) fail(name, "corrupt JPEG (bad marker at byte " + std::to_string(pos) + ")");
        while (b.has(pos + 1, 1) && b.u8(pos + 1) == 0xFF) ++pos;  // fill bytes
        const std::uint8_t marker = b.u8(pos + 1);
        pos += 2;
        if (marker == 0xD9) break;  // EOI
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
        if (!b.has(pos, 2)) fail(name, "truncated JPEG (inside a marker segment)");
        const std::size_t length = b.be16(pos);
        if (length < 2) fail(name, "corrupt JPEG (bad segment length)");
        if (!b.has(pos, length)) fail(name, "truncated JPEG (segment runs past the end of the file)");
        const std::size_t body = pos + 2;
        const std::size_t bodyLength = length - 2;
        const bool isFrame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                             marker != 0xCC;
        if (isFrame) {
            if (bodyLength < 6) fail(name, "corrupt JPEG (short frame header)");
            header.height = b.be16(body + 1);
            header.width = b.be16(body + 3);
            if (header.width == 0 || header.height == 0)
                fail(name, "corrupt JPEG (frame size is zero)");
            frameSeen = true;
        } else if (marker == 0xE1) {
            if (b.startsWith(body, "Exif\0\0", 6) && bodyLength >= 6) {
                addUnique(header.metadata, "EXIF");
                header.orientation = exifOrientation(b.at(body + 6), bodyLength - 6);
            } else if (b.startsWith(body, "http://ns.adobe.com/xap/1.0/")) {
                addUnique(header.metadata, "XMP");
            } else {
                addUnique(header.metadata, "APP1");
            }
        } else if (marker == 0xE0) {
            if (!b.startsWith(body, "JFIF")) addUnique(header.metadata, "APP0");  // JFXX thumbnail etc.
        } else if (marker == 0xE2) {
            addUnique(header.metadata, b.startsWith(body, "ICC_PROFILE") ? "ICC" : "APP2");
        } else if (marker == 0xED) {
            addUnique(header.metadata, "IPTC");
        } else if (marker > 0xE2 && marker <= 0xEF) {
            addUnique(header.metadata, "APP" + std::to_string(marker - 0xE0));
        } else if (marker == 0xFE) {
            addUnique(header.metadata, "comment");
        }
        pos += length;
        if (marker == 0xDA) {  // start of scan: skip entropy-coded data up to the next marker
            if (!frameSeen) fail(name, "corrupt JPEG (scan before frame header)");
            while (true) {
                if (!b.has(pos, 2)) fail(name, "truncated JPEG (image data ends early)");
                if (b.u8(pos) == 0xFF) {
                    const std::uint8_t next = b.u8(pos + 1);
                    if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
                    pos += next == 0xFF ? 1 : 2;
                } else {
                    ++pos;
                }
            }
        }
    }
    if (!frameSeen) fail(name, "corrupt JPEG (no frame header)");
    return header;
}

// ---------------------------------------------------------------- PNG
ImageHeader probePng(const Bytes& b, const std::string& name) {
    ImageHeader header;
    header.format = ImageFormat::Png;
    std::size_t pos = 8;
    bool first = true;
    while (true) {
        if (!b.has(pos, 8)) fail(name, "truncated PNG (ends before the IEND chunk)");
        const std::uint32_t length = b.be32(pos);
        const std::string type(reinterpret_cast<const char*>(b.at(pos + 4)), 4);
        if (length > 0x7FFFFFFFu || !b.has(pos + 8, std::size_t(length) + 4))
            fail(name, "truncated PNG (chunk '" + type + "' runs past the end of the file)");
        const std::size_t data = pos + 8;
        if (first) {
            if (type != "IHDR" || length != 13) fail(name, "corrupt PNG (missing IHDR)");
            header.width = int(std::min<std::uint32_t>(b.be32(data), 0x7FFFFFFF));
            header.height = int(std::min<std::uint32_t>(b.be32(data + 4), 0x7FFFFFFF));
            if (header.width == 0 || header.height == 0) fail(name, "corrupt PNG (size is zero)");
            first = false;
        }
        if (type == "IEND") break;
        if (type == "eXIf") {
            addUnique(header.metadata, "EXIF");
            header.orientation = exifOrientation(b.at(data), length);
        } else if (type == "tEXt" || type == "zTXt" || type == "iTXt") {
            addUnique(header.metadata, type);
        } else if (type == "iCCP" || type == "tIME") {
            addUnique(header.metadata, type);
        } else if (type == "acTL") {
            fail(name, "animated PNG is not supported");
        }
        pos = data + length + 4;
    }
    return header;
}

// ---------------------------------------------------------------- BMP
ImageHeader probeBmp(const Bytes& b, const std::string& name) {
    ImageHeader header;
    header.format = ImageFormat::Bmp;
    if (!b.has(0, 26)) fail(name, "truncated BMP (header incomplete)");
    const std::uint32_t pixelOffset = b.le32(10);
    const std::uint32_t dibSize = b.le32(14);
    std::int64_t width = 0, height = 0;
    std::uint32_t bpp = 0, compression = 0;
    if (dibSize == 12) {
        width = b.le16(18);
        height = b.le16(20);
        bpp = b.le16(24);
    } else if (dibSize >= 40) {
        if (!b.has(0, 14 + 40)) fail(name, "truncated BMP (header incomplete)");
        width = std::int32_t(b.le32(18));
        height = std::int32_t(b.le32(22));
        bpp = b.le16(28);
        compression = b.le32(30);
    } else {
        fail(name, "corrupt BMP (unknown header size " + std::to_string(dibSize) + ")");
    }
    height = height < 0 ? -height : height;
    if (width <= 0 || height <= 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF)
        fail(name, "corrupt BMP (bad size)");
    header.width = int(width);
    header.height = int(height);
    if (compression == 0 || compression == 3) {  // uncompressed: the pixel array size is known
        const std::uint64_t stride = ((std::uint64_t(width) * bpp + 31) / 32) * 4;
        if (bpp == 0 || std::uint64_t(pixelOffset) + stride * std::uint64_t(height) > b.size())
            fail(name, "truncated BMP (pixel data shorter than the header says)");
    } else if (pixelOffset >= b.size()) {
        fail(name, "truncated BMP (no pixel data)");
    }
    return header;
}

// ---------------------------------------------------------------- WebP
ImageHeader probeWebp(const Bytes& b, const std::string& name) {
    ImageHeader header;
    header.format = ImageFormat::WebP;
    const std::uint64_t riffEnd = std::uint64_t(b.le32(4)) + 8;
    if (riffEnd > b.size()) fail(name, "truncated WebP (file shorter than its RIFF size)");
    std::size_t pos = 12;
    bool sized = false;
    while (pos + 8 <= riffEnd) {
        const std::string fourcc(reinterpret_cast<const char*>(b.at(pos)), 4);
        const std::uint32_t length = b.le32(pos + 4);
        const std::size_t data = pos + 8;
        if (!b.has(data, length) || data + length > riffEnd)
            fail(name, "truncated WebP (chunk '" + fourcc + "' runs past the end)");
        if (fourcc == "VP8X" && length >= 10) {
            if (b.u8(data) & 0x02) fail(name, "animated WebP is not supported");
            header.width = int((b.le32(data + 4) & 0xFFFFFF) + 1);
            header.height = int((b.le32(data + 7) & 0xFFFFFF) + 1);
            sized = true;
        } else if (fourcc == "VP8 " && length >= 10 && !sized) {
            if (!(b.u8(data + 3) == 0x9D && b.u8(data + 4) == 0x01 && b.u8(data + 5) == 0x2A))
                fail(name, "corrupt WebP (bad VP8 start code)");
            header.width = b.le16(data + 6) & 0x3FFF;
            header.height = b.le16(data + 8) & 0x3FFF;
            sized = true;
        } else if (fourcc == "VP8L" && length >= 5 && !sized) {
            if (b.u8(data) != 0x2F) fail(name, "corrupt WebP (bad VP8L signature)");
            const std::uint32_t bits = b.le32(data + 1);
            header.width = int((bits & 0x3FFF) + 1);
            header.height = int(((bits >> 14) & 0x3FFF) + 1);
            sized = true;
        } else if (fourcc == "EXIF") {
            addUnique(header.metadata, "EXIF");
            std::size_t skip = b.startsWith(data, "Exif\0\0", 6) ? 6 : 0;
            if (length >= skip) header.orientation = exifOrientation(b.at(data + skip), length - skip);
        } else if (fourcc == "XMP ") {
            addUnique(header.metadata, "XMP");
        } else if (fourcc == "ICCP") {
            addUnique(header.metadata, "ICC");
        } else if (fourcc == "ANIM" || fourcc == "ANMF") {
            fail(name, "animated WebP is not supported");
        }
        pos = data + length + (length & 1);
    }
    if (!sized || header.width <= 0 || header.height <= 0) fail(name, "corrupt WebP (no image chunk)");
    return header;
}

// ---------------------------------------------------------------- TIFF
ImageHeader probeTiff(const Bytes& b, const std::string& name) {
    ImageHeader header;
    header.format = ImageFormat::Tiff;
    Tiff tiff{b};
    std::uint32_t ifd = 0;
    if (!openTiff(tiff, ifd)) {
        if (tiff.u16(2) == 43) fail(name, "BigTIFF is not supported");
        fail(name, "truncated or corrupt TIFF (bad first directory)");
    }
    const std::uint16_t count = tiff.u16(ifd);
    if (!b.has(ifd + 2, std::size_t(count) * 12)) fail(name, "truncated TIFF (directory cut short)");
    std::size_t offsets = 0, counts = 0;
    for (std::uint16_t i = 0; i < count; ++i) {
        const std::size_t entry = ifd + 2 + std::size_t(i) * 12;
        const std::uint16_t tag = tiff.u16(entry);
        std::uint32_t v = 0;
        switch (tag) {
            case 256: if (tiff.value(entry, 0, v)) header.width = int(std::min<std::uint32_t>(v, 0x7FFFFFFF)); break;
            case 257: if (tiff.value(entry, 0, v)) header.height = int(std::min<std::uint32_t>(v, 0x7FFFFFFF)); break;
            case 274: if (tiff.value(entry, 0, v) && v >= 1 && v <= 8) header.orientation = int(v); break;
            case 273: case 324: offsets = entry; break;
            case 279: case 325: counts = entry; break;
            case 700: addUnique(header.metadata, "XMP"); break;
            case 34665: addUnique(header.metadata, "EXIF"); break;
            case 34853: addUnique(header.metadata, "GPS"); break;
            case 33723: addUnique(header.metadata, "IPTC"); break;
            case 34675: addUnique(header.metadata, "ICC"); break;
            case 270: case 305: case 306: case 315: case 33432: addUnique(header.metadata, "TIFF tags"); break;
            default: break;
        }
    }
    // Further pages: the chain of directories (bounded, and loops end it).
    for (std::uint32_t next = tiff.u32(ifd + 2 + std::size_t(count) * 12), steps = 0; next != 0 && steps < 10000; ++steps) {
        if (!b.has(next, 2) || next == ifd) break;
        const std::uint16_t n = tiff.u16(next);
        if (!b.has(next + 2, std::size_t(n) * 12 + 4)) break;
        ++header.pages;
        const std::uint32_t after = tiff.u32(next + 2 + std::size_t(n) * 12);
        if (after <= next) break;  // directories chained backwards could loop
        next = after;
    }
    if (header.width <= 0 || header.height <= 0) fail(name, "corrupt TIFF (no image size)");
    if (!offsets || !counts) fail(name, "corrupt TIFF (no image data)");
    const std::uint32_t n = tiff.u32(offsets + 4);
    if (n != tiff.u32(counts + 4)) fail(name, "corrupt TIFF (strip tables disagree)");
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint32_t offset = 0, length = 0;
        if (!tiff.value(offsets, i, offset) || !tiff.value(counts, i, length))
            fail(name, "truncated TIFF (strip table cut short)");
        if (std::uint64_t(offset) + length > b.size())
            fail(name, "truncated TIFF (image data runs past the end of the file)");
    }
    return header;
}

}  // namespace

const char* formatName(ImageFormat format) {
    switch (format) {
        case ImageFormat::Jpeg: return "JPEG";
        case ImageFormat::Png: return "PNG";
        case ImageFormat::Tiff: return "TIFF";
        case ImageFormat::WebP: return "WebP";
        case ImageFormat::Bmp: return "BMP";
        case ImageFormat::Unknown: break;
    }
    return "unknown";
}

int exifOrientation(const std::uint8_t* data, std::size_t size) {
    Tiff tiff{Bytes(data, size)};
    std::uint32_t ifd = 0;
    if (!openTiff(tiff, ifd)) return 1;
    const std::uint16_t count = tiff.u16(ifd);
    for (std::uint16_t i = 0; i < count; ++i) {
        const std::size_t entry = ifd + 2 + std::size_t(i) * 12;
        if (!tiff.bytes.has(entry, 12)) return 1;
        std::uint32_t v = 0;
        if (tiff.u16(entry) == 274 && tiff.value(entry, 0, v)) return v >= 1 && v <= 8 ? int(v) : 1;
    }
    return 1;
}

ImageHeader probeImage(const std::uint8_t* data, std::size_t size, const std::string& name) {
    const Bytes b(data, size);
    if (size == 0) fail(name, "file is empty (0 bytes)");
    if (b.startsWith(0, "\xFF\xD8")) return probeJpeg(b, name);
    if (b.startsWith(0, "\x89PNG\r\n\x1A\n")) return probePng(b, name);
    if (b.startsWith(0, "BM")) return probeBmp(b, name);
    if (b.startsWith(0, "RIFF") && b.startsWith(8, "WEBP")) return probeWebp(b, name);
    if (b.startsWith(0, "II") || b.startsWith(0, "MM")) return probeTiff(b, name);
    fail(name, "not an image this app reads (JPEG, PNG, TIFF, WebP or BMP expected)");
}

}  // namespace ideu
