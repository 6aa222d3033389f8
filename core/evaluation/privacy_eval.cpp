#include "evaluation/privacy_eval.h"

#include "align/face_align.h"
#include "common/parallel.h"
#include "common/error.h"
#include "evaluation/image_metrics.h"
#include "io/image_io.h"
#include "pipeline/deid_pipeline.h"
#include "recognition/face_identity.h"
#include "recognition/gear.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace ideu {
namespace {

using Photo = PersonPhoto;

struct PhotoOutcome {
    bool hasFace = false;
    FaceIdentity original;
    GearOutput originalGear;
    std::vector<SampleResult> samples;
    std::vector<FaceIdentity> outputs;  // one per sample (empty when not detected)
};

}  // namespace

std::vector<PersonPhoto> collectPersonPhotos(const std::string& dir) {
    std::vector<Photo> photos;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error("'" + dir + "' is not a folder (expected one folder per person)");
    for (const auto& person : fs::directory_iterator(dir)) {
        if (!person.is_directory()) continue;
        for (const auto& f : fs::directory_iterator(person.path())) {
            if (f.is_regular_file() && hasImageExtension(f.path().string()))
                photos.push_back({person.path().filename().string(), f.path().string()});
        }
    }
    std::sort(photos.begin(), photos.end(), [](const Photo& a, const Photo& b) { return a.path < b.path; });
    if (photos.empty()) throw Error("no photos in '" + dir + "' (expected FACES_DIR/<person>/<photo>)");
    return photos;
}

namespace {

Landmarks68 toCropLandmarks(const FaceAlignment& a, const Landmarks68& p) {
    Landmarks68 out;
    for (int i = 0; i < 68; ++i) out[std::size_t(i)] = toCrop(a, p[std::size_t(i)]);
    return out;
}

PhotoOutcome evaluatePhoto(const Photo& photo, const EvaluationOptions& options, const CancelToken& cancel) {
    PhotoOutcome outcome;
    DeidPipeline pipeline(loadImage(photo.path));
    const auto& faces = pipeline.faces(cancel);
    if (faces.empty()) return outcome;
    outcome.hasFace = true;
    const auto detector = FaceDetector::shared();
    const FaceModelContext& context = pipeline.context();
    const DetectedFace& subject = faces[0];
    const cv::Mat& original = pipeline.photo().bgr;
    outcome.original = pipeline.originalIdentity(0, cancel);
    const auto gear = GearEstimator::shared();
    auto readGear = [&](const cv::Mat& bgr, const Landmarks68& landmarks) {
        return gear->estimateCrops({faceResCrop(bgr, faceResBox(landmarks))}).front();
    };
    outcome.originalGear = readGear(original, subject.landmarks);
    const auto fitted = pipeline.fitted(0, cancel);
    const Eigen::Vector3d poseBefore = fitted->fit.pose.anglesDegrees();
    const double io = lm::interOcular(subject.landmarks);

    for (double scale : options.scales)
        for (int s = 0; s < options.seeds; ++s) {
            cancel.check();
            DeidSettings settings;
            settings.scale = scale;
            settings.seed = std::uint64_t(s + 1);
            settings.noise = options.noise;
            settings.hybrid.falloff = options.warpFalloff;
            settings.parser = options.parser;
            settings.restorer = options.restorer;
            const cv::Mat output = pipeline.anonymize(settings, {}, cancel);
            SampleResult r;
            r.person = photo.person;
            r.photo = photo.path;
            r.scale = scale;
            r.seed = settings.seed;
            const AlignedCrop before = fitted->crop;
            const AlignedCrop after = alignFace(output, fitted->crop.alignment);
            r.cropPsnr = psnr(before.image, after.image);
            r.cropSsim = ssim(before.image, after.image);
            r.photoPsnr = psnr(original, output);
            r.photoSsim = ssim(original, output);
            FaceIdentity identity;
            const auto found = detector->detect(output).faces;
            if (const DetectedFace* match = sameFace(found, subject.box)) {
                r.detected = true;
                identity = describeIdentity(output, match->landmarks);
                const IdentityComparison c = compareIdentities(identity, outcome.original);
                r.dis = c.dlib.distance;
                r.match = c.dlib.match;
                r.dis2 = c.faceres.distance;
                r.match2 = c.faceres.match;
                r.ageBefore = outcome.original.faceres->ageYears();
                r.ageAfter = identity.faceres->ageYears();
                r.genderKept = identity.faceres->male() == outcome.original.faceres->male();
                const GearOutput gearAfter = readGear(output, match->landmarks);
                r.age2Before = outcome.originalGear.ageYears();
                r.age2After = gearAfter.ageYears();
                r.gender2Kept = gearAfter.isMale() == outcome.originalGear.isMale();
                double sum = 0;
                for (int i = 0; i < 68; ++i) sum += cv::norm(match->landmarks[std::size_t(i)] - subject.landmarks[std::size_t(i)]);
                r.landmarkNme = sum / 68.0 / std::max(io, 1e-9);
                // Pose and expression of the output, fitted in the same crop frame.
                const FaceFit fit = context.fitter().fit(toCropLandmarks(fitted->crop.alignment, match->landmarks),
                                                        fitted->fit.camera);
                const Eigen::Vector3d poseAfter = fit.pose.anglesDegrees();
                r.poseChangeDeg = (poseAfter - poseBefore).cwiseAbs().mean();
                r.expressionChange = std::sqrt((fit.expression - fitted->fit.expression).squaredNorm() /
                                               std::max<Eigen::Index>(1, fit.expression.size()));
            }
            outcome.samples.push_back(r);
            outcome.outputs.push_back(identity);
        }
    return outcome;
}

double meanOf(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / double(v.size());
}

double sdOf(const std::vector<double>& v, double mean) {
    double var = 0;
    for (double d : v) var += (d - mean) * (d - mean);
    return v.size() > 1 ? std::sqrt(var / double(v.size() - 1)) : 0;
}

}  // namespace

