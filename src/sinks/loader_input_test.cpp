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

TEST_F(LoaderInputTest, FileDigestIsSha256OfTheBytes) {
  auto d = file_digest(write("x", "abc"));
  ASSERT_TRUE(d.ok());
  // FIPS 180-2 appendix B.1: SHA-256("abc").
  EXPECT_EQ(*d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Several read blocks: the same as hashing the bytes in one piece.
  std::string big;
  for (uint64_t i = 0; big.size() < (3u << 20) + 7; ++i) big += std::to_string(i * 7919) + '\t';
  auto d_big = file_digest(write("big", big));
  ASSERT_TRUE(d_big.ok());
  EXPECT_EQ(*d_big, sha256_hex(big));
  auto other = file_digest(write("y", "abd"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *d);
  EXPECT_FALSE(file_digest((dir_ / "missing").string()).ok());
  EXPECT_FALSE(LoaderInput::open((dir_ / "missing").string()).ok());
}

}  // namespace
}  // namespace furrow::sinks
