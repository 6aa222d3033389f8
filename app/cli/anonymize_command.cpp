#include "cli/cli_common.h"

#include "common/files.h"
#include "common/runtime.h"
#include "common/sha256.h"
#include "evaluation/identity_check.h"
#include "models/model_store.h"
#include "pipeline/deid_pipeline.h"

#include <QStringList>

#include <limits>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

namespace fs = std::filesystem;

namespace ideu::cli {
namespace {

struct Job {
    std::string input;
    std::string output;
    std::string relative;  // input path relative to its root, for --stages
};

std::string outputName(const fs::path& relative) { return exportName(relative.string()); }

std::set<int> parseFaces(const QString& text) {
    std::set<int> faces;
    if (text == "all") return faces;
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const int i = part.trimmed().toInt(&ok);
        if (!ok || i < 0) throw UsageError("--faces takes 'all' or a list of face numbers such as 0,2");
        faces.insert(i);
    }
    if (faces.empty()) throw UsageError("--faces takes 'all' or a list of face numbers such as 0,2");
    return faces;
}

// "dlib ResNet 0.612 (not matched), FaceRes 0.534 (not matched): not matched by either".
std::string checkText(const IdentityCheck& check) {
    if (!check.detected) return "no face detected in the output";
    const IdentityComparison& c = check.recognisers;
    char text[256];
    if (c.faceres.available)
        std::snprintf(text, sizeof text, "dlib ResNet %.3f (%s), FaceRes %.3f (%s): %s", c.dlib.distance,
                      c.dlib.match ? "matched" : "not matched", c.faceres.distance, c.faceres.match ? "matched" : "not matched",
                      verdictText(c).c_str());
    else
        std::snprintf(text, sizeof text, "dlib ResNet %.3f (%s); FaceRes unavailable: %s", c.dlib.distance,
                      c.dlib.match ? "matched" : "not matched", check.faceresUnavailable.c_str());
    return text;
}

nlohmann::json modelFilesJson() {
    nlohmann::json files = nlohmann::json::array();
    const ModelStore& store = ModelStore::instance();
    for (const ModelEntry& e : store.entries())
        if (!e.optional && e.fetch != "user") files.push_back({{"name", e.name}, {"file", e.file}, {"sha256", e.sha256}, {"licence", e.licence}});
    return files;
}

}  // namespace

