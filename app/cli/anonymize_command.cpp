#include "cli/cli_common.h"

#include "common/files.h"
#include "common/runtime.h"
#include "common/sha256.h"
#include "evaluation/identity_check.h"
#include "models/model_store.h"
#include "pipeline/deid_pipeline.h"

#include <QStringList>

#include <unistd.h>

#include <limits>

#include <atomic>
#include <functional>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace ideu::cli {
namespace {

struct Job {
    std::string input;
    std::string output;
    std::string relative;  // input path below the inputs' common folder, for --stages
};

// Set by SIGINT/SIGTERM: the photos being processed are finished, no new one is started, and
// the summary is printed. A second signal ends the process at once (the default action).
std::atomic<int> stopSignal{0};
extern "C" void onStopSignal(int signal) {
    stopSignal = signal;
    std::signal(signal, SIG_DFL);
}

// The folder every input lies in: a folder input's parent, a file's folder.
fs::path commonFolder(const std::vector<fs::path>& inputs) {
    fs::path common;
    for (const fs::path& in : inputs) {
        std::error_code ec;
        const fs::path folder = fs::weakly_canonical(fs::absolute(in), ec).parent_path();
        if (common.empty()) {
            common = folder;
            continue;
        }
        fs::path shared;
        for (auto a = common.begin(), b = folder.begin(); a != common.end() && b != folder.end() && *a == *b; ++a, ++b)
            shared /= *a;
        common = shared;
    }
    return common;
}

// Removes the temporary files an interrupted run left in `folder` (the atomic writer's
// ".NAME.tmp-XXXXXX"); returns how many.
int removeStaleTemporaries(const fs::path& folder) {
    int removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const auto mark = name.rfind(".tmp-");
        if (name.size() < 2 || name[0] != '.' || mark == std::string::npos || name.size() != mark + 11) continue;
        std::error_code removeError;
        if (it->is_regular_file(removeError) && fs::remove(it->path(), removeError)) ++removed;
    }
    return removed;
}

// Progress on a terminal: one line rewritten in place; elsewhere nothing (each photo prints
// its own line).
class Progress {
public:
    Progress(std::size_t total, bool terminal) : total_(total), terminal_(terminal), start_(std::chrono::steady_clock::now()) {}
    bool terminal() const { return terminal_; }
    // Called with the print lock held.
    void update(std::size_t done, int faces) {
        if (!terminal_) return;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        char eta[32] = "--";
        if (done > 0 && done < total_) {
            const int s = int(elapsed / double(done) * double(total_ - done));
            std::snprintf(eta, sizeof eta, "%d:%02d", s / 60, s % 60);
        } else if (done == total_) {
            std::snprintf(eta, sizeof eta, "0:00");
        }
        std::fprintf(stdout, "\r\033[K%zu/%zu photo(s), %d face(s), ETA %s", done, total_, faces, eta);
        std::fflush(stdout);
        shown_ = true;
    }
    // Before any other line: ends the progress line.
    void clear() {
        if (terminal_ && shown_) std::fprintf(stdout, "\r\033[K"), std::fflush(stdout);
    }

private:
    std::size_t total_;
    bool terminal_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_;
};

