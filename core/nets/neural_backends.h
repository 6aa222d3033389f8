#pragma once
// The paper's neural stages as optional backends, used when the user has converted their
// weights (models/convert_weights.py). This header is free of Torch.
//  * BiSeNet replaces the mesh/landmark parser of X (hair, hat, glasses, ears, neck and
//    clothes become real classes).
//  * GFPGAN restores X_l into X' (instead of the multi-band blend).
//  * HeadNeRF renders X_f / X_p from codes fitted on request (slow on a CPU).
#include "parsing/face_parser.h"
#include "restoration/restorer.h"

#include <functional>
#include <memory>
#include <string>

namespace ideu {

struct FittedFace;

enum class ParserBackend { Mesh, BiSeNet };
enum class RestorerBackend { Blend, Gfpgan };
enum class HeadBackend { Mesh, HeadNerf };

struct BackendAvailability {
    bool available = false;
    std::string reason;   // why not, for the GUI's tooltip and the CLI's error
    std::string licence;  // shown when the backend is enabled
};

// Availability of the user's converted weights in the model store.
BackendAvailability bisenetAvailability();
BackendAvailability gfpganAvailability();
BackendAvailability headnerfAvailability();

// Backends built from weight files (a flat {name: tensor} dict written by
// models/convert_weights.py). `configJson` optionally names the network size (the
// converter writes it beside the weights; official sizes are the default).
std::shared_ptr<const FaceParser> makeBiSeNetParser(const std::string& weightsPath);
std::shared_ptr<const Restorer> makeGfpganRestorer(const std::string& weightsPath, const std::string& configJson = {});
// The backends from the model store; throw ModelError with the reason when not installed.
std::shared_ptr<const FaceParser> makeBiSeNetParser();
std::shared_ptr<const Restorer> makeGfpganRestorer();

// HeadNeRF as the Step I head: codes fitted to a face (from the 3DMM fit's pose and light),
// then rendered with the identity part of the code perturbed.
struct HeadNerfCodes {
    std::vector<float> shape;       // identity 100 | expression 79
    std::vector<float> appearance;  // albedo 100 | illumination 27
    std::vector<float> rotation;    // 3x3 camera-to-world, row-major
    std::vector<float> translation; // camera centre
    double loss = 0;
    int steps = 0;
};

class HeadNerfHead {
public:
    explicit HeadNerfHead(const std::string& weightsPath, const std::string& configJson = {});
    ~HeadNerfHead();
    static std::shared_ptr<HeadNerfHead> fromModelStore();

    // Initial codes from the 3DMM fit (mean identity/albedo, the fitted light and pose).
    HeadNerfCodes initialCodes(const FittedFace& face) const;
    // Fits the codes to the face crop by gradient descent; `progress(step, loss)` may return
    // false to cancel (the best codes so far are returned).
    HeadNerfCodes fit(const FittedFace& face, int steps, const std::function<bool(int, double)>& progress = {}) const;
    // The head rendered into the crop: CV_32FC3 image (BGR 0..255) and a CV_8U mask.
    void render(const HeadNerfCodes& codes, int cropSize, cv::Mat& image, cv::Mat& mask) const;
    // z'_id = z_id + n on identity and albedo (expression, illumination and camera kept).
    HeadNerfCodes perturb(const HeadNerfCodes& codes, double scale, std::uint64_t seed, double gain = 3.0) const;
    int imageSize() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ideu
