// libjpeg decodes a damaged stream with warnings only (and grey where data is missing); this
// decodes it once at 1/8 scale with the warnings caught, so such a file is refused by name.
#include "io/image_probe.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE

#include <jpeglib.h>
#include <jerror.h>

namespace ideu {
namespace {

struct CaughtErrors {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = {0};
    bool damaged = false;
};

[[noreturn]] void onError(j_common_ptr info) {
    auto* e = reinterpret_cast<CaughtErrors*>(info->err);
    (*info->err->format_message)(info, e->message);
    std::longjmp(e->jump, 1);
}

void onMessage(j_common_ptr info, int level) {
    if (level >= 0) return;  // trace messages
    auto* e = reinterpret_cast<CaughtErrors*>(info->err);
    // Stray bytes between segments are common in camera files and harmless.
    if (info->err->msg_code == JWRN_EXTRANEOUS_DATA || e->damaged) return;
    e->damaged = true;
    (*info->err->format_message)(info, e->message);
}

}  // namespace

std::string jpegStreamProblem(const std::uint8_t* data, std::size_t size) {
    jpeg_decompress_struct info;
    CaughtErrors errors;
    info.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = onError;
    errors.manager.emit_message = onMessage;
    // Nothing with a destructor lives between setjmp and the longjmp that may return here.
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&info);
        return errors.message;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
    jpeg_read_header(&info, TRUE);
    info.scale_num = 1;
    info.scale_denom = 8;
    info.dct_method = JDCT_IFAST;
    info.do_fancy_upsampling = FALSE;
    jpeg_start_decompress(&info);
    JSAMPARRAY row = (*info.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&info), JPOOL_IMAGE,
                                               info.output_width * JDIMENSION(info.output_components), 1);
    while (info.output_scanline < info.output_height && !errors.damaged) jpeg_read_scanlines(&info, row, 1);
    if (errors.damaged) jpeg_abort_decompress(&info);
    else jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return errors.damaged ? errors.message : "";
}

}  // namespace ideu
