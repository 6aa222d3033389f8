#pragma once
// The model manifest (models/manifest.json, compiled in) and the cache that holds the files.
// Every model file is checked against its SHA-256 before first use.
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace ideu {

struct ModelEntry {
    std::string name;
    std::string file;  // relative to the cache, or absolute for system files
    std::string sha256;
    std::string source;
    std::string version;
    std::string licence;
    std::string fetch;  // npm | mirror | system | user | build
    bool optional = false;
};

class ModelStore {
public:
    // The process-wide store; the cache folder is IDEU_MODELS when set, else the build default.
    static ModelStore& instance();
    explicit ModelStore(std::string cacheDir);

    const std::string& cacheDir() const { return cacheDir_; }
    const std::vector<ModelEntry>& entries() const { return entries_; }
    const ModelEntry& entry(const std::string& name) const;  // throws ModelError if unknown
    std::string pathOf(const ModelEntry& entry) const;

    // Path of a verified model file. Throws ModelError with one line saying which file,
    // where it was looked for, and how to get it.
    std::string require(const std::string& name) const;
    bool isAvailable(const std::string& name) const noexcept;

    static std::string howToGet(const ModelEntry& entry);

private:
    std::string cacheDir_;
    std::vector<ModelEntry> entries_;
    mutable std::mutex mutex_;
    mutable std::set<std::string> verified_;  // paths hashed in this process
};

// The manifest JSON text compiled into the binary.
const char* embeddedModelManifest();

// The process's one T, made on first use as T(path of `first`, path of `second`) from the
// model store (the networks that read two manifest files). A load that fails (a missing or
// corrupt file) throws and is tried again on the next call. Thread-safe.
template <class T>
std::shared_ptr<const T> sharedModel(const char* first, const char* second) {
    static std::mutex mutex;
    static std::shared_ptr<const T> instance;
    std::lock_guard<std::mutex> lock(mutex);
    if (!instance) {
        ModelStore& store = ModelStore::instance();
        instance = std::make_shared<T>(store.require(first), store.require(second));
    }
    return instance;
}

}  // namespace ideu
