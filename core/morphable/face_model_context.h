#pragma once
// Everything derived once from a morphable model and shared by all faces: the landmark
// fitter, the UV atlas (texel -> triangle + barycentrics), mirror symmetry, and the face
// regions in UV space used for rendering and appearance edits.
#include "fitting/landmark_fitter.h"
#include "morphable/morphable_model.h"
#include "render/rasterizer.h"

#include <opencv2/core.hpp>

#include <memory>
#include <vector>

namespace ideu {

// UV-space labels (CV_8U) of the face regions.
enum UvRegion : std::uint8_t {
    kUvOutside = 0,
    kUvSkin = 1,
    kUvBrowRight = 2,  // subject's right brow (image left in a frontal view)
    kUvBrowLeft = 3,
    kUvEyeRight = 4,
    kUvEyeLeft = 5,
    kUvNose = 6,
    kUvLips = 7,
    kUvMouth = 8,
};

struct UvAtlas {
    int size = 0;
    RasterBuffers texels;  // per texel: triangle id (-1 = not on the mesh) and barycentrics
};

class FaceModelContext {
public:
    explicit FaceModelContext(const MorphableModel& model, int uvSize = 512);
    // Built from the shared ICT model, once.
    static const FaceModelContext& shared();

    const MorphableModel& model() const { return model_; }
    const LandmarkFitter& fitter() const { return fitter_; }
    const UvAtlas& atlas() const { return atlas_; }
    int uvSize() const { return atlas_.size; }

    // Pixel position in the UV image of a texture coordinate (v up, pixel centres at .5).
    cv::Point2f uvToPixel(const Eigen::Vector2f& uv) const {
        return {uv.x() * float(atlas_.size) - 0.5f, (1.f - uv.y()) * float(atlas_.size) - 0.5f};
    }
    // UV-image position of each landmark vertex.
    cv::Point2f landmarkUv(int i) const { return uvToPixel(model_.uv[std::size_t(model_.landmarks[std::size_t(i)])]); }

    const cv::Mat& faceMask() const { return faceMask_; }     // CV_8U, 255 on the rendered face area
    const cv::Mat& regions() const { return regions_; }        // CV_8U UvRegion labels
    const std::vector<std::uint8_t>& faceTriangles() const { return faceTriangles_; }  // triangles rendered
    const std::vector<int>& faceVertices() const { return faceVertices_; }  // vertices of those, ascending
    const std::vector<int>& mirrorVertex() const { return mirror_; }  // x -> -x partner of each vertex
    // The identity modes that are mirror-antisymmetric (most of their displacement changes
    // sign in the mirror: one cheek fuller, the nose or jaw bent to one side). ICT-FaceKit's
    // modes are each either symmetric or antisymmetric.
    const std::vector<int>& antisymmetricIdentityModes() const { return antisymmetricIdentity_; }
    // Texels of the face area within a few texels of the mesh's openings (eyes, mouth): a photo
    // puts eye whites, lashes and teeth there whenever its lids and lips are not exactly where
    // the mesh's are, so they are not albedo to learn or fit (CV_8U, 255 there).
    const cv::Mat& openingRims() const { return openingRims_; }

private:
    const MorphableModel& model_;
    LandmarkFitter fitter_;
    UvAtlas atlas_;
    cv::Mat faceMask_;
    cv::Mat regions_;
    std::vector<std::uint8_t> faceTriangles_;
    std::vector<int> faceVertices_;
    std::vector<int> mirror_;
    std::vector<int> antisymmetricIdentity_;
    cv::Mat openingRims_;
};

}  // namespace ideu
