#pragma once
// Face parsing maps for Step II: which pixels of a face crop are skin, brows, eyes, nose,
// lips, mouth interior, and everything else (hair, background, body, accessories). The
// default parser builds them from the fitted mesh and the landmarks; a neural parser
// (BiSeNet) can replace it through the same interface.
#include <Eigen/Core>
#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>

namespace ideu {

enum FaceLabel : std::uint8_t {
    kLabelOther = 0,  // hair, background, body, accessories: kept from X
    kLabelSkin = 1,
    kLabelBrows = 2,
    kLabelEyes = 3,
    kLabelNose = 4,
    kLabelLips = 5,
    kLabelMouth = 6,
};
constexpr int kFaceLabelCount = 7;

const char* faceLabelName(int label);
cv::Vec3b faceLabelColour(int label);  // BGR, for the GUI and stage images

struct ParsingInput {
    cv::Mat image;        // CV_8UC3 crop (X) or CV_32FC3/CV_8UC3 render (X_p)
    cv::Mat faceArea;     // CV_8U: where the face mesh covers the crop (face triangles)
    std::array<Eigen::Vector2d, 68> landmarks;  // in the crop
    // The fitted 3DMM's render of the face (X_f, CV_32FC3, and where it has content): what an
    // unoccluded face would look like here. With it, occluders over the face (hair strands,
    // glasses frames, hands) are found as what the model cannot explain.
    cv::Mat expected, expectedMask;
    // The face wears glasses: a frame's rims, broken into pieces by the features the test
    // leaves out, are kept as occluders round the eyes (see findOccluders).
    bool glasses = false;
};

class FaceParser {
public:
    virtual ~FaceParser() = default;
    virtual std::string name() const = 0;
    // CV_8U label map of the crop (FaceLabel values).
    virtual cv::Mat parse(const ParsingInput& input) const = 0;
};

// The default parser: features from landmark polygons, the face extent from the mesh, and
// occluders (hair, glasses, hands) as face-area pixels the fitted model does not explain
// (see findOccluders).
class MeshLandmarkParser : public FaceParser {
public:
    std::string name() const override { return "mesh"; }
    cv::Mat parse(const ParsingInput& input) const override;
};

// Occluders over the face of `input.image` (CV_8U 0/255): pixels where the photo differs
// from the model's render of the unoccluded face by more than shading and the model's detail
// explain — much darker (hair, dark frames), much lighter (grey hair, bright frames) or of
// another hue (hands, coloured frames) — outside the features the model draws differently by
// design (brows, eyes and their lashes, lips, the mouth, the nostrils). Gaps along thin
// frames are closed; kept are the parts that reach in from the face's edge or run across it
// (longer than half the eye corners' distance): a compact mark inside the face is skin.
cv::Mat findOccluders(const ParsingInput& input);

// Colour-coded picture of a label map.
cv::Mat colourizeParsing(const cv::Mat& labels);
// The face region (every label but "other") as 0/255.
cv::Mat faceRegion(const cv::Mat& labels);

}  // namespace ideu
