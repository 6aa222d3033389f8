// Fuzzes the container probe and the decoder: any bytes must give an image or an ImageError,
// never a crash, hang or out-of-bounds read.
#include "common/error.h"
#include "io/image_io.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> bytes(data, data + size);
    ideu::ImageLoadOptions options;
    options.maxPixels = 4'000'000;  // keep single runs fast
    try {
        const ideu::Image image = ideu::decodeImage(bytes, "fuzz", options);
        (void)image;
    } catch (const ideu::Error&) {
    }
    try {
        (void)ideu::probeImage(data, size, "fuzz");
    } catch (const ideu::Error&) {
    }
    return 0;
}