std::set<int> parseFaces(const QString& text) {
    std::set<int> faces;
    if (text == "all") return faces;
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const int i = part.trimmed().toInt(&ok);
        if (!ok || i < 0 || i > 100000) throw UsageError("--faces takes 'all' or a list of face numbers such as 0,2");
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

using Say = std::function<void(std::FILE*, const std::string&)>;

struct JobSettings {
    DeidSettings deid;
    std::set<int> selected;
    ImageSaveOptions save;
    std::string stagesDir;
    bool sidecar = false, check = false, photoLines = true;
    Backends backends;
};

struct FaceCounts {
    std::atomic<int> anonymized{0}, cautioned{0}, blurred{0}, unselected{0};
};

// Anonymizes one photo's faces one at a time (each face's images are dropped once it is pasted,
// so memory does not grow with the number of faces), writes the output, its stages and
// sidecar, and reports every face that was not anonymized.
void processJob(const Job& job, DeidPipeline& pipeline, const JobSettings& js, const Say& say, FaceCounts& counts) {
    struct Done {
        int index;
        std::string parser, restorer, head;
    };
    std::vector<Done> done;
    std::vector<FaceOutcome> outcomes;
    const cv::Mat anonymized = pipeline.anonymizeEach(
        js.deid, js.selected,
        [&](const FaceResult& r) {
            done.push_back({r.index, r.parser, r.restorer, r.head});
            if (!js.stagesDir.empty()) {
                const fs::path dir = fs::path(js.stagesDir) / fs::path(job.relative).replace_extension("");
                char prefix[32];
                std::snprintf(prefix, sizeof prefix, "face_%02d_", r.index);
                for (const StageImage& s : stageImages(pipeline.context(), r))
                    saveImage((dir / (prefix + s.key + ".png")).string(), s.image, cv::Mat(), js.save);
            }
            if (js.backends.restorer && !r.blurred) {
                // The paper's intent: restoration must not pull the identity back towards the
                // original. Compare the recogniser distance before and after it.
                FaceResult unrestored = r;
                unrestored.final = r.hybrid.hybrid;
                const IdentityCheck before = checkIdentity(pipeline, r.index, pipeline.compose({unrestored}));
                const IdentityCheck after = checkIdentity(pipeline, r.index, pipeline.compose({r}));
                std::string line = job.input + " face " + std::to_string(r.index) + ": ";
                if (!before.detected || !after.detected) {
                    line += std::string("restoration check: no face detected ") + (!after.detected ? "in X' after restoration" : "in X_l");
                } else {
                    const bool closer = after.recognisers.dlib.distance < before.recognisers.dlib.distance ||
                                        after.recognisers.faceres.distance < before.recognisers.faceres.distance;
                    line += "distance to the original before restoration (X_l): " + checkText(before) + "; after (X', " + r.restorer +
                            "): " + checkText(after) + "; " +
                            (closer ? "restoration moved it back towards the original" : "restoration kept it away");
                }
                say(stdout, line);
            }
        },
        &outcomes, true);
    saveImage(job.output, anonymized, pipeline.photo().alpha, js.save);

    const auto& faces = pipeline.faces();
    int anonymizedFaces = 0, blurredFaces = 0;
    nlohmann::json boxes = nlohmann::json::array();
    for (const FaceOutcome& o : outcomes) {
        switch (o.protection) {
            case FaceProtection::Anonymized:
                ++anonymizedFaces;
                if (!o.caution.empty()) {
                    ++counts.cautioned;
                    say(stderr, job.input + ": face " + std::to_string(o.index) + " anonymized, with a caution: " + o.caution);
                }
                break;
            case FaceProtection::Blurred:
                ++blurredFaces;
                say(stderr, job.input + ": face " + std::to_string(o.index) + " blurred, not anonymized: " + o.reason);
                break;
            case FaceProtection::NotSelected:
                ++counts.unselected;
                say(stderr, job.input + ": face " + std::to_string(o.index) + " left unchanged: not selected with --faces");
                break;
        }
        if (o.protection != FaceProtection::NotSelected) {
            nlohmann::json face = {{"face", o.index}, {"box", toJson(faces[std::size_t(o.index)].box)}, {"protection", protectionName(o.protection)}};
            if (!o.caution.empty()) face["caution"] = o.caution;
            boxes.push_back(std::move(face));
        }
    }
    counts.anonymized += anonymizedFaces;
    counts.blurred += blurredFaces;
    if (js.sidecar) {
        const Done first = done.empty() ? Done{-1, "none", "none", "none"} : done.front();
        const nlohmann::json sidecar = {{"app", "IDEudemon"}, {"version", IDEU_VERSION},
                                        {"scale", js.deid.scale}, {"seed", js.deid.seed},
                                        {"identity_check", js.check},
                                        {"parser", first.parser}, {"restorer", first.restorer}, {"head", first.head},
                                        {"faces", boxes}, {"models", modelFilesJson()}};
        writeTextAtomically(job.output + ".json", sidecar.dump(2) + "\n", js.save.protectedPaths);
    }
    if (js.check)
        for (const FaceOutcome& o : outcomes)
            if (o.protection != FaceProtection::NotSelected)
                say(stdout, job.input + " face " + std::to_string(o.index) +
                                ": distance to the original: " + checkText(checkIdentity(pipeline, o.index, anonymized)));
    if (js.photoLines) {
        std::string line = job.input + " -> " + job.output + " (" + std::to_string(anonymizedFaces) + " face(s)";
        if (blurredFaces) line += ", " + std::to_string(blurredFaces) + " blurred";
        say(stdout, line + ")");
    }
}

}  // namespace

