// Helpers shared by tests: where the shared test data and the built binary are.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace furrow::test {

// ../shared next to the checkout (FURROW_SHARED); tests only, never the product.
std::filesystem::path shared_dir();
// The repository root (FURROW_SOURCE_DIR).
std::filesystem::path source_dir();
// The built furrow binary (FURROW_BIN).
std::filesystem::path furrow_bin();
// Whole file as bytes; fails the current test when unreadable.
std::string read_file(const std::filesystem::path& path);
// Lines of a file without their '\n'.
std::vector<std::string> read_lines(const std::filesystem::path& path);
// A fresh empty directory under the system temp dir, removed by the caller if wanted.
std::filesystem::path temp_dir(const std::string& prefix);

}  // namespace furrow::test
