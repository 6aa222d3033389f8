// ideudemon-bench COMPONENT [args]: prints medians for one component of the pipeline.
#include "bench_common.h"

#include "common/runtime.h"

#include <cstdio>
#include <cstring>

#include <opencv2/core/utility.hpp>
#include <exception>
#include <string>
#include <vector>

namespace {
struct Entry {
    const char* name;
    const char* help;
    int (*run)(const std::vector<std::string>&);
};
const Entry kBenchmarks[] = {
    {"detect", "face detection + landmarks: ms per megapixel, smallest face found [IMAGES]", ideu::bench::benchDetect},
    {"recall", "detection recall on synthetic canvases: face size x roll x canvas MP, mirrored [--min-face PX] [--rolled-min-face PX (0: none)] [--canvases 2,12,24] [--sizes 40,60,100,200] [--rolls 0,30,-30,45,-45] [--save DIR] [IMAGES]", ideu::bench::benchRecall},
    {"fit", "3DMM landmark fit: NME of the 51 inner points (distribution) and time [IMAGES]", ideu::bench::benchFit},
    {"probe", "research probe: Step I alone pasted back, recogniser distance [--scale S] [--seeds N] [--save DIR]", ideu::bench::benchProbe},
    {"nets", "CPU/GPU time of BiSeNet, GFPGAN and HeadNeRF at official sizes [REPEATS]", ideu::bench::benchNets},
    {"recognise", "both recognisers: crop + embed median per face, dlib ResNet and FaceRes [IMAGES]", ideu::bench::benchRecognise},
    {"screen", "appearance builder: screening scores of every gallery photo (NME, turn, mouth, glasses, forehead) [IMAGES]", ideu::bench::benchScreen},
    {"appearance", "appearance model: mean and first modes as UV images, spectrum [OUT_DIR]", ideu::bench::benchAppearance},
    {"render", "renderer: face mesh at 512x512, raster and textured render medians [IMAGE]", ideu::bench::benchRender},
};
}  // namespace

int main(int argc, char** argv) {
    ideu::configureAllocator();
    ideu::configureThreads(0);  // as the applications do: OpenCV's and Torch's pools, one thread per core
    if (argc < 2 || !std::strcmp(argv[1], "--help")) {
        std::printf("Usage: ideudemon-bench COMPONENT [args]\n\nComponents:\n");
        for (const Entry& e : kBenchmarks) std::printf("  %-8s %s\n", e.name, e.help);
        return argc < 2 ? 2 : 0;
    }
    const std::vector<std::string> args(argv + 2, argv + argc);
    for (const Entry& e : kBenchmarks) {
        if (std::strcmp(argv[1], e.name) != 0) continue;
        try {
            return e.run(args);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "ideudemon-bench %s: error: %s\n", e.name, ex.what());
            return 1;
        }
    }
    std::fprintf(stderr, "ideudemon-bench: unknown component '%s'\n", argv[1]);
    return 2;
}