EvaluationReport evaluatePrivacy(const std::string& facesDir, const EvaluationOptions& options, const CancelToken& cancel,
                                 const ProgressCallback& progress) {
    const std::vector<Photo> photos = collectPersonPhotos(facesDir);
    FaceResRecognizer::shared();  // both recognisers are needed: a missing model fails here, once
    std::vector<PhotoOutcome> outcomes(photos.size());
    forEachOnWorkers(
        photos.size(), options.jobs, [&](std::size_t k) { outcomes[k] = evaluatePhoto(photos[k], options, cancel); },
        [&](std::size_t k) { return photos[k].path; }, progress, cancel);

    EvaluationReport report;
    std::map<std::string, std::vector<std::size_t>> byPerson;
    for (std::size_t k = 0; k < photos.size(); ++k) {
        if (!outcomes[k].hasFace) {
            ++report.skippedNoFace;
            continue;
        }
        byPerson[photos[k].person].push_back(k);
        ++report.photos;
    }
    report.people = int(byPerson.size());
    int samePairs = 0, sameMatches = 0, sameMatches2 = 0;
    for (const auto& [person, ks] : byPerson)
        for (std::size_t i = 0; i < ks.size(); ++i)
            for (std::size_t j = i + 1; j < ks.size(); ++j) {
                ++samePairs;
                const IdentityComparison c = compareIdentities(outcomes[ks[i]].original, outcomes[ks[j]].original);
                sameMatches += c.dlib.match;
                sameMatches2 += c.faceres.match;
            }
    report.baselineSameMatch = samePairs ? double(sameMatches) / samePairs : 0;
    report.baselineSameMatch2 = samePairs ? double(sameMatches2) / samePairs : 0;

    // Re-identification: each output against the original photos of the same person.
    for (const auto& [person, ks] : byPerson)
        for (std::size_t k : ks)
            for (std::size_t s = 0; s < outcomes[k].samples.size(); ++s) {
                SampleResult r = outcomes[k].samples[s];
                if (r.detected)
                    for (std::size_t other : ks) {
                        if (other == k) continue;
                        ++r.reidPairs;
                        const IdentityComparison c = compareIdentities(outcomes[k].outputs[s], outcomes[other].original);
                        r.reidMatches += c.dlib.match;
                        r.reid2Matches += c.faceres.match;
                    }
                report.samples.push_back(r);
            }

    for (double scale : options.scales) {
        SettingSummary sum;
        sum.scale = scale;
        std::vector<double> dis, dis2, cp, cs, pp, ps, nme, pose, expr, age, age2, shift, shift2;
        int detected = 0, matches = 0, pairs = 0, pairMatches = 0, reidPhotos = 0, reidAny = 0;
        int matches2 = 0, pairMatches2 = 0, reidAny2 = 0, genderKept = 0, genderKept2 = 0;
        for (const SampleResult& r : report.samples) {
            if (std::abs(r.scale - scale) > 1e-9) continue;
            ++sum.samples;
            cp.push_back(r.cropPsnr);
            cs.push_back(r.cropSsim);
            pp.push_back(r.photoPsnr);
            ps.push_back(r.photoSsim);
            if (!r.detected) continue;
            ++detected;
            dis.push_back(r.dis);
            dis2.push_back(r.dis2);
            matches += r.match;
            matches2 += r.match2;
            age.push_back(std::abs(r.ageAfter - r.ageBefore));
            genderKept += r.genderKept;
            age2.push_back(std::abs(r.age2After - r.age2Before));
            shift.push_back(r.ageAfter - r.ageBefore);
            shift2.push_back(r.age2After - r.age2Before);
            genderKept2 += r.gender2Kept;
            nme.push_back(r.landmarkNme);
            pose.push_back(r.poseChangeDeg);
            expr.push_back(r.expressionChange);
            pairs += r.reidPairs;
            pairMatches += r.reidMatches;
            pairMatches2 += r.reid2Matches;
            if (r.reidPairs > 0) {
                ++reidPhotos;
                reidAny += r.reidMatches > 0;
                reidAny2 += r.reid2Matches > 0;
            }
        }
        sum.meanDis = meanOf(dis);
        sum.sdDis = sdOf(dis, sum.meanDis);
        sum.matchRate = detected ? double(matches) / detected : 0;
        sum.reidRate = pairs ? double(pairMatches) / pairs : 0;
        sum.reidAnyRate = reidPhotos ? double(reidAny) / reidPhotos : 0;
        sum.meanDis2 = meanOf(dis2);
        sum.sdDis2 = sdOf(dis2, sum.meanDis2);
        sum.match2Rate = detected ? double(matches2) / detected : 0;
        sum.reid2Rate = pairs ? double(pairMatches2) / pairs : 0;
        sum.reid2AnyRate = reidPhotos ? double(reidAny2) / reidPhotos : 0;
        sum.ageChange = meanOf(age);
        sum.genderKeptRate = detected ? double(genderKept) / detected : 0;
        sum.ageChange2 = meanOf(age2);
        sum.genderKept2Rate = detected ? double(genderKept2) / detected : 0;
        sum.meanAgeShift = meanOf(shift);
        sum.meanAgeShift2 = meanOf(shift2);
        sum.detectedRate = sum.samples ? double(detected) / sum.samples : 0;
        sum.cropPsnr = meanOf(cp);
        sum.cropSsim = meanOf(cs);
        sum.photoPsnr = meanOf(pp);
        sum.photoSsim = meanOf(ps);
        sum.landmarkNme = meanOf(nme);
        sum.poseChangeDeg = meanOf(pose);
        sum.expressionChange = meanOf(expr);
        report.summary.push_back(sum);
    }
    return report;
}

