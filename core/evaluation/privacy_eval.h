#pragma once
// The privacy benchmark (the paper's protocol, extended): for every photo of a folder of
// people and every noise setting, anonymize, then measure with two recognisers (dlib ResNet:
// DIS, match at 0.6; HSE FaceRes: DIS2, match2 at its calibrated threshold) the distance to
// the original and re-identification against the person's other photos, whether a face is
// still detected, PSNR/SSIM on the aligned face crop and the whole photo, landmark error,
// head-pose change, and FaceRes's apparent age and gender (utility: they should stay).
#include "common/cancel.h"
#include "identity/identity_code.h"
#include "parsing/face_parser.h"
#include "restoration/hybrid.h"
#include "restoration/restorer.h"

#include <memory>

#include <functional>
#include <string>
#include <vector>

namespace ideu {

struct EvaluationOptions {
    std::vector<double> scales{0, 0.2, 0.35, 0.5, 0.65, 0.8};
    int seeds = 1;
    int jobs = 1;
    NoiseSettings noise;
    double warpFalloff = HybridOptions().falloff;
    // Optional neural backends (null: the defaults).
    std::shared_ptr<const FaceParser> parser;
    std::shared_ptr<const Restorer> restorer;
};

struct SampleResult {  // one photo at one setting
    std::string person, photo;
    double scale = 0;
    std::uint64_t seed = 0;
    bool detected = false;        // a face found in the output where the subject was
    double dis = 0;               // dlib ResNet distance output <-> original
    bool match = false;           // dis < 0.6
    int reidPairs = 0;            // comparisons with the person's other photos
    int reidMatches = 0;          // ... of which under 0.6
    double dis2 = 0;              // FaceRes cosine distance output <-> original
    bool match2 = false;          // dis2 < kFaceResThreshold
    int reid2Matches = 0;         // re-identification pairs under FaceRes's threshold
    double ageBefore = 0, ageAfter = 0;  // FaceRes apparent age (softmax expectation), years
    bool genderKept = false;      // FaceRes gender on the same side of 0.5
    // The same two by GEAR, a reader trained elsewhere (z'_id's attribute coordinates follow
    // FaceRes's readings, so FaceRes alone could flatter them).
    double age2Before = 0, age2After = 0;
    bool gender2Kept = false;
    double cropPsnr = 0, cropSsim = 0, photoPsnr = 0, photoSsim = 0;
    double landmarkNme = 0;       // output landmarks vs input landmarks, / inter-ocular
    double poseChangeDeg = 0;     // mean |Δ| of yaw, pitch, roll
    double expressionChange = 0;  // RMS change of the fitted expression weights
};

struct SettingSummary {
    double scale = 0;
    int samples = 0;
    double meanDis = 0, sdDis = 0;
    double matchRate = 0;         // of detected samples
    double reidRate = 0;          // pairs under 0.6 / all pairs
    double reidAnyRate = 0;       // photos matching at least one other photo of the person
    double meanDis2 = 0, sdDis2 = 0;  // the same for FaceRes
    double match2Rate = 0, reid2Rate = 0, reid2AnyRate = 0;
    double ageChange = 0;         // mean |Δ apparent age|, years
    double genderKeptRate = 0;
    double ageChange2 = 0, genderKept2Rate = 0;  // by GEAR
    double meanAgeShift = 0, meanAgeShift2 = 0;  // mean signed Δ apparent age (FaceRes, GEAR)
    double detectedRate = 0;
    double cropPsnr = 0, cropSsim = 0, photoPsnr = 0, photoSsim = 0;
    double landmarkNme = 0, poseChangeDeg = 0, expressionChange = 0;
};

struct EvaluationReport {
    std::vector<SampleResult> samples;
    std::vector<SettingSummary> summary;
    int photos = 0, people = 0, skippedNoFace = 0;
    // The original set itself: same-person pairs under each threshold (the recognisers'
    // recall here, the ceiling of re-identification).
    double baselineSameMatch = 0, baselineSameMatch2 = 0;
};

using ProgressCallback = std::function<void(int done, int total)>;

// The photos of FACES_DIR/<person>/<photo>, sorted by path. Throws Error when there are none.
struct PersonPhoto {
    std::string person, path;
};
std::vector<PersonPhoto> collectPersonPhotos(const std::string& facesDir);

EvaluationReport evaluatePrivacy(const std::string& facesDir, const EvaluationOptions& options,
                                 const CancelToken& cancel = {}, const ProgressCallback& progress = {});

std::string reportCsv(const EvaluationReport& report);
std::string reportJson(const EvaluationReport& report, const EvaluationOptions& options);

}  // namespace ideu
