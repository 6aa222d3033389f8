#include "models/model_store.h"

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#ifndef IDEU_DEFAULT_MODEL_DIR
#define IDEU_DEFAULT_MODEL_DIR "models/cache"
#endif
#ifndef IDEU_INSTALLED_MODEL_DIR
#define IDEU_INSTALLED_MODEL_DIR "/usr/share/ideudemon/models"
#endif

namespace fs = std::filesystem;

namespace ideu {
namespace {

std::string defaultCacheDir() {
    if (const char* env = std::getenv("IDEU_MODELS"); env && *env) return env;
    std::error_code ec;
    if (fs::is_directory(IDEU_DEFAULT_MODEL_DIR, ec)) return IDEU_DEFAULT_MODEL_DIR;
    // An installed app: the per-user cache filled by ideudemon-fetch-models.
    const char* xdg = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    const fs::path user = xdg && *xdg ? fs::path(xdg) / "ideudemon/models"
                                      : fs::path(home ? home : "/tmp") / ".local/share/ideudemon/models";
    if (fs::is_directory(user, ec)) return user.string();
    if (fs::is_directory(IDEU_INSTALLED_MODEL_DIR, ec)) return IDEU_INSTALLED_MODEL_DIR;
    return IDEU_DEFAULT_MODEL_DIR;
}

// Hashing the 100 MB landmark model costs ~0.4 s, so a verified file leaves a stamp
// (size, mtime, hash) in the cache; an unchanged file is not hashed again.
std::string stampLine(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
}

bool verifiedBefore(const std::string& stampPath, const std::string& stamp, const std::string& sha) {
    std::ifstream in(stampPath);
    std::string line;
    return std::getline(in, line) && line == stamp + " " + sha;
}

}  // namespace

ModelStore& ModelStore::instance() {
    static ModelStore store(defaultCacheDir());
    return store;
}

ModelStore::ModelStore(std::string cacheDir) : cacheDir_(std::move(cacheDir)) {
    const auto manifest = nlohmann::json::parse(embeddedModelManifest());
    for (const auto& m : manifest.at("models")) {
        ModelEntry e;
        e.name = m.at("name");
        e.file = m.at("file");
        e.sha256 = m.value("sha256", "");
        e.source = m.value("source", "");
        e.version = m.value("version", "");
        e.licence = m.value("licence", "");
        e.fetch = m.value("fetch", "");
        e.optional = m.value("optional", false);
        entries_.push_back(e);
    }
}

const ModelEntry& ModelStore::entry(const std::string& name) const {
    for (const ModelEntry& e : entries_)
        if (e.name == name) return e;
    throw ModelError("model '" + name + "' is not in the model manifest");
}

std::string ModelStore::pathOf(const ModelEntry& e) const {
    return fs::path(e.file).is_absolute() ? e.file : (fs::path(cacheDir_) / e.file).string();
}

std::string ModelStore::howToGet(const ModelEntry& e) {
    if (e.fetch == "system") return "install it with 'sudo apt-get install " + e.source.substr(e.source.find(':') + 1) + "'";
    if (e.fetch == "build")
        return "run 'bash packaging/setup.sh' (it builds it from the gallery mirror) or build it from a gallery of your own "
               "with 'ideudemon-cli build-appearance-model GALLERY_DIR -o PACK.json' and set IDEU_MODELS to its cache";
    if (e.fetch == "user")
        return "not installed; convert your own copy of the official weights with 'python3 models/convert_weights.py " + e.name +
               " CHECKPOINT' (see models/README.md)";
    return "run 'bash packaging/setup.sh' (or set IDEU_MODELS to a folder that has it)";
}

std::string ModelStore::require(const std::string& name) const {
    const ModelEntry& e = entry(name);
    const std::string path = pathOf(e);
    std::lock_guard<std::mutex> lock(mutex_);
    if (verified_.count(path)) return path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw ModelError("model file '" + e.file + "' not found at '" + path + "': " + howToGet(e));
    // A pack built here: its reader checks the binary against the SHA-256 its header records.
    if (e.fetch == "build") {
        verified_.insert(path);
        return path;
    }
    // Weights the user converted: their hash is recorded beside them by the converter.
    std::string expected = e.sha256;
    if (e.fetch == "user") {
        std::ifstream in(path + ".json");
        try {
            expected = nlohmann::json::parse(in).at("sha256").get<std::string>();
        } catch (const std::exception&) {
            throw ModelError("model file '" + path + "' has no record '" + path + ".json': " + howToGet(e));
        }
    }
    const std::string stamp = stampLine(path);
    const std::string stampPath = (fs::path(cacheDir_) / ".verified" / (e.name + ".sha256")).string();
    if (!verifiedBefore(stampPath, stamp, expected)) {
        const std::string actual = sha256File(path);
        if (actual != expected)
            throw ModelError("model file '" + path + "' is corrupt (SHA-256 " + actual.substr(0, 12) +
                             "…, expected " + expected.substr(0, 12) + "…): " + howToGet(e));
        try {
            writeTextAtomically(stampPath, stamp + " " + expected + "\n");
        } catch (const Error&) {
            // A read-only cache only costs the hash next time.
        }
    }
    verified_.insert(path);
    return path;
}

bool ModelStore::isAvailable(const std::string& name) const noexcept {
    try {
        require(name);
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace ideu
