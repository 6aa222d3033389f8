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
    cv::Vec3f skinColour{0, 0, 0};  // median skin colour, when known
    bool detectOccluders = true;    // look for hair/accessories over the face (X only)
};

class FaceParser {
public:
    virtual ~FaceParser() = default;
    virtual std::string name() const = 0;
    // CV_8U label map of the crop (FaceLabel values).
    virtual cv::Mat parse(const ParsingInput& input) const = 0;
};

// The default parser: features from landmark polygons, the face extent from the mesh, and
// occluders (hair, glasses, hands) as face-area pixels unlike the skin colour.
class MeshLandmarkParser : public FaceParser {
public:
    std::string name() const override { return "mesh"; }
    cv::Mat parse(const ParsingInput& input) const override;
};

// Colour-coded picture of a label map.
cv::Mat colourizeParsing(const cv::Mat& labels);
// The face region (every label but "other") as 0/255.
cv::Mat faceRegion(const cv::Mat& labels);

}  // namespace ideu
