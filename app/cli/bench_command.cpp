#include "cli/cli_common.h"

#include "common/profile.h"
#include "common/runtime.h"
#include "io/image_io.h"
#include "pipeline/deid_pipeline.h"

#include <opencv2/imgproc.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace ideu::cli {
namespace {

double nowMs() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<std::string> collect(const QStringList& inputs) {
    std::vector<std::string> files;
    for (const QString& in : inputs) {
        const fs::path p(utf8(in));
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (std::string& f : findImages(p.string())) files.push_back(std::move(f));
        } else {
            files.push_back(p.string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// The photo scaled to about one megapixel (the benchmark's reference photo size).
Image toOneMegapixel(const Image& in) {
    Image out = in;
    const double f = std::sqrt(1e6 / double(in.bgr.total()));
    cv::resize(in.bgr, out.bgr, cv::Size(), f, f, f < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    out.alpha.release();
    return out;
}

}  // namespace

int runBench(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("IMAGES", "Photos or folders (default: ../shared/faces).", "[IMAGES...]");
    parser.addOption({"repeat", "Slider re-runs per face (default 5).", "N", "5"});
    if (!parseArguments(parser, args,
                        "Pipeline benchmark: first fit per face, the slider path (re-run after a scale change), "
                        "whole-photo time and throughput on 1-MP photos, peak memory.\n"
                        "The last line is machine-readable.")) return kOk;
    QStringList inputs = parser.positionalArguments();
    if (inputs.isEmpty()) inputs << QString(IDEU_SHARED_DIR) + "/faces";
    const std::vector<std::string> files = collect(inputs);
    if (files.empty()) throw UsageError("no photos found");
    const int repeat = int(intOption(parser, "repeat", 1, 100));
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));

    // Single-photo latencies use every core for one photo (as the GUI does). Photos are
    // decoded one at a time (untimed here), so memory holds one photo, as in a folder run.
    configureThreads(cores);
    std::vector<std::string> readable;
    std::vector<double> fitMs, rerunMs, photoMs, remapMs, layerMs;
    std::map<std::string, std::vector<double>> fitStages, sliderStages, firstRunStages;  // per face
    auto collectStages = [](std::map<std::string, std::vector<double>>& into, double faces) {
        for (const auto& [name, ms] : StageProfile::take()) into[name].push_back(ms / faces);
    };
    StageProfile::enable(true);
    int faces = 0;
    for (const std::string& file : files) {
        Image photo;
        try {
            photo = toOneMegapixel(loadImage(file));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "skipped: %s\n", e.what());
            continue;
        }
        readable.push_back(file);
        // Whole photo: detection, fit, Step I + II, paste, PNG encode.
        const double t0 = nowMs();
        StageProfile::take();
        DeidPipeline pipeline(photo);
        const auto& found = pipeline.faces();
        if (found.empty()) continue;
        const double t1 = nowMs();
        for (std::size_t i = 0; i < found.size(); ++i) pipeline.fitted(int(i));
        const double t2 = nowMs();
        collectStages(fitStages, double(found.size()));
        DeidSettings settings;
        settings.seed = 1;
        std::vector<FaceResult> results;
        const cv::Mat out = pipeline.anonymize(settings, {}, {}, &results);
        encodeImage(out, {}, ImageFormat::Png);
        const double t3 = nowMs();
        // The first Step II run also makes what the slider path then reuses (once per face).
        for (const auto& [name, ms] : StageProfile::take())
            if (name.find("(once per face)") != std::string::npos) firstRunStages[name].push_back(ms / double(found.size()));
        photoMs.push_back(t3 - t0);
        fitMs.push_back((t2 - t1) / double(found.size()));
        faces += int(found.size());
        // The reference operation, one cv::remap of the 512² crop, is timed right after each
        // slider run, so both see the machine in the same state (its speed drifts by tens of
        // per cent within minutes on these shared machines).
        const cv::Mat& crop = results[0].fitted->crop.image;
        cv::Mat mapX(crop.size(), CV_32F), mapY(crop.size(), CV_32F), remapped(crop.size(), crop.type());
        for (int y = 0; y < crop.rows; ++y)
            for (int x = 0; x < crop.cols; ++x) mapX.at<float>(y, x) = x + 0.37f, mapY.at<float>(y, x) = y - 0.21f;
        // The slider path: a new scale (and seed) on the cached fit, then paste.
        for (int r = 0; r < repeat; ++r) {
            settings.scale = 0.05 + 0.35 * (r + 1) / double(repeat + 1);
            StageProfile::take();
            const double a = nowMs();
            std::vector<FaceResult> rerun;
            for (std::size_t i = 0; i < found.size(); ++i) rerun.push_back(pipeline.processFace(int(i), settings));
            const cv::Mat pasted = pipeline.compose(rerun);
            rerunMs.push_back((nowMs() - a) / double(found.size()));
            collectStages(sliderStages, double(found.size()));
            const double b = nowMs();
            cv::remap(crop, remapped, mapX, mapY, cv::INTER_LINEAR);
            remapMs.push_back(nowMs() - b);
            // What the editor's preview does instead of the paste: the faces as layers for a
            // view at half the photo's scale.
            const double c = nowMs();
            pipeline.pasteLayers(rerun, 0.5);
            layerMs.push_back((nowMs() - c) / double(found.size()));
            StageProfile::take();
        }
    }
    if (photoMs.empty()) throw Error("no face in any benchmark photo");
    StageProfile::enable(false);

    // Throughput: one photo per core in parallel, each single-threaded, as `anonymize --jobs`
    // does (decode, scale to 1 MP, detect, fit, anonymize face by face, encode).
    configureThreads(1);
    std::atomic<std::size_t> next{0};
    const double start = nowMs();
    std::vector<std::thread> workers;
    for (int w = 0; w < cores; ++w)
        workers.emplace_back([&] {
            for (std::size_t k = next++; k < readable.size(); k = next++) {
                DeidPipeline pipeline(toOneMegapixel(loadImage(readable[k])));
                if (pipeline.faces().empty()) continue;
                DeidSettings settings;
                encodeImage(pipeline.anonymizeEach(settings, {}, {}, nullptr, true), {}, ImageFormat::Png);
            }
        });
    for (auto& w : workers) w.join();
    const double photosPerSecond = double(readable.size()) / ((nowMs() - start) / 1000.0);
    configureThreads(cores);

    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    const double rssMb = double(usage.ru_maxrss) / 1024.0;
    const double fit = median(fitMs), rerun = median(rerunMs), remap = median(remapMs), photo = median(photoMs);
    std::printf("%zu photos scaled to 1 MP, %d faces, %d cores (%s; %s)\n", photoMs.size(), faces, cores,
                computeDeviceName().c_str(), cpuKernels().c_str());
    std::printf("first fit per face (Step I fit, lighting, texture): median %.1f ms\n", fit);
    std::printf("slider path per face (perturb, render, hybrid, restore, paste): median %.1f ms (p90 %.1f ms)\n", rerun,
                [&] { auto v = rerunMs; std::sort(v.begin(), v.end()); return v[std::size_t(0.9 * double(v.size() - 1))]; }());
    std::printf("one cv::remap of the 512x512 crop: median %.3f ms; slider path / remap = %.1f\n", remap, rerun / remap);
    std::printf("the editor's preview instead of the paste (the faces as layers for a view at half scale): median %.2f ms "
                "per face = %.1f remaps\n", median(layerMs), median(layerMs) / remap);
    std::printf("whole photo (detect, fit, anonymize, encode): median %.1f ms\n", photo);
    std::printf("throughput with %d photos in parallel (decode to encode): %.2f photos/s; peak RSS %.0f MB\n", cores, photosPerSecond, rssMb);
    // Stages in a tree: "P: part" is printed under the stage P (or "P (...)"); a part whose
    // stage is in the other path (the X_f render's parts in the fit) is listed last.
    auto printStages = [&](const char* title, const std::map<std::string, std::vector<double>>& stages, double total) {
        std::printf("%s (median ms per face, share of the path's median, in remaps of the crop; stages marked\n"
                    "\"beside\" run on the second core at the same time as the ones they name):\n", title);
        auto key = [](const std::string& name) { return name.substr(0, name.find(" (")); };
        std::map<std::string, std::string> parentOf;
        for (const auto& [name, v] : stages) {
            const std::size_t colon = name.rfind(": ");
            if (colon == std::string::npos) continue;
            for (const auto& [other, w] : stages)
                if (other != name && key(other) == name.substr(0, colon)) parentOf[name] = other;
        }
        auto line = [&](const std::string& label, double ms) {
            std::printf("  %-58s %8.2f ms %5.1f %% %7.1f remaps\n", label.c_str(), ms, 100 * ms / total, ms / remap);
        };
        std::vector<std::pair<double, std::string>> order;
        for (const auto& [name, v] : stages) order.emplace_back(median(v), name);
        std::sort(order.rbegin(), order.rend());
        std::vector<std::string> orphans;
        for (const auto& [ms, name] : order) {
            if (parentOf.count(name)) continue;
            if (name.find(": ") != std::string::npos && name.rfind("fit: ", 0) != 0 && name.rfind("detect: ", 0) != 0) {
                orphans.push_back(name);
                continue;
            }
            line(name, ms);
            for (const auto& [partMs, part] : order)
                if (parentOf.count(part) && parentOf[part] == name) line("  - " + part.substr(part.rfind(": ") + 2), partMs);
        }
        if (!orphans.empty()) std::printf("  parts of stages above:\n");
        for (const std::string& name : orphans) line("  - " + name, median(stages.at(name)));
    };
    printStages("first fit stages", fitStages, fit);
    printStages("slider path stages", sliderStages, rerun);
    std::printf("made once per face in its first Step II run, then reused by the slider path (median ms per face,\n"
                "in remaps of the crop):\n");
    for (const auto& [name, v] : firstRunStages)
        std::printf("  %-58s %8.2f ms %7.1f remaps\n", name.c_str(), median(v), median(v) / remap);
    std::printf("fit_ms=%.1f rerun_ms=%.1f remap_ratio=%.1f photo_ms=%.1f photos_per_s=%.2f rss_mb=%.0f\n", fit, rerun,
                rerun / remap, photo, photosPerSecond, rssMb);
    return kOk;
}

}  // namespace ideu::cli
