#include "evaluation/calibration.h"

#include "evaluation/privacy_eval.h"
#include "face/face_detector.h"
#include "io/image_io.h"
#include "recognition/face_identity.h"

#include <algorithm>
#include <cmath>

namespace ideu {

RocSummary rocFromDistances(std::vector<double> same, std::vector<double> different, double operatingThreshold) {
    RocSummary roc;
    roc.samePairs = int(same.size());
    roc.differentPairs = int(different.size());
    roc.threshold = operatingThreshold;
    if (same.empty() || different.empty()) return roc;
    std::sort(same.begin(), same.end());
    std::sort(different.begin(), different.end());
    roc.sameMin = same.front();
    roc.sameMax = same.back();
    roc.differentMin = different.front();
    const double ns = double(same.size()), nd = double(different.size());
    auto under = [](const std::vector<double>& sorted, double t) {
        return double(std::lower_bound(sorted.begin(), sorted.end(), t) - sorted.begin());
    };
    roc.trueMatchRate = under(same, operatingThreshold) / ns;
    roc.falseMatchRate = under(different, operatingThreshold) / nd;
    // Candidate thresholds: midway between consecutive distinct distances of either set.
    std::vector<double> all = same;
    all.insert(all.end(), different.begin(), different.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    double best = 2;
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
        const double t = 0.5 * (all[i] + all[i + 1]);
        const double falseReject = 1 - under(same, t) / ns, falseAccept = under(different, t) / nd;
        if (std::abs(falseReject - falseAccept) < best) {
            best = std::abs(falseReject - falseAccept);
            roc.eer = 0.5 * (falseReject + falseAccept);
            roc.eerThreshold = t;
        }
    }
    // AUC by ranks (Mann-Whitney), ties counted half.
    double wins = 0;
    for (double d : same) {
        const auto lo = std::lower_bound(different.begin(), different.end(), d);
        const auto hi = std::upper_bound(different.begin(), different.end(), d);
        wins += double(different.end() - hi) + 0.5 * double(hi - lo);
    }
    roc.auc = wins / (ns * nd);
    return roc;
}

CalibrationReport calibrateRecognisers(const std::string& facesDir, const CancelToken& cancel) {
    CalibrationReport report;
    FaceResRecognizer::shared();  // a missing model fails here, once
    std::vector<std::pair<std::string, FaceIdentity>> items;
    for (const PersonPhoto& photo : collectPersonPhotos(facesDir)) {
        cancel.check();
        const Image image = loadImage(photo.path);
        const auto faces = FaceDetector::shared()->detect(image.bgr).faces;
        if (faces.empty()) {
            ++report.skippedNoFace;
            continue;
        }
        items.emplace_back(photo.person, describeIdentity(image.bgr, faces[0].landmarks));
    }
    std::vector<double> same[2], different[2];
    std::vector<std::string> people;
    for (std::size_t i = 0; i < items.size(); ++i) {
        people.push_back(items[i].first);
        for (std::size_t j = i + 1; j < items.size(); ++j) {
            const IdentityComparison c = compareIdentities(items[i].second, items[j].second);
            auto& bucket = items[i].first == items[j].first ? same : different;
            bucket[0].push_back(c.dlib.distance);
            bucket[1].push_back(c.faceres.distance);
        }
    }
    std::sort(people.begin(), people.end());
    report.photos = int(items.size());
    report.people = int(std::unique(people.begin(), people.end()) - people.begin());
    report.dlib = rocFromDistances(same[0], different[0], kMatchThreshold);
    report.faceres = rocFromDistances(same[1], different[1], kFaceResThreshold);
    return report;
}

}  // namespace ideu
