#pragma once
// File helpers shared by every writer: inputs are never overwritten, writes are atomic.
#include <cstdint>
#include <string>
#include <vector>

namespace ideu {

// Reads a whole file. Throws ImageError-free ideu::Error naming the file on failure;
// refuses files above maxBytes (so a huge file is not pulled into memory by mistake).
std::vector<std::uint8_t> readFileBytes(const std::string& path, std::uint64_t maxBytes);

// Process-wide record of the files the app has read as inputs. Writers consult it so that
// no output can replace an input, whatever path spelling, symlink or hard link is used.
class InputRegistry {
public:
    static void add(const std::string& path);
    static bool contains(const std::string& path);
    static void clear();  // tests only
};

// Writes bytes to `path` atomically: a temporary file in the same folder is written, flushed
// to disk and renamed over the target, so readers see the old file or the new one, never a
// half-written one. Parent folders are created. Refuses (WriteError) when the target is a
// registered input or one of `protectedPaths`, or is a folder.
void writeFileAtomically(const std::string& path, const std::vector<std::uint8_t>& bytes,
                         const std::vector<std::string>& protectedPaths = {});
void writeTextAtomically(const std::string& path, const std::string& text,
                         const std::vector<std::string>& protectedPaths = {});

// True when both paths name the same existing file (device + inode).
bool sameFile(const std::string& a, const std::string& b);

}  // namespace ideu
