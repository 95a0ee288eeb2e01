#include "sources/raw_log_reader.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <fstream>

#include "sinks/raw_log_format.h"
#include "support/test_support.h"

namespace furrow::sources {
namespace {
namespace fs = std::filesystem;
namespace rawlog = furrow::sinks::rawlog;

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

std::string segment(const std::vector<std::string>& records) {
  std::string s(rawlog::kMagic);
  for (const auto& r : records) rawlog::append_frame(s, r);
  return s;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 1));
  return out;
}

std::vector<std::string> read_all(RawLogReader& r) {
  std::vector<std::string> out;
  std::string_view rec;
  while (r.next(rec)) out.emplace_back(rec);
  return out;
}

TEST(RawLogReader, ReadsPlainAndCompressedSegmentsInOrder) {
  fs::path dir = test::temp_dir("rawlogreader");
  write_file(dir / rawlog::segment_name(2, true), zstd(segment({"c", "d"})));
  write_file(dir / rawlog::segment_name(1, false), segment({"a", "b"}));
  std::string torn = segment({"e", "f"});
  torn.resize(torn.size() - 1);  // the live segment's last write is cut short
  write_file(dir / rawlog::segment_name(3, false), torn);
  write_file(dir / "00000000000000000004.seg.zst.tmp", "junk");  // interrupted compression
  write_file(dir / "README", "not a segment");
  auto r = RawLogReader::open(dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(read_all(**r), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE((*r)->errors().empty());
  EXPECT_EQ((*r)->torn_tails(), 1u);
  auto one = RawLogReader::open(dir / rawlog::segment_name(2, true));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(read_all(**one), (std::vector<std::string>{"c", "d"}));
  fs::remove_all(dir);
}

TEST(RawLogReader, ReportsCorruptionAndContinuesWithTheNextSegment) {
  fs::path dir = test::temp_dir("rawlogreader");
  std::string bad = segment({"a", "b", "c"});
  bad[rawlog::kMagic.size() + 8 + 1 + 8] ^= 0x40;  // payload of "b"
  write_file(dir / rawlog::segment_name(1, false), bad);
  write_file(dir / rawlog::segment_name(2, false), segment({"z"}));
  write_file(dir / rawlog::segment_name(3, true), "not zstd at all");
  write_file(dir / rawlog::segment_name(4, false), "WRONGMAGIC");
  auto r = RawLogReader::open(dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(read_all(**r), (std::vector<std::string>{"a", "z"}));
  ASSERT_EQ((*r)->errors().size(), 3u);
  EXPECT_NE((*r)->errors()[0].find("corrupt record at byte 17"), std::string::npos)
      << (*r)->errors()[0];
  EXPECT_FALSE(RawLogReader::open(dir / "missing").ok());
  EXPECT_FALSE(RawLogReader::open(dir / rawlog::segment_name(9, false)).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::sources
