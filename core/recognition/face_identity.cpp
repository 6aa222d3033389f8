#include "recognition/face_identity.h"

#include "common/error.h"

namespace ideu {
namespace {

std::shared_ptr<const FaceResRecognizer> faceresIfAvailable() {
    try {
        return FaceResRecognizer::shared();
    } catch (const ModelError&) {
        return nullptr;
    }
}

}  // namespace

std::string faceresUnavailableReason() {
    try {
        FaceResRecognizer::shared();
        return {};
    } catch (const ModelError& e) {
        return e.what();
    }
}

std::optional<FaceResOutput> describeFaceRes(const cv::Mat& bgr, const Landmarks68& landmarks) {
    if (const auto faceres = faceresIfAvailable()) return faceres->describe(bgr, landmarks);
    return std::nullopt;
}

FaceIdentity describeIdentity(const cv::Mat& bgr, const Landmarks68& landmarks) {
    FaceIdentity identity;
    identity.dlib = FaceRecognizer::shared()->describe(bgr, landmarks);
    identity.faceres = describeFaceRes(bgr, landmarks);
    return identity;
}

IdentityComparison compareIdentities(const FaceIdentity& a, const FaceIdentity& b) {
    IdentityComparison c;
    c.dlib.available = true;
    c.dlib.threshold = kMatchThreshold;
    c.dlib.distance = descriptorDistance(a.dlib, b.dlib);
    c.dlib.match = c.dlib.distance < c.dlib.threshold;
    c.faceres.threshold = kFaceResThreshold;
    if (a.faceres && b.faceres) {
        c.faceres.available = true;
        c.faceres.distance = cosineDistance(a.faceres->descriptor, b.faceres->descriptor);
        c.faceres.match = c.faceres.distance < c.faceres.threshold;
    }
    return c;
}

std::string verdictText(const IdentityComparison& c) {
    if (!c.faceres.available) return c.dlib.match ? "matched by dlib ResNet (FaceRes unavailable)" : "not matched by dlib ResNet (FaceRes unavailable)";
    if (c.dlib.match && c.faceres.match) return "matched by both";
    if (c.dlib.match) return "matched by dlib ResNet";
    if (c.faceres.match) return "matched by FaceRes";
    return "not matched by either";
}

}  // namespace ideu
