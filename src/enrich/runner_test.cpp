#include "enrich/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace furrow::enrich {
namespace {

// A processor with a known, input-dependent outcome so tests can compute the expected output:
// "skip" is not a payload; "gN" yields N good lines; "bN" yields N bad rows; "throw" throws. The
// work per record varies so that workers finish batches out of order.
class ScriptedProcessor : public RecordProcessor {
 public:
  bool process(std::string_view record, uint64_t line, bool oversized, Output& out) const override {
    if (record == "skip") return false;
    if (record == "throw") throw std::runtime_error("boom at line " + std::to_string(line));
    if (oversized) {
      out.bad.push_back("oversized:" + std::to_string(line));
      return true;
    }
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < (line * 7919u) % 5000u; ++i) spin = spin + i;
    const int n = record.size() > 1 ? record[1] - '0' : 0;
    for (int i = 0; i < n; ++i) {
      std::string v = std::to_string(line) + "." + std::to_string(i);
      if (record[0] == 'g') {
        out.good.push_back("good " + v);
      } else {
        out.bad.push_back("bad " + v);
      }
    }
    return true;
  }
};

// Serves `records` in batches of `per_batch`.
ReadFn vector_reader(const std::vector<std::string>& records, std::size_t per_batch,
                     std::atomic<uint64_t>* batches_read = nullptr) {
  auto pos = std::make_shared<std::size_t>(0);
  return [&records, per_batch, pos, batches_read](RecordBatch& batch, bool& eof) {
    for (std::size_t i = 0; i < per_batch && *pos < records.size(); ++i, ++*pos) {
      batch.add_record(records[*pos], *pos + 1, records[*pos] == "cut");
    }
    eof = *pos == records.size();
    if (batches_read != nullptr) ++*batches_read;
    return Status::Ok();
  };
}

std::vector<std::string> mixed_records(std::size_t n) {
  const char* kinds[] = {"g1", "g3", "b1", "skip", "g0", "b2", "cut", "g2"};
  std::vector<std::string> r;
  for (std::size_t i = 0; i < n; ++i) r.emplace_back(kinds[(i * 31 + i / 7) % 8]);
  return r;
}

// What a single-threaded loop produces, for comparison.
void sequential(const std::vector<std::string>& records, std::string& good, std::string& bad,
                RunCounts& c) {
  ScriptedProcessor p;
  Output out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    out.clear();
    ++c.records;
    if (!p.process(records[i], i + 1, records[i] == "cut", out)) {
      ++c.skipped;
      continue;
    }
    ++c.payloads;
    for (auto& g : out.good) good += g + "\n";
    for (auto& b : out.bad) bad += b + "\n";
    c.good += out.good.size();
    c.bad += out.bad.size();
  }
}

TEST(RecordText, AppendsWritesInPlaceAndKeepsItsContentsWhenItGrows) {
  RecordText t;
  EXPECT_TRUE(t.empty());
  t.append("abc");
  t.reserve(2);  // smaller than the contents: no change
  EXPECT_EQ(std::string_view(t.data(), t.size()), "abc");
  char* room = t.spare(5);
  ASSERT_GE(t.capacity(), 8u);
  std::memcpy(room, "defgh", 5);
  t.commit(4);
  EXPECT_EQ(std::string_view(t.data(), t.size()), "abcdefg");
  std::string big;
  for (int i = 0; i < 5000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  t.append(big);  // grows past the capacity
  EXPECT_EQ(std::string_view(t.data(), t.size()), "abcdefg" + big);
  t.truncate(2);
  t.append("Z");
  EXPECT_EQ(std::string_view(t.data(), t.size()), "abZ");
  const std::size_t cap = t.capacity();
  t.clear();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.capacity(), cap);  // kept for the next use
}

TEST(RecordBatch, RecordsAreTheirOwnRangesOfTheText) {
  RecordBatch b;
  b.add_record("one", 1);
  b.add_record("", 2);
  b.add_record("three", 3, true);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.record(0), "one");
  EXPECT_EQ(b.record(1), "");
  EXPECT_EQ(b.record(2), "three");
  EXPECT_TRUE(b.oversized[2]);
  b.clear_input();
  EXPECT_EQ(b.size(), 0u);
  b.add_record("x", 1);
  EXPECT_EQ(b.record(0), "x");
}