std::string reportCsv(const EvaluationReport& report) {
    std::ostringstream out;
    out << "person,photo,scale,seed,detected,dis,match,reid_pairs,reid_matches,dis2,match2,reid2_matches,age_before,"
           "age_after,gender_kept,age2_before,age2_after,gender2_kept,crop_psnr,crop_ssim,photo_psnr,photo_ssim,landmark_nme,pose_change_deg,expression_change\n";
    out.setf(std::ios::fixed);
    out.precision(4);
    for (const SampleResult& r : report.samples)
        out << r.person << ',' << '"' << r.photo << '"' << ',' << r.scale << ',' << r.seed << ',' << int(r.detected) << ','
            << r.dis << ',' << int(r.match) << ',' << r.reidPairs << ',' << r.reidMatches << ',' << r.dis2 << ','
            << int(r.match2) << ',' << r.reid2Matches << ',' << r.ageBefore << ',' << r.ageAfter << ',' << int(r.genderKept)
            << ',' << r.age2Before << ',' << r.age2After << ',' << int(r.gender2Kept) << ',' << r.cropPsnr << ','
            << r.cropSsim << ',' << r.photoPsnr << ',' << r.photoSsim << ',' << r.landmarkNme << ',' << r.poseChangeDeg
            << ',' << r.expressionChange << '\n';
    return out.str();
}

