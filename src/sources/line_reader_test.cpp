#include "sources/line_reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "support/test_support.h"

namespace furrow::sources {
namespace {

std::string write_temp(const std::string& content) {
  auto dir = test::temp_dir("furrow-lr-");
  auto path = (dir / "in.txt").string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

struct Read {
  std::vector<std::string> records;
  std::vector<uint64_t> lines;
  std::vector<bool> cut;
  int batches = 0;
};

Read read_all(const std::string& path, LineReader::Options opt) {
  auto r = LineReader::open(path, opt);
  EXPECT_TRUE(r.ok());
  Read out;
  bool eof = false;
  while (!eof) {
    enrich::RecordBatch b;
    EXPECT_TRUE((*r)->fill(b, eof).ok());
    if (b.size() > 0) ++out.batches;
    for (std::size_t i = 0; i < b.size(); ++i) {
      out.records.emplace_back(b.record(i));
      out.lines.push_back(b.lines[i]);
      out.cut.push_back(b.oversized[i]);
    }
  }
  return out;
}

TEST(LineReader, SplitsLinesAcrossTinyReadBlocks) {
  auto path = write_temp("abc\r\n\nsecond line\nlast-without-newline");
  LineReader::Options opt;
  opt.read_block = 3;
  opt.batch_records = 2;
  auto r = read_all(path, opt);
  EXPECT_EQ(r.records,
            (std::vector<std::string>{"abc", "", "second line", "last-without-newline"}));
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(r.batches, 2);
}

// Batches fill up by bytes in the middle of a line: the line must still arrive whole, in one
// batch (a regression: the part already read was lost and the rest became a record of its own).
TEST(LineReader, NeverSplitsARecordWhenABatchFillsUp) {
  std::string content;
  std::vector<std::string> want;
  for (int i = 0; i < 200; ++i) {
    want.push_back(
        std::string(static_cast<std::size_t>(5 + (i * 7) % 40), static_cast<char>('a' + i % 26)) +
        std::to_string(i));
    content += want.back() + "\n";
  }
  auto path = write_temp(content);
  for (std::size_t block : {1u, 3u, 16u, 4096u}) {
    LineReader::Options opt;
    opt.read_block = block;
    opt.batch_bytes = 20;
    auto r = read_all(path, opt);
    EXPECT_EQ(r.records, want) << "read block " << block;
    EXPECT_GT(r.batches, 50) << "read block " << block;
  }
}

// Carriage returns anywhere (inside lines, before '\n', alone, at the end of the input), read in
// blocks that end at every place, with and without records cut at a size limit: the records are
// the text split at '\n', each without one trailing '\r' unless it was cut.
TEST(LineReader, StripsOneTrailingCarriageReturnWhereverTheReadBlocksEnd) {
  std::mt19937 rng(5);
  for (int round = 0; round < 60; ++round) {
    std::string content;
    const int n = static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) {
      const unsigned k = rng() % 8;
      content.push_back(k < 2 ? '\r' : k < 4 ? '\n' : static_cast<char>('a' + rng() % 3));
    }
    const std::size_t limit = round % 2 == 0 ? 8 << 20 : 1 + rng() % 6;
    std::vector<std::string> want;
    std::vector<bool> want_cut;
    std::size_t start = 0;
    while (start < content.size()) {
      std::size_t end = content.find('\n', start);
      const bool last = end == std::string::npos;
      if (last) end = content.size();
      std::string rec = content.substr(start, end - start);
      const bool cut = rec.size() > limit;
      if (cut) {
        rec.resize(limit);
      } else if (!rec.empty() && rec.back() == '\r') {
        rec.pop_back();
      }
      want.push_back(rec);
      want_cut.push_back(cut);
      start = end + 1;
    }
    auto path = write_temp(content);
    for (std::size_t block : {1u, 2u, 3u, 7u, 4096u}) {
      LineReader::Options opt;
      opt.read_block = block;
      opt.batch_bytes = 16;
      opt.max_record_bytes = limit;
      auto r = read_all(path, opt);
      ASSERT_EQ(r.records, want) << "round " << round << ", read block " << block;
      ASSERT_EQ(r.cut, want_cut) << "round " << round << ", read block " << block;
    }
  }
}

TEST(LineReader, CutsOversizedRecordsAndKeepsGoing) {
  std::string big(100, 'x');
  auto path = write_temp("ok\n" + big + "\nafter\n");
  LineReader::Options opt;
  opt.read_block = 7;
  opt.max_record_bytes = 10;
  auto r = read_all(path, opt);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1], std::string(10, 'x'));
  EXPECT_EQ(r.cut, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(r.records[2], "after");
  EXPECT_EQ(r.lines[2], 3u);
}

TEST(LineReader, EmptyFileHasNoRecords) {
  auto r = read_all(write_temp(""), {});
  EXPECT_TRUE(r.records.empty());
}

TEST(LineReader, ErrorsNameTheFile) {
  auto r = LineReader::open("/nonexistent/dir/input.b64");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dir/input.b64"), std::string::npos);
  auto d = LineReader::open("/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("directory"), std::string::npos);
}

// Each read(2) asks for more than a batch takes (batches of one record, 4 KiB blocks): the bytes
// read past a batch's record are carried to the next batch, and consumed() / input_offset count
// only the records handed out (with their '\n' and '\r'), never bytes read ahead.
TEST(LineReader, CarriesBytesReadAheadAndCountsOnlyRecordsHandedOut) {
  const std::string content = "first\r\nsecond\n\nthird line\nlast";
  auto path = write_temp(content);
  LineReader::Options opt;
  opt.batch_records = 1;
  opt.read_block = 4096;
  auto r = LineReader::open(path, opt);
  ASSERT_TRUE(r.ok());
  const std::vector<std::string> want_records = {"first", "second", "", "third line", "last"};
  const std::vector<uint64_t> want_offsets = {7, 14, 15, 26, 30};
  bool eof = false;
  for (std::size_t i = 0; i < want_records.size(); ++i) {
    ASSERT_FALSE(eof) << i;
    enrich::RecordBatch b;
    ASSERT_TRUE((*r)->fill(b, eof).ok());
    ASSERT_EQ(b.size(), 1u) << i;
    EXPECT_EQ(b.record(0), want_records[i]);
    EXPECT_EQ(b.lines[0], i + 1);
    EXPECT_EQ(b.input_offset, want_offsets[i]) << i;
    EXPECT_EQ((*r)->consumed(), want_offsets[i]) << i;
  }
  EXPECT_TRUE(eof);
}

// A batch reused from the ring (text and vectors cleared, capacity kept) gets the same records as
// a fresh one, also when a line is cut and the next line follows in the same read block.
TEST(LineReader, ReusedBatchesAndCutLinesInOneReadBlock) {
  std::string content;
  std::vector<std::string> want;
  std::vector<bool> want_cut;
  for (int i = 0; i < 300; ++i) {
    const std::size_t len = static_cast<std::size_t>((i * 37) % 50);
    std::string line(len, static_cast<char>('a' + i % 26));
    content += line + (i % 3 == 0 ? "\r\n" : "\n");
    want.push_back(line.substr(0, 32));
    want_cut.push_back(len + (i % 3 == 0 ? 1 : 0) > 32);
  }
  auto path = write_temp(content);
  LineReader::Options opt;
  opt.batch_records = 7;
  opt.batch_bytes = 100;
  opt.max_record_bytes = 32;
  opt.read_block = 64;
  auto r = LineReader::open(path, opt);
  ASSERT_TRUE(r.ok());
  enrich::RecordBatch b;
  std::vector<std::string> got;
  std::vector<bool> got_cut;
  int batches = 0;
  bool eof = false;
  while (!eof) {
    b.clear_input();
    ASSERT_TRUE((*r)->fill(b, eof).ok());
    if (b.size() > 0) ++batches;
    for (std::size_t i = 0; i < b.size(); ++i) {
      got.emplace_back(b.record(i));
      got_cut.push_back(b.oversized[i]);
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(got_cut, want_cut);
  EXPECT_GT(batches, 40);
  EXPECT_EQ((*r)->consumed(), content.size());
}

TEST(LineReader, ReportsSizeAndProgress) {
  auto path = write_temp("a\nbb\nccc\n");
  auto r = LineReader::open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 9u);
  enrich::RecordBatch b;
  bool eof = false;
  ASSERT_TRUE((*r)->fill(b, eof).ok());
  EXPECT_EQ((*r)->consumed(), 9u);
  EXPECT_EQ(b.input_offset, 9u);
}

}  // namespace
}  // namespace furrow::sources
