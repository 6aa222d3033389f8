#pragma once
// Builds the appearance model from a gallery of frontal face photos of nobody: each photo is
// detected and fitted with the 3-D model like any photo, screened (see GalleryScreening),
// and its albedo sampled into UV with the shading divided out (only where the z-buffer sees
// the surface; the unseen side mirror-filled). Then a PCA of the relative albedos, each face's
// coefficients, and the detail bank. Deterministic: the same gallery gives the same bytes.
#include "appearance/appearance_model.h"
#include "appearance/face_screening.h"
#include "common/cancel.h"
#include "deid/fitted_face.h"

#include <functional>
#include <string>
#include <vector>

namespace ideu {

// The builder's revision, recorded in every pack it writes (`info.builder`). Raise it with
// any change that moves a pack's bytes: setup rebuilds a pack made from the same gallery by
// another revision (models/manifest.json names the current one). A pack's own bytes also
// depend on the CPU's vector units (OpenCV and Torch choose their kernels at run time), so
// the revision, not the SHA-256, says which builder made it.
constexpr int kAppearanceBuilderRevision = 5;

// Why a gallery photo is left out; empty when it is used. How each is detected:
//  - no face / several faces: dlib's detector finds none, or a second face at least 40 % of
//    the first one's width;
//  - bad fit: the 3-D model's landmark error (NME of the 51 inner points) above 0.045;
//  - turned: |yaw| or |pitch| of the fitted head above 20°;
//  - mouth open: the inner lips apart by more than 20 % of the mouth's width;
//  - glasses: a frame's bridge between the eyes (a horizontal edge across the nose bridge,
//    where skin is smooth) together with a rim under an eye (see face_screening.h);
//  - hair or a hat over the brows: more than a third of the forehead band just above the brows
//    darker than the cheeks' skin (by 12 L*), of another colour (25 in a*b*) or textured like
//    strands (L* varying by more than 6 within 5 pixels); a paler or shinier forehead is skin.
struct GalleryScreening {
    double maxNme = 0.045;
    double maxTurnDegrees = 20;
    double maxMouthOpening = 0.2;
    double glassesThreshold = kGlassesThreshold;
    double maxForeheadCover = 0.33;
};

struct GalleryVerdict {
    std::string file;    // file name in the gallery
    std::string reason;  // empty: accepted
};

struct AppearanceBuildOptions {
    int components = 0;  // 0: as many as explain 98 % of the variance, at most kMaxAppearanceComponents
    int uvSize = 256;    // the PCA's UV grid (the atlas is 512)
    int detailUvSize = 512;
    int jobs = 1;        // photos fitted in parallel
    GalleryScreening screening;
};
constexpr int kMaxAppearanceComponents = 120;

struct AppearanceBuildResult {
    AppearanceModel model;
    std::vector<GalleryVerdict> verdicts;  // every gallery photo, in file order
    nlohmann::json info;                   // what goes into the pack's header
};

// `progress(done, total)` after each photo. Throws Error when no photo is usable.
AppearanceBuildResult buildAppearanceModel(const std::string& galleryDir, const AppearanceBuildOptions& options,
                                           const std::function<void(int, int)>& progress = {},
                                           const CancelToken& cancel = {});

}  // namespace ideu