TEST(RecordBatch, ClearOutputReservesRoomForTheGoodLinesByTheInputSize) {
  RecordBatch b;
  b.add_record(std::string(100000, 'x'), 1);
  b.good = "old";
  b.bad = "old";
  b.counts.good = 3;
  b.clear_output();
  EXPECT_TRUE(b.good.empty());
  EXPECT_TRUE(b.bad.empty());
  EXPECT_EQ(b.counts.good, 0u);
  EXPECT_GE(b.good.capacity(), 125000u);
  const char* kept = b.good.data();
  b.clear_input();
  b.add_record("small", 1);
  b.clear_output();  // a smaller batch keeps the room
  EXPECT_EQ(b.good.data(), kept);
}

TEST(Runner, KeepsInputOrderAndCountsAcrossThreads) {
  const auto records = mixed_records(20000);
  std::string want_good, want_bad;
  RunCounts want;
  sequential(records, want_good, want_bad, want);

  for (unsigned threads : {1u, 2u, 4u, 7u}) {
    ScriptedProcessor proc;
    std::string good, bad;
    RunCounts totals;
    RunnerConfig cfg;
    cfg.threads = threads;
    cfg.ring_batches = 3;
    Status st = run_stream(
        cfg, proc, vector_reader(records, 37),
        [&](const RecordBatch& b) {
          good += b.good;
          bad += b.bad;
          return Status::Ok();
        },
        totals);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(good, want_good) << threads << " threads";
    EXPECT_EQ(bad, want_bad) << threads << " threads";
    EXPECT_EQ(totals.records, records.size());
    EXPECT_EQ(totals.payloads + totals.skipped, totals.records);
    EXPECT_EQ(totals.payloads, want.payloads);
    EXPECT_EQ(totals.good, want.good);
    EXPECT_EQ(totals.bad, want.bad);
    EXPECT_GT(totals.skipped, 0u);
  }
}

TEST(Runner, ReaderNeverRunsMoreThanTheRingAhead) {
  const auto records = mixed_records(5000);
  std::atomic<uint64_t> read{0};
  uint64_t written = 0;
  uint64_t max_ahead = 0;
  ScriptedProcessor proc;
  RunCounts totals;
  RunnerConfig cfg;
  cfg.threads = 3;
  cfg.ring_batches = 4;
  Status st = run_stream(
      cfg, proc, vector_reader(records, 10, &read),
      [&](const RecordBatch&) {
        // Slow writer: the reader must block instead of buffering everything.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++written;
        max_ahead = std::max<uint64_t>(max_ahead, read.load() - written);
        return Status::Ok();
      },
      totals);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(written, 500u);
  EXPECT_LE(max_ahead, 4u);
}

TEST(Runner, EmptyInputWritesNothing) {
  std::vector<std::string> none;
  ScriptedProcessor proc;
  RunCounts totals;
  int writes = 0;
  Status st = run_stream(
      {}, proc, vector_reader(none, 10),
      [&](const RecordBatch&) {
        ++writes;
        return Status::Ok();
      },
      totals);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(writes, 0);
  EXPECT_EQ(totals.records, 0u);
}

TEST(Runner, ReadErrorStopsTheRunWithItsMessage) {
  ScriptedProcessor proc;
  RunCounts totals;
  int calls = 0;
  ReadFn read = [&](RecordBatch& b, bool& eof) -> Status {
    if (++calls == 3) return Error{"input.txt: read failed: I/O error"};
    b.add_record("g1", static_cast<uint64_t>(calls));
    eof = false;
    return Status::Ok();
  };
  Status st = run_stream(
      {2, 2}, proc, read, [](const RecordBatch&) { return Status::Ok(); }, totals);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "input.txt: read failed: I/O error");
  EXPECT_LE(totals.good, 2u);
}

TEST(Runner, WriteErrorStopsTheRun) {
  const auto records = mixed_records(3000);
  ScriptedProcessor proc;
  RunCounts totals;
  int writes = 0;
  Status st = run_stream(
      {2, 3}, proc, vector_reader(records, 10),
      [&](const RecordBatch&) -> Status {
        if (++writes == 5) return Error{"out.tsv: No space left on device"};
        return Status::Ok();
      },
      totals);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "out.tsv: No space left on device");
  EXPECT_EQ(writes, 5);
  EXPECT_EQ(totals.records, 40u);  // the four batches written before the failure
}

TEST(Runner, ProcessorExceptionBecomesAnError) {
  std::vector<std::string> records = {"g1", "g1", "throw", "g1"};
  ScriptedProcessor proc;
  RunCounts totals;
  Status st = run_stream(
      {2, 2}, proc, vector_reader(records, 1), [](const RecordBatch&) { return Status::Ok(); },
      totals);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("boom at line 3"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace furrow::enrich
