#include "support/test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace furrow::test {
namespace {
std::filesystem::path env_path(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return std::filesystem::path(v != nullptr ? v : fallback);
}
}  // namespace

std::filesystem::path shared_dir() {
  return env_path("FURROW_SHARED", "../shared");
}
std::filesystem::path source_dir() {
  return env_path("FURROW_SOURCE_DIR", ".");
}
std::filesystem::path furrow_bin() {
  return env_path("FURROW_BIN", "build/release/furrow");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::filesystem::path temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return std::filesystem::path(tmpl);
}

}  // namespace furrow::test
