#pragma once
// Recogniser calibration on a folder of people: every same-person and different-person pair
// of original photos, the ROC of each recogniser, its equal-error rate and the threshold there.
#include "common/cancel.h"

#include <string>
#include <vector>

namespace ideu {

struct RocSummary {
    int samePairs = 0, differentPairs = 0;
    double eer = 0;            // where false rejections = false accepts
    double eerThreshold = 0;   // the distance threshold there ("same" when below)
    double auc = 0;            // P(same-person distance < different-person distance)
    double threshold = 0;      // the operating threshold the product uses
    double trueMatchRate = 0;  // same-person pairs under `threshold`
    double falseMatchRate = 0; // different-person pairs under `threshold`
    double sameMin = 0, sameMax = 0, differentMin = 0;
};

// `same` and `different`: distances of same- and different-person pairs.
RocSummary rocFromDistances(std::vector<double> same, std::vector<double> different, double operatingThreshold);

struct CalibrationReport {
    int photos = 0, people = 0, skippedNoFace = 0;
    RocSummary dlib, faceres;
};

// Detects the largest face of every photo of FACES_DIR/<person>/<photo>, describes it with
// both recognisers and summarises their ROCs.
CalibrationReport calibrateRecognisers(const std::string& facesDir, const CancelToken& cancel = {});

}  // namespace ideu