int runAnonymize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("INPUT", "Photos or folders (searched recursively).", "INPUT...");
    parser.addOption({{"o", "output"},
                      "Output file (one input photo) or folder: the inputs' folders are mirrored below it, from the "
                      "folder they all lie in; a name taken twice gets a numbered suffix.",
                      "OUT"});
    parser.addOption({"scale", QString("Identity noise scale, 0-%1 (default %2).").arg(kMaxScale).arg(kDefaultScale), "S",
                      QString::number(kDefaultScale)});
    parser.addOption({"seed", "Noise seed (default: a new random seed, printed).", "N"});
    parser.addOption({"faces", "Faces to anonymize: all, or numbers in detection order (largest first), e.g. 0,2.", "LIST", "all"});
    parser.addOption({"min-face", "Smallest face side to find, in pixels, at any photo size (default 40, at least 20).", "PX", "40"});
    parser.addOption({"strict", "Exit 1 when any face could only be blurred, not anonymized."});
    parser.addOption({"skip-existing", "Leave photos whose output already exists (resumes an interrupted run)."});
    parser.addOption({"stages", "Also write every stage image of every face into DIR.", "DIR"});
    parser.addOption({"sidecar", "Write OUTPUT.json beside each output (settings, face boxes, model hashes)."});
    parser.addOption({"check", "Print both recognisers' distances between each original and anonymized face "
                               "(the sidecar records only that a check was done, never the distances)."});
    parser.addOption({"jobs", "Photos processed in parallel (default 1).", "N", "1"});
    parser.addOption({"quality", "JPEG/WebP quality (default 95).", "Q", "95"});
    addBackendOptions(parser);
    if (!parseArguments(parser, args,
                        "De-identify every face of the given photos.\n"
                        "A face the 3-D model cannot fit (turned to profile, a failed fit) is blurred instead, and "
                        "reported.\nExit code 1 on errors (and with --strict when a face was only blurred), 3 when a "
                        "photo had no face (it is reported and not written), 130/143 after SIGINT/SIGTERM.")) return kOk;
    // Everything the user typed is checked before any photo is read.
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
    DetectionOptions detection;
    detection.minFaceSize = doubleOption(parser, "min-face", 20, 10000);
    const int jobsWanted = int(intOption(parser, "jobs", 1, 64));
    const int quality = int(intOption(parser, "quality", 1, 100));
    const bool strict = parser.isSet("strict"), skipExisting = parser.isSet("skip-existing");
    const fs::path out(utf8(parser.value("output")));
    const std::string stagesDir = parser.isSet("stages") ? utf8(parser.value("stages")) : std::string();
    const bool check = parser.isSet("check");
    std::vector<fs::path> inputPaths;
    for (const QString& in : inputs) inputPaths.emplace_back(utf8(in));
    std::error_code ec;
    const bool single = inputPaths.size() == 1 && !fs::is_directory(inputPaths.front(), ec);
    const bool outIsFolder = !single || fs::is_directory(out, ec) || out.string().back() == '/';
    if (!outIsFolder && formatForPath(out.string()) == ImageFormat::Unknown)
        throw UsageError("'" + out.string() + "': unknown output format (use .png, .jpg, .jpeg or .webp)");
    if (outIsFolder && fs::exists(out, ec) && !fs::is_directory(out, ec))
        throw UsageError("'" + out.string() + "' is a file; with several photos -o names a folder");
    const Backends backends = backendsFrom(parser);

    // Expand the inputs into jobs: the tree below the inputs' common folder is mirrored into
    // OUT, and a name taken twice (x.tif and x.png both export as x.png) gets a suffix.
    std::vector<Job> jobs;
    std::vector<std::string> problems;
    const fs::path common = commonFolder(inputPaths);
    std::set<std::string> taken, seenInputs;
    auto addJob = [&](const fs::path& file, const fs::path& target) {
        std::error_code canonicalError;
        const std::string real = fs::weakly_canonical(file, canonicalError).string();
        if (!seenInputs.insert(real).second) {
            problems.push_back(file.string() + ": given twice, processed once");
            return;
        }
        const fs::path rel = fs::weakly_canonical(fs::absolute(file), canonicalError).lexically_relative(common);
        jobs.push_back({file.string(), uniqueOutputPath(target.empty() ? out / exportName(rel.string()) : target, taken), rel.string()});
    };
    for (const fs::path& root : inputPaths) {
        if (fs::is_directory(root, ec)) {
            for (const std::string& f : findImages(root.string(), &problems, out.string())) addJob(f, {});
        } else {
            addJob(root, outIsFolder ? fs::path() : out);
        }
    }
    if (jobs.empty()) throw UsageError("no photos found in the inputs");

    const int jobCount = std::min<int>(jobsWanted, int(jobs.size()));
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    configureThreads(std::max(1, cores / jobCount));
    std::vector<std::string> protectedInputs;
    for (const Job& j : jobs) protectedInputs.push_back(j.input);
    std::set<fs::path> outputFolders;
    for (const Job& j : jobs) outputFolders.insert(fs::path(j.output).parent_path());
    for (const fs::path& folder : outputFolders)
        if (const int removed = removeStaleTemporaries(folder))
            std::fprintf(stderr, "%s: removed %d temporary file(s) left by an interrupted run\n", folder.string().c_str(), removed);
    for (const std::string& p : problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
    if (outIsFolder)
        std::printf("output: %zu photo(s); folders below %s mirrored into %s; a name taken twice gets a numbered suffix (-2, -3, ...)%s\n",
                    jobs.size(), common.string().c_str(), out.string().c_str(), skipExisting ? "; existing outputs are left as they are" : "");

    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    Progress progress(jobs.size(), isatty(STDOUT_FILENO) == 1);
    std::mutex printMutex;
    std::atomic<std::size_t> next{0}, finished{0};
    std::atomic<int> written{0}, noFace{0}, failed{0}, skipped{0};
    FaceCounts counts;
    JobSettings js;
    js.deid = settings;
    js.selected = selected;
    js.save.quality = quality;
    js.save.protectedPaths = protectedInputs;
    js.stagesDir = stagesDir;
    js.sidecar = parser.isSet("sidecar");
    js.check = check;
    js.photoLines = !progress.terminal();
    js.backends = backends;
    // A line about one photo (stdout) or a warning (stderr), under the print lock.
    auto say = [&](std::FILE* stream, const std::string& line) {
        std::lock_guard<std::mutex> lock(printMutex);
        progress.clear();
        std::fprintf(stream, "%s\n", line.c_str());
        std::fflush(stream);
    };
    auto worker = [&] {
        for (std::size_t k = next++; k < jobs.size() && !stopSignal; k = next++) {
            const Job& job = jobs[k];
            try {
                if (skipExisting && fs::exists(job.output)) {
                    ++skipped;
                    if (!progress.terminal()) say(stdout, job.input + ": skipped, " + job.output + " exists");
                } else {
                    Image photo = loadImage(job.input);
                    if (photo.header.pages > 1)
                        say(stderr, job.input + ": note: a TIFF of " + std::to_string(photo.header.pages) +
                                        " pages; only the first page is processed and written");
                    DeidPipeline pipeline(std::move(photo), detection);
                    const auto& faces = pipeline.faces();
                    for (const RejectedCandidate& r : pipeline.rejected()) {
                        char text[320];
                        std::snprintf(text, sizeof text, "%s: note: the area at x=%.0f y=%.0f w=%.0f h=%.0f was not taken for a face (%s)",
                                      job.input.c_str(), r.box.x, r.box.y, r.box.width, r.box.height, r.reason.c_str());
                        say(stderr, text);
                    }
                    applyBackends(pipeline, backends, true);
                    if (faces.empty()) {
                        ++noFace;
                        say(stderr, "no face found: " + job.input + " (not written)");
                    } else {
                        for (int i : selected)
                            if (i >= int(faces.size()))
                                throw Error(job.input + ": face " + std::to_string(i) + " requested with --faces but the photo has " +
                                            std::to_string(faces.size()) + " face(s) (0-" + std::to_string(faces.size() - 1) + ")");
                        processJob(job, pipeline, js, say, counts);
                        ++written;
                    }
                }
            } catch (const std::exception& e) {
                ++failed;
                say(stderr, std::string("error: ") + e.what());
            }
            ++finished;
            std::lock_guard<std::mutex> lock(printMutex);
            progress.update(finished, counts.anonymized + counts.blurred);
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < jobCount; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    progress.clear();

    std::printf("backends: %s\n", backends.description().c_str());
    if (stopSignal)
        std::printf("interrupted by %s: the photo(s) in progress were finished; %zu photo(s) not started\n",
                    stopSignal == SIGINT ? "SIGINT" : "SIGTERM", jobs.size() - finished.load());
    std::printf("anonymized %d of %zu photo(s): %d face(s) anonymized (%d with a caution), %d blurred (not anonymized), "
                "%d not selected; no face found in %d; errors in %d; skipped %d; scale %.2f, seed %llu\n",
                written.load(), jobs.size(), counts.anonymized.load(), counts.cautioned.load(), counts.blurred.load(), counts.unselected.load(), noFace.load(),
                failed.load(), skipped.load(), settings.scale, static_cast<unsigned long long>(settings.seed));
    std::fflush(stdout);
    if (stopSignal) return 128 + stopSignal;
    if (failed > 0) return kProcessingError;
    if (strict && counts.blurred > 0) {
        std::fprintf(stderr, "--strict: %d face(s) could only be blurred\n", counts.blurred.load());
        return kProcessingError;
    }
    if (noFace > 0) return kNoFace;
    return kOk;
}

}  // namespace ideu::cli
