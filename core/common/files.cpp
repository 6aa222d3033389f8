#include "common/files.h"

#include "common/error.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>

namespace fs = std::filesystem;

namespace ideu {
namespace {

struct FileId {
    dev_t device;
    ino_t inode;
    bool operator==(const FileId& o) const { return device == o.device && inode == o.inode; }
};

bool fileId(const std::string& path, FileId& id) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    id = {st.st_dev, st.st_ino};
    return true;
}

std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}
std::vector<FileId>& registry() {
    static std::vector<FileId> ids;
    return ids;
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

std::vector<std::uint8_t> readFileBytes(const std::string& path, std::uint64_t maxBytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw Error("'" + path + "': " + errnoText());
    if (S_ISDIR(st.st_mode)) throw Error("'" + path + "' is a folder, not a file");
    if (std::uint64_t(st.st_size) > maxBytes)
        throw Error("'" + path + "' is " + std::to_string(st.st_size / (1024 * 1024)) +
                    " MiB, above the " + std::to_string(maxBytes / (1024 * 1024)) + " MiB file limit");
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw Error("'" + path + "': " + errnoText());
    std::vector<std::uint8_t> bytes(std::size_t(st.st_size));
    const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), file);
    const bool failed = std::ferror(file);
    std::fclose(file);
    if (failed || got != bytes.size()) throw Error("'" + path + "': read error");
    return bytes;
}

void InputRegistry::add(const std::string& path) {
    FileId id{};
    if (!fileId(path, id)) return;
    std::lock_guard<std::mutex> lock(registryMutex());
    for (const FileId& known : registry())
        if (known == id) return;
    registry().push_back(id);
}

bool InputRegistry::contains(const std::string& path) {
    FileId id{};
    if (!fileId(path, id)) return false;
    std::lock_guard<std::mutex> lock(registryMutex());
    for (const FileId& known : registry())
        if (known == id) return true;
    return false;
}

void InputRegistry::clear() {
    std::lock_guard<std::mutex> lock(registryMutex());
    registry().clear();
}

bool sameFile(const std::string& a, const std::string& b) {
    FileId ia{}, ib{};
    return fileId(a, ia) && fileId(b, ib) && ia == ib;
}

void writeFileAtomically(const std::string& path, const std::vector<std::uint8_t>& bytes,
                         const std::vector<std::string>& protectedPaths) {
    if (path.empty()) throw WriteError("no output path given");
    if (InputRegistry::contains(path))
        throw WriteError("refusing to overwrite input file '" + path + "'");
    for (const std::string& p : protectedPaths)
        if (sameFile(path, p)) throw WriteError("refusing to overwrite input file '" + path + "'");
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw WriteError("'" + path + "' is a folder");

    const fs::path target(path);
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fs::create_directories(parent, ec);
    if (ec) throw WriteError("cannot create folder '" + parent.string() + "': " + ec.message());

    std::string temp = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = ::mkstemp(temp.data());
    if (fd < 0) throw WriteError("cannot write in '" + parent.string() + "': " + errnoText());
    auto fail = [&](const std::string& what) {
        const std::string reason = errnoText();
        ::close(fd);
        ::unlink(temp.c_str());
        throw WriteError("cannot write '" + path + "': " + what + " (" + reason + ")");
    };
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        written += std::size_t(n);
    }
    // Keep the usual permissions of a new file (mkstemp creates 0600).
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    if (::fsync(fd) != 0) fail("flush failed");
    if (::close(fd) != 0) {
        ::unlink(temp.c_str());
        throw WriteError("cannot write '" + path + "': close failed (" + errnoText() + ")");
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string reason = errnoText();
        ::unlink(temp.c_str());
        throw WriteError("cannot write '" + path + "': " + reason);
    }
    const int dirFd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

void writeTextAtomically(const std::string& path, const std::string& text,
                         const std::vector<std::string>& protectedPaths) {
    writeFileAtomically(path, std::vector<std::uint8_t>(text.begin(), text.end()), protectedPaths);
}

}  // namespace ideu
