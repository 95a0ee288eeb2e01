#include "run/tailer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "run/checkpoint.h"
#include "sinks/raw_log.h"
#include "sinks/raw_log_format.h"
#include "support/test_support.h"

namespace furrow::run {
namespace {

namespace fs = std::filesystem;
namespace rawlog = sinks::rawlog;

void append_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::app);
  f << bytes;
}

std::string frame(std::string_view payload) {
  std::string s;
  rawlog::append_frame(s, payload);
  return s;
}

std::vector<std::string> drain(RawLogTailer& t) {
  std::vector<std::string> out;
  std::string_view rec;
  for (;;) {
    auto n = t.next(rec);
    if (n == RawLogTailer::Next::kRecord) {
      out.emplace_back(rec);
    } else if (n == RawLogTailer::Next::kWait) {
      break;
    }
  }
  return out;
}

TEST(RawLogTailer, FollowsAGrowingSegmentAndWaitsOnATornTail) {
  const fs::path dir = test::temp_dir("run-tailer");
  const fs::path seg = dir / rawlog::segment_name(1, false);
  append_file(seg, std::string(rawlog::kMagic) + frame("a") + frame("bb"));
  RawLogTailer t(dir, {});
  EXPECT_EQ(drain(t), (std::vector<std::string>{"a", "bb"}));
  // Half a record: not written yet, so nothing comes out and the position stays put.
  const std::string c = frame("ccc");
  append_file(seg, c.substr(0, 5));
  const LogPosition before = t.position();
  EXPECT_TRUE(drain(t).empty());
  EXPECT_EQ(t.position(), before);
  append_file(seg, c.substr(5));
  EXPECT_EQ(drain(t), (std::vector<std::string>{"ccc"}));
  EXPECT_EQ(t.position().segment, 1u);
  EXPECT_EQ(t.position().offset, fs::file_size(seg));
  EXPECT_TRUE(t.errors().empty());
  fs::remove_all(dir);
}

TEST(RawLogTailer, MovesToTheNextSegmentAndResumesFromAPosition) {
  const fs::path dir = test::temp_dir("run-tailer");
  append_file(dir / rawlog::segment_name(3, false),
              std::string(rawlog::kMagic) + frame("1") + frame("2"));
  append_file(dir / rawlog::segment_name(4, false), std::string(rawlog::kMagic) + frame("3"));
  RawLogTailer t(dir, {});
  std::string_view rec;
  ASSERT_EQ(t.next(rec), RawLogTailer::Next::kRecord);
  EXPECT_EQ(rec, "1");
  const LogPosition mid = t.position();
  EXPECT_EQ(drain(t), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(t.position().segment, 4u);
  // A new tailer from the saved position sees exactly the records after it.
  RawLogTailer again(dir, mid);
  EXPECT_EQ(drain(again), (std::vector<std::string>{"2", "3"}));
  // Consumed segments can go; a position in a removed segment starts at the next one.
  RawLogTailer::remove_segments_before(dir, 4);
  EXPECT_FALSE(fs::exists(dir / rawlog::segment_name(3, false)));
  RawLogTailer after(dir, mid);
  EXPECT_EQ(drain(after), (std::vector<std::string>{"3"}));
  fs::remove_all(dir);
}

TEST(RawLogTailer, SkipsTheCorruptRestOfASealedSegmentAndReportsIt) {
  const fs::path dir = test::temp_dir("run-tailer");
  std::string bad = frame("xyz");
  bad[9] ^= 1;  // checksum no longer matches
  append_file(dir / rawlog::segment_name(1, false),
              std::string(rawlog::kMagic) + frame("ok") + bad + frame("lost"));
  append_file(dir / rawlog::segment_name(2, false), std::string(rawlog::kMagic) + frame("next"));
  RawLogTailer t(dir, {});
  EXPECT_EQ(drain(t), (std::vector<std::string>{"ok", "next"}));
  ASSERT_EQ(t.errors().size(), 1u);
  EXPECT_NE(t.errors()[0].find("corrupt"), std::string::npos);
  fs::remove_all(dir);
}

TEST(RawLogTailer, ReadsWhatTheRawLogSinkWrites) {
  const fs::path dir = test::temp_dir("run-tailer");
  sinks::RawLogOptions lo;
  lo.dir = dir;
  lo.compress = false;
  lo.segment_max_bytes = 300;  // several segments
  sinks::QueuedSinkOptions q;
  auto sink = sinks::make_raw_log_sink(lo, q);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  RawLogTailer t(dir, {});
  std::vector<std::string> got;
  for (int i = 0; i < 40; ++i) {
    std::promise<sinks::SinkStatus> done;
    auto fut = done.get_future();
    ASSERT_EQ((*sink)->submit({"record-" + std::to_string(i)},
                              [&done](sinks::SinkStatus s) { done.set_value(s); }),
              sinks::SinkStatus::kOk);
    ASSERT_EQ(fut.get(), sinks::SinkStatus::kOk);
    if (i % 7 == 0) {
      for (auto& r : drain(t)) got.push_back(r);
    }
  }
  (*sink)->close();
  for (auto& r : drain(t)) got.push_back(r);
  ASSERT_EQ(got.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(got[i], "record-" + std::to_string(i));
  EXPECT_GT(t.position().segment, 1u);
  EXPECT_EQ(RawLogTailer::backlog_bytes(dir, t.position()), 0u);
  EXPECT_GT(RawLogTailer::backlog_bytes(dir, {}), 40u * 8);
  fs::remove_all(dir);
}

TEST(Checkpoint, RoundTripsAndRejectsGarbage) {
  const fs::path dir = test::temp_dir("run-ckpt");
  const fs::path f = dir / "checkpoint";
  auto none = read_checkpoint(f);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, (LogPosition{0, 0}));
  ASSERT_TRUE(write_checkpoint(f, {12, 345678}).ok());
  auto back = read_checkpoint(f);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (LogPosition{12, 345678}));
  append_file(dir / "junk", "hello");
  EXPECT_FALSE(read_checkpoint(dir / "junk").ok());
  std::ofstream(dir / "trunc") << "furrow-checkpoint 1 12 ";
  EXPECT_FALSE(read_checkpoint(dir / "trunc").ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::run