int runAnonymize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("INPUT", "Photos or folders (searched recursively).", "INPUT...");
    parser.addOption({{"o", "output"}, "Output file (one input photo) or folder (mirrors the input tree).", "OUT"});
    parser.addOption({"scale", QString("Identity noise scale, 0-%1 (default %2).").arg(kMaxScale).arg(kDefaultScale), "S",
                      QString::number(kDefaultScale)});
    parser.addOption({"seed", "Noise seed (default: a new random seed, printed).", "N"});
    parser.addOption({"faces", "Faces to anonymize: all, or numbers in detection order (largest first), e.g. 0,2.", "LIST", "all"});
    parser.addOption({"stages", "Also write every stage image of every face into DIR.", "DIR"});
    parser.addOption({"sidecar", "Write OUTPUT.json beside each output (settings, face boxes, model hashes)."});
    parser.addOption({"check", "Print both recognisers' distances between each original and anonymized face "
                               "(the sidecar records only that a check was done, never the distances)."});
    parser.addOption({"jobs", "Photos processed in parallel (default 1).", "N", "1"});
    parser.addOption({"quality", "JPEG/WebP quality (default 95).", "Q", "95"});
    addBackendOptions(parser);
    if (!parseArguments(parser, args,
                        "De-identify every face of the given photos.\n"
                        "Exit code 3 when a photo had no face (it is reported and not written).")) return kOk;
    const QStringList inputs = parser.positionalArguments();
    if (inputs.isEmpty()) throw UsageError("expected at least one INPUT");
    if (!parser.isSet("output")) throw UsageError("-o OUT is required");
    DeidSettings settings;
    settings.scale = doubleOption(parser, "scale", 0.0, kMaxScale);
    if (parser.isSet("seed")) {
        settings.seed = std::uint64_t(intOption(parser, "seed", 0, std::numeric_limits<long long>::max()));
    } else {
        std::random_device device;
        settings.seed = (std::uint64_t(device()) << 32 | device()) & 0x7FFFFFFFFFFFFFFFull;
    }
    const std::set<int> selected = parseFaces(parser.value("faces"));
    const int jobsWanted = int(intOption(parser, "jobs", 1, 64));
    const int quality = int(intOption(parser, "quality", 1, 100));
    const fs::path out(utf8(parser.value("output")));
    const std::string stagesDir = parser.isSet("stages") ? utf8(parser.value("stages")) : std::string();
    const Backends backends = backendsFrom(parser);
    const bool check = parser.isSet("check");

    // Expand the inputs into jobs.
    std::vector<Job> jobs;
    const bool single = inputs.size() == 1 && !fs::is_directory(utf8(inputs.front()));
    for (const QString& in : inputs) {
        const fs::path root(utf8(in));
        std::error_code ec;
        if (fs::is_directory(root, ec)) {
            for (const std::string& f : findImages(root.string())) {
                const fs::path rel = fs::relative(f, root);
                jobs.push_back({f, (out / root.filename() / outputName(rel)).string(), (root.filename() / rel).string()});
            }
        } else if (single) {
            fs::path target = out;
            if (fs::is_directory(out, ec) || out.string().back() == '/') target = out / outputName(root.filename());
            jobs.push_back({root.string(), target.string(), root.filename().string()});
        } else {
            jobs.push_back({root.string(), (out / outputName(root.filename())).string(), root.filename().string()});
        }
    }
    if (jobs.empty()) throw UsageError("no photos found in the inputs");

    const int jobCount = std::min<int>(jobsWanted, int(jobs.size()));
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    configureThreads(std::max(1, cores / jobCount));
    std::vector<std::string> protectedInputs;
    for (const Job& j : jobs) protectedInputs.push_back(j.input);

    std::mutex printMutex;
    std::atomic<std::size_t> next{0};
    std::atomic<int> written{0}, noFace{0}, failed{0}, facesDone{0};
    auto worker = [&] {
        for (std::size_t k = next++; k < jobs.size(); k = next++) {
            const Job& job = jobs[k];
            try {
                DeidPipeline pipeline(loadImage(job.input));
                const auto& faces = pipeline.faces();
                applyBackends(pipeline, backends, true);
                if (faces.empty()) {
                    ++noFace;
                    std::lock_guard<std::mutex> lock(printMutex);
                    std::fprintf(stderr, "no face found: %s (not written)\n", job.input.c_str());
                    continue;
                }
                for (int i : selected)
                    if (i >= int(faces.size()))
                        throw Error("face " + std::to_string(i) + " requested but the photo has " + std::to_string(faces.size()));
                std::vector<FaceResult> results;
                const cv::Mat anonymized = pipeline.anonymize(settings, selected, {}, &results);
                ImageSaveOptions saveOptions;
                saveOptions.quality = quality;
                saveOptions.protectedPaths = protectedInputs;
                saveImage(job.output, anonymized, pipeline.photo().alpha, saveOptions);
                if (!stagesDir.empty()) {
                    const fs::path dir = fs::path(stagesDir) / fs::path(job.relative).replace_extension("");
                    for (const FaceResult& r : results) {
                        char prefix[32];
                        std::snprintf(prefix, sizeof prefix, "face_%02d_", r.index);
                        for (const StageImage& s : stageImages(pipeline.context(), r))
                            saveImage((dir / (prefix + s.key + ".png")).string(), s.image, cv::Mat(), saveOptions);
                    }
                }
                if (parser.isSet("sidecar")) {
                    nlohmann::json boxes = nlohmann::json::array();
                    for (const FaceResult& r : results)
                        boxes.push_back({{"face", r.index}, {"box", toJson(faces[std::size_t(r.index)].box)}});
                    const nlohmann::json sidecar = {{"app", "IDEudemon"}, {"version", IDEU_VERSION},
                                                    {"scale", settings.scale}, {"seed", settings.seed},
                                                    {"identity_check", check},
                                                    {"parser", results.front().parser}, {"restorer", results.front().restorer},
                                                    {"head", results.front().head},
                                                    {"faces", boxes}, {"models", modelFilesJson()}};
                    writeTextAtomically(job.output + ".json", sidecar.dump(2) + "\n", protectedInputs);
                }
                if (check) {
                    const cv::Mat output = pipeline.compose(results);
                    for (const FaceResult& r : results) {
                        const std::string line = checkText(checkIdentity(pipeline, r.index, output));
                        std::lock_guard<std::mutex> lock(printMutex);
                        std::printf("%s face %d: distance to the original: %s\n", job.input.c_str(), r.index, line.c_str());
                    }
                }
                if (backends.restorer) {
                    // The paper's intent: restoration must not pull the identity back towards
                    // the original. Compare the recogniser distance before and after it.
                    for (const FaceResult& r : results) {
                        FaceResult unrestored = r;
                        unrestored.final = r.hybrid.hybrid;
                        const IdentityCheck before = checkIdentity(pipeline, r.index, pipeline.compose({unrestored}));
                        const IdentityCheck after = checkIdentity(pipeline, r.index, pipeline.compose({r}));
                        std::lock_guard<std::mutex> lock(printMutex);
                        if (!before.detected || !after.detected) {
                            std::printf("%s face %d: restoration check: no face detected %s\n", job.input.c_str(), r.index,
                                        !after.detected ? "in X' after restoration" : "in X_l");
                        } else {
                            const bool closer = after.recognisers.dlib.distance < before.recognisers.dlib.distance ||
                                                after.recognisers.faceres.distance < before.recognisers.faceres.distance;
                            std::printf("%s face %d: distance to the original before restoration (X_l): %s; after (X', %s): %s; %s\n",
                                        job.input.c_str(), r.index, checkText(before).c_str(), r.restorer.c_str(),
                                        checkText(after).c_str(),
                                        closer ? "restoration moved it back towards the original" : "restoration kept it away");
                        }
                    }
                }
                ++written;
                facesDone += int(results.size());
                std::lock_guard<std::mutex> lock(printMutex);
                std::printf("%s -> %s (%zu face(s))\n", job.input.c_str(), job.output.c_str(), results.size());
                std::fflush(stdout);
            } catch (const std::exception& e) {
                ++failed;
                std::lock_guard<std::mutex> lock(printMutex);
                std::fprintf(stderr, "error: %s\n", e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < jobCount; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();

    std::printf("backends: %s\n", backends.description().c_str());
    std::printf("anonymized %d of %zu photo(s), %d face(s); no face found in %d; errors in %d; scale %.2f, seed %llu\n",
                written.load(), jobs.size(), facesDone.load(), noFace.load(), failed.load(), settings.scale,
                static_cast<unsigned long long>(settings.seed));
    if (failed > 0) return kProcessingError;
    if (noFace > 0) return kNoFace;
    return kOk;
}

}  // namespace ideu::cli