std::string reportJson(const EvaluationReport& report, const EvaluationOptions& options) {
    char recogniser2[96];
    std::snprintf(recogniser2, sizeof recogniser2, "HSE FaceRes (human-models 3.0.4), cosine distance, match threshold %.4f",
                  kFaceResThreshold);
    nlohmann::json summary = nlohmann::json::array();
    for (const SettingSummary& s : report.summary)
        summary.push_back({{"scale", s.scale},
                           {"samples", s.samples},
                           {"dis_mean", s.meanDis},
                           {"dis_sd", s.sdDis},
                           {"match_rate", s.matchRate},
                           {"reid_pair_rate", s.reidRate},
                           {"reid_any_rate", s.reidAnyRate},
                           {"dis2_mean", s.meanDis2},
                           {"dis2_sd", s.sdDis2},
                           {"match2_rate", s.match2Rate},
                           {"reid2_pair_rate", s.reid2Rate},
                           {"reid2_any_rate", s.reid2AnyRate},
                           {"age_change_years", s.ageChange},
                           {"gender_kept_rate", s.genderKeptRate},
                           {"age_shift_years", s.meanAgeShift},
                           {"age_change2_years", s.ageChange2},
                           {"age_shift2_years", s.meanAgeShift2},
                           {"gender_kept2_rate", s.genderKept2Rate},
                           {"detected_rate", s.detectedRate},
                           {"crop_psnr", s.cropPsnr},
                           {"crop_ssim", s.cropSsim},
                           {"photo_psnr", s.photoPsnr},
                           {"photo_ssim", s.photoSsim},
                           {"landmark_nme", s.landmarkNme},
                           {"pose_change_deg", s.poseChangeDeg},
                           {"expression_change", s.expressionChange}});
    // The settings the outputs were made with, so a report says what it measured.
    const nlohmann::json settings = {{"components", enabledIdentityComponents(options.noise)},
                                     {"shape_gain", options.noise.shapeGain},
                                     {"albedo_gain", options.noise.albedoGain},
                                     {"noise_clip", options.noise.noiseClip},
                                     {"code_clip", options.noise.codeClip},
                                     {"detail_full_scale", options.noise.detailFullScale},
                                     {"warp_falloff", options.warpFalloff},
                                     {"parser", options.parser ? options.parser->name() : MeshLandmarkParser().name()},
                                     {"restorer", options.restorer ? options.restorer->name() : BlendRestorer().name()}};
    return nlohmann::json{{"recogniser", "dlib ResNet (face-api 1.7.15 port), match threshold 0.6"},
                          {"recogniser2", recogniser2},
                          {"attributes", "apparent age and gender by FaceRes's heads; age2, gender2 by GEAR (human-models 3.0.4)"},
                          {"photos", report.photos},
                          {"people", report.people},
                          {"skipped_no_face", report.skippedNoFace},
                          {"seeds", options.seeds},
                          {"settings", settings},
                          {"baseline_same_person_match_rate", report.baselineSameMatch},
                          {"baseline_same_person_match2_rate", report.baselineSameMatch2},
                          {"summary", summary}}
        .dump(2);
}

}  // namespace ideu
