#include "sinks/loader_input.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>

#include "sinks/loader.h"
#include "support/test_support.h"

namespace furrow::sinks {
namespace {

class LoaderInputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = furrow::test::temp_dir("furrow_loader_input"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  static std::vector<std::string> read_all(const std::string& path, Status& error) {
    auto in = LoaderInput::open(path);
    EXPECT_TRUE(in.ok());
    std::vector<std::string> out;
    std::string_view line;
    while ((*in)->next(line, error)) out.emplace_back(line);
    return out;
  }
  std::filesystem::path dir_;
};

std::string text_with_long_lines() {
  std::string s;
  for (int i = 0; i < 24; ++i) {
    s += std::string(static_cast<std::size_t>(i) * 50'000, static_cast<char>('a' + i % 26));
    s += '\n';
  }
  s += "last line without newline";
  return s;
}

TEST_F(LoaderInputTest, ReadsPlainLinesAcrossBlocks) {
  const std::string text = text_with_long_lines();
  Status err;
  auto lines = read_all(write("a.tsv", text), err);
  ASSERT_TRUE(err.ok()) << err.message();
  ASSERT_EQ(lines.size(), 25u);
  EXPECT_EQ(lines[0], "");
  EXPECT_EQ(lines[23].size(), 23u * 50'000);
  EXPECT_EQ(lines[24], "last line without newline");
}

TEST_F(LoaderInputTest, ReadsZstdAndRejectsATruncatedStream) {
  const std::string text = text_with_long_lines();
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  Status err;
  auto lines = read_all(write("a.tsv.zst", z), err);
  ASSERT_TRUE(err.ok()) << err.message();
  ASSERT_EQ(lines.size(), 25u);
  EXPECT_EQ(lines[24], "last line without newline");
  EXPECT_EQ(lines[20], std::string(20u * 50'000, 'u'));

  Status trunc;
  read_all(write("cut.zst", z.substr(0, z.size() / 2)), trunc);
  EXPECT_FALSE(trunc.ok());

  std::string garbage = z.substr(0, 8) + std::string(100, '\x7f');
  Status bad;
  read_all(write("bad.zst", garbage), bad);
  EXPECT_FALSE(bad.ok());
}

TEST_F(LoaderInputTest, FileDigestIsBlake2bOfTheBytes) {
  auto d = file_digest(write("x", "abc"));
  ASSERT_TRUE(d.ok());
  // RFC 7693 appendix A: BLAKE2b-512("abc"), first 32 bytes.
  EXPECT_EQ(*d, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto other = file_digest(write("y", "abd"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *d);
  EXPECT_FALSE(file_digest((dir_ / "missing").string()).ok());
  EXPECT_FALSE(LoaderInput::open((dir_ / "missing").string()).ok());
}

}  // namespace
}  // namespace furrow::sinks
