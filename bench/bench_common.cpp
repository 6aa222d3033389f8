#include "bench_common.h"

#include "io/image_io.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace ideu::bench {

double median(std::vector<double> values) { return percentile(std::move(values), 0.5); }

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const double pos = p * double(values.size() - 1);
    const std::size_t lo = std::size_t(pos), hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
}

std::vector<std::string> collectImages(const std::vector<std::string>& args) {
    std::vector<std::string> roots = args;
    if (roots.empty()) {
        const char* env = std::getenv("IDEU_SHARED");
        roots.push_back((fs::path(env ? env : IDEU_SHARED_DIR) / "faces").string());
    }
    std::vector<std::string> files;
    for (const std::string& root : roots) {
        std::error_code ec;
        if (fs::is_directory(root, ec)) {
            for (std::string& f : findImages(root)) files.push_back(std::move(f));
        } else {
            files.push_back(root);
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace ideu::bench
