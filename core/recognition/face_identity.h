#pragma once
// What the product's recognisers read from one face, and their verdicts on two faces. Two
// recognisers of different architectures and crops judge privacy: the dlib ResNet (a tight
// aligned chip: skin appearance, brows, eyes) and HSE FaceRes (a square whole-head crop:
// hair, outline, face shape). A face is protected only when neither links it.
#include "recognition/face_recognizer.h"
#include "recognition/faceres.h"

#include <optional>
#include <string>

namespace ideu {

struct FaceIdentity {
    FaceDescriptor dlib{};
    std::optional<FaceResOutput> faceres;  // absent when FaceRes is not installed
};

// Describes a face with both recognisers (FaceRes is skipped, not an error, when its model
// files are missing: see faceresUnavailableReason()).
FaceIdentity describeIdentity(const cv::Mat& bgr, const Landmarks68& landmarks);

// FaceRes alone; empty when its model files are missing.
std::optional<FaceResOutput> describeFaceRes(const cv::Mat& bgr, const Landmarks68& landmarks);

// Empty when FaceRes loads; otherwise the one-line reason (which file, where, how to get it).
std::string faceresUnavailableReason();

struct RecognizerVerdict {
    bool available = false;
    double distance = 0;
    double threshold = 0;
    bool match = false;  // distance < threshold: the recogniser says "same person"
    double normalised() const { return threshold > 0 ? distance / threshold : 0; }  // 1 = the match line
};

struct IdentityComparison {
    RecognizerVerdict dlib;     // Euclidean distance, threshold 0.6
    RecognizerVerdict faceres;  // cosine distance, threshold kFaceResThreshold
    bool matchedByAny() const { return dlib.match || faceres.match; }
};

IdentityComparison compareIdentities(const FaceIdentity& a, const FaceIdentity& b);

// "not matched by either", "matched by FaceRes", "matched by dlib ResNet", "matched by both"
// (or "... (FaceRes unavailable)").
std::string verdictText(const IdentityComparison& comparison);

}  // namespace ideu
