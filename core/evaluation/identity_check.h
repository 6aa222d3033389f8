#pragma once
// Library calls for the GUI's privacy readout and plot: both recognisers' distances between a
// face in the original photo and the same face in an anonymized photo, and a sweep of those
// distances over noise scales for one face. Both are cancellable.
#include "common/cancel.h"
#include "pipeline/deid_pipeline.h"
#include "recognition/face_identity.h"

#include <functional>
#include <utility>
#include <vector>

namespace ideu {

struct IdentityCheck {
    bool detected = false;            // a face was found in the output where the original was
    IdentityComparison recognisers;   // dlib ResNet and FaceRes verdicts (when detected)
    std::string faceresUnavailable;   // why FaceRes gave no verdict, when it did not
};

// Detects the face again in `output` near face `face` of the pipeline's photo (searching only
// around it, scaled so the face is at most kCheckFaceSide pixels) and compares what both
// recognisers read from the two faces.
constexpr double kCheckFaceSide = 200;
IdentityCheck checkIdentity(DeidPipeline& pipeline, int face, const cv::Mat& output, const CancelToken& cancel = {});

struct SweepPoint {
    double scale = 0;
    IdentityCheck check;
};

// Anonymizes face `face` alone at each scale (seed fixed) and checks it; `progress` is called
// after each point.
std::vector<SweepPoint> identitySweep(DeidPipeline& pipeline, int face, const DeidSettings& settings,
                                      const std::vector<double>& scales, const CancelToken& cancel = {},
                                      const std::function<void(const SweepPoint&)>& progress = {});

}  // namespace ideu
