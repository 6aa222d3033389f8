// Renderer speed: the face mesh (9,409 vertices, 18,460 triangles) at 512x512 — rasterisation
// alone and the full textured, SH-shaded render — on a fitted face.
#include "bench_common.h"

#include "deid/fitted_face.h"
#include "face/face_detector.h"
#include "io/image_io.h"

#include <cstdio>
#include <opencv2/core/utility.hpp>
#include <stdexcept>

namespace ideu::bench {

int benchRender(const std::vector<std::string>& args) {
    const auto files = collectImages(args);
    if (files.empty()) throw std::runtime_error("no photo");
    const Image image = loadImage(files.front());
    const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
    if (faces.empty()) throw std::runtime_error("no face in " + files.front());
    const FaceModelContext& context = FaceModelContext::shared();
    const FittedFace face = fitFaceGeometry(context, image.bgr, faces[0]);
    std::vector<double> raster, textured, whole;
    for (int r = 0; r < 30; ++r) {
        RasterBuffers buffers;
        Stopwatch a;
        rasterizeFace(context, face.geometry, face.fit.camera, buffers);
        raster.push_back(a.ms());
        Stopwatch b;
        const RenderedFace render = renderTextured(context, face.geometry, face.fit.camera, face.texture.albedo, face.lighting);
        textured.push_back(b.ms());
        Stopwatch c;
        RasterInput input;
        input.screen = &face.geometry.screen;
        input.triangles = &context.model().triangles;
        rasterize(input, 512, 512, buffers);
        whole.push_back(c.ms());
    }
    std::printf("face mesh at 512x512 (%s, %d threads):\n", files.front().c_str(), cv::getNumThreads());
    std::printf("  rasterise the face area (z-buffer, triangle ids, barycentrics): median %.2f ms\n", median(raster));
    std::printf("  rasterise the whole head mesh (18,460 triangles):             median %.2f ms\n", median(whole));
    std::printf("  textured + SH-shaded render (rasterise included):             median %.2f ms\n", median(textured));
    std::printf("raster_ms=%.2f render_ms=%.2f\n", median(raster), median(textured));
    return 0;
}

}  // namespace ideu::bench
