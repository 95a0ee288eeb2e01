#include "sinks/raw_log.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>
#include <zstd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "sinks/raw_log_format.h"
#include "sinks/stdout_sink.h"
#include "support/test_support.h"

namespace furrow::sinks {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Records of every plain segment in `dir`, in order (compressed ones are counted separately).
std::vector<std::string> plain_records(const fs::path& dir, int* compressed = nullptr) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    if (f.string().ends_with(".zst")) {
      if (compressed) ++*compressed;
      continue;
    }
    std::string data = slurp(f);
    EXPECT_EQ(data.substr(0, 8), rawlog::kMagic);
    std::string_view body = std::string_view(data).substr(8);
    std::size_t pos = 0;
    std::string_view rec;
    rawlog::FrameStatus st;
    while ((st = rawlog::next_frame(body, pos, rec)) == rawlog::FrameStatus::kRecord)
      out.emplace_back(rec);
    EXPECT_EQ(st, rawlog::FrameStatus::kEnd) << f;
  }
  return out;
}

TEST(RawLogFormat, Crc32cMatchesKnownVector) {
  // RFC 3720 B.4: 32 bytes of zeros → 0x8A9136AA; "123456789" → 0xE3069283.
  EXPECT_EQ(rawlog::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(rawlog::crc32c("123456789"), 0xE3069283u);
  // The hardware path (when present) agrees with the portable one at every length and alignment.
  std::string buf;
  uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    buf.push_back(static_cast<char>(x >> 16));
  }
  for (std::size_t off = 0; off < 9; ++off) {
    for (std::size_t len = 0; off + len <= buf.size(); len += 7) {
      std::string_view v(buf.data() + off, len);
      ASSERT_EQ(rawlog::crc32c(v), rawlog::crc32c_portable(v)) << off << " " << len;
    }
  }
}

TEST(RawLogFormat, DetectsTornAndCorruptFrames) {
  std::string data;
  rawlog::append_frame(data, "hello");
  rawlog::append_frame(data, "world");
  std::size_t pos = 0;
  std::string_view rec;
  EXPECT_EQ(rawlog::next_frame(data, pos, rec), rawlog::FrameStatus::kRecord);
  EXPECT_EQ(rec, "hello");
  std::string torn = data.substr(0, data.size() - 1);
  EXPECT_EQ(rawlog::next_frame(torn, pos, rec), rawlog::FrameStatus::kTorn);
  std::string flipped = data;
  flipped.back() ^= 1;
  EXPECT_EQ(rawlog::next_frame(flipped, pos, rec), rawlog::FrameStatus::kCorrupt);
  EXPECT_EQ(rawlog::next_frame(data, pos, rec), rawlog::FrameStatus::kRecord);
  EXPECT_EQ(rawlog::next_frame(data, pos, rec), rawlog::FrameStatus::kEnd);
}

TEST(RawLog, FsyncGroupCommitAcknowledgesEveryRecordOnce) {
  fs::path dir = test::temp_dir("rawlog");
  RawLogOptions lo;
  lo.dir = dir;
  lo.compress = false;
  QueuedSinkOptions q;
  auto sink = make_raw_log_sink(lo, q);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  constexpr int kThreads = 4, kPer = 100;
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        std::promise<SinkStatus> done;
        auto f = done.get_future();
        std::vector<std::string> recs{"r-" + std::to_string(t) + "-" + std::to_string(i)};
        ASSERT_EQ((*sink)->submit(std::move(recs), [&](SinkStatus s) { done.set_value(s); }),
                  SinkStatus::kOk);
        ASSERT_EQ(f.get(), SinkStatus::kOk);
        ++acked;
      }
    });
  }
  for (auto& t : threads) t.join();
  SinkStats st = (*sink)->stats();
  EXPECT_EQ(st.records_written, static_cast<uint64_t>(kThreads * kPer));
  // Concurrent requests share fsyncs.
  EXPECT_LT(st.fsyncs, static_cast<uint64_t>(kThreads * kPer));
  EXPECT_EQ(st.pending_bytes, 0u);
  (*sink)->close();
  auto recs = plain_records(dir);
  std::set<std::string> unique(recs.begin(), recs.end());
  EXPECT_EQ(recs.size(), static_cast<std::size_t>(kThreads * kPer));
  EXPECT_EQ(unique.size(), recs.size());
  fs::remove_all(dir);
}

TEST(RawLog, RecoveryTruncatesTornTailAndKeepsThePrefix) {
  fs::path dir = test::temp_dir("rawlog");
  RawLogOptions lo;
  lo.dir = dir;
  lo.compress = false;
  {
    auto b = RawLogBackend::open(lo);
    ASSERT_TRUE(b.ok());
    std::vector<std::string_view> recs = {"one", "two", "three"};
    ASSERT_TRUE((*b)->write(recs).ok());
    ASSERT_TRUE((*b)->sync().ok());
  }
  fs::path seg = dir / rawlog::segment_name(1, false);
  ASSERT_TRUE(fs::exists(seg));
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    std::string partial;
    rawlog::append_frame(partial, "four-is-torn");
    out << partial.substr(0, partial.size() - 3);
  }
  auto b = RawLogBackend::open(lo);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->recovery().torn_bytes_truncated, 8u + 12u - 3u);
  EXPECT_EQ((*b)->recovery().records_recovered, 3u);
  std::vector<std::string_view> more = {"five"};
  ASSERT_TRUE((*b)->write(more).ok());
  ASSERT_TRUE((*b)->close().ok());
  EXPECT_EQ(plain_records(dir), (std::vector<std::string>{"one", "two", "three", "five"}));
  fs::remove_all(dir);
}

TEST(RawLog, RotatesBySizeAndCompressesSealedSegments) {
  fs::path dir = test::temp_dir("rawlog");
  RawLogOptions lo;
  lo.dir = dir;
  lo.segment_max_bytes = 4096;
  {
    auto b = RawLogBackend::open(lo);
    ASSERT_TRUE(b.ok());
    std::string big(1000, 'x');
    for (int i = 0; i < 20; ++i) {
      std::vector<std::string_view> recs = {big};
      ASSERT_TRUE((*b)->write(recs).ok());
      ASSERT_TRUE((*b)->sync().ok());
    }
    ASSERT_TRUE((*b)->close().ok());
  }
  int compressed = 0;
  auto plain = plain_records(dir, &compressed);
  EXPECT_GE(compressed, 4);
  EXPECT_LE(plain.size(), 4u);  // only the last (open) segment stays plain
}

// Batches larger than the writer's 1 MiB piece are written whole and in order; sealed segments
// are compressed in a stream (several 1 MiB reads) into one zstd frame that carries the content
// size and decompresses to exactly the segment's bytes.
TEST(RawLog, LargeBatchesAndStreamedCompressionKeepEveryByte) {
  fs::path dir = test::temp_dir("rawlog-large");
  RawLogOptions lo;
  lo.dir = dir;
  lo.compress = false;
  std::vector<std::string> records;
  uint64_t state = 99;
  for (int i = 0; i < 3000; ++i) {
    std::string r = "record " + std::to_string(i) + " ";
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    r.append(200 + (state >> 33) % 1500, static_cast<char>('a' + i % 26));
    records.push_back(std::move(r));
  }
  {
    auto b = RawLogBackend::open(lo);
    ASSERT_TRUE(b.ok());
    std::vector<std::string_view> views(records.begin(), records.end());
    ASSERT_TRUE((*b)->write(views).ok());  // about 2.8 MB in one batch
    ASSERT_TRUE((*b)->close().ok());
  }
  ASSERT_EQ(plain_records(dir), records);
  fs::path segment;
  for (const auto& e : fs::directory_iterator(dir)) segment = e.path();
  const std::string original = slurp(segment);
  ASSERT_GT(original.size(), 2u << 20);
  ASSERT_TRUE(compress_segment(segment, 3).ok());
  EXPECT_FALSE(fs::exists(segment));
  const std::string z = slurp(segment.string() + ".zst");
  ASSERT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), original.size());
  std::string back(original.size(), '\0');
  const std::size_t n = ZSTD_decompress(back.data(), back.size(), z.data(), z.size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  EXPECT_EQ(n, original.size());
  EXPECT_TRUE(back == original);
}

TEST(RawLog, StalledSinkRefusesBeyondItsBoundAndDeliversAfterwards) {
  fs::path dir = test::temp_dir("rawlog");
  fs::path stall = dir / "stall";
  std::ofstream(stall) << "x";
  RawLogOptions lo;
  lo.dir = dir / "log";
  lo.compress = false;
  QueuedSinkOptions q;
  q.max_pending_bytes = 10'000;
  q.stall_file = stall;
  auto sink = make_raw_log_sink(lo, q);
  ASSERT_TRUE(sink.ok());
  std::atomic<int> ok{0};
  int accepted = 0, refused = 0;
  for (int i = 0; i < 100; ++i) {
    auto st =
        (*sink)->submit({std::string(500, 'a')}, [&](SinkStatus s) { ok += s == SinkStatus::kOk; });
    (st == SinkStatus::kOk ? accepted : refused)++;
  }
  EXPECT_GT(accepted, 5);
  EXPECT_GT(refused, 50);
  EXPECT_FALSE((*sink)->healthy());
  EXPECT_EQ(ok.load(), 0);
  fs::remove(stall);
  for (int i = 0; i < 200 && ok.load() < accepted; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(ok.load(), accepted);
  EXPECT_TRUE((*sink)->healthy());
  (*sink)->close();
  EXPECT_EQ(plain_records(lo.dir).size(), static_cast<std::size_t>(accepted));
  fs::remove_all(dir);
}

// Records of every segment in `dir`, plain or compressed, in segment order.
std::vector<std::string> all_records(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::string data = slurp(f);
    if (f.string().ends_with(".zst")) {
      const auto size = ZSTD_getFrameContentSize(data.data(), data.size());
      EXPECT_LT(size, 1ull << 30) << f;
      if (size >= 1ull << 30) continue;
      std::string plain(size, '\0');
      EXPECT_EQ(ZSTD_decompress(plain.data(), plain.size(), data.data(), data.size()), size);
      data = std::move(plain);
    }
    EXPECT_EQ(data.substr(0, 8), rawlog::kMagic) << f;
    std::string_view body = std::string_view(data).substr(8);
    std::size_t pos = 0;
    std::string_view rec;
    while (rawlog::next_frame(body, pos, rec) == rawlog::FrameStatus::kRecord)
      out.emplace_back(rec);
  }
  return out;
}

// Waits (at most 10 s) until `done` holds.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 1000 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

// Buffered durability: with the disk stuck in a sync, the writer still writes, syncs (starts a
// sync) and rotates without waiting; sealed segments are compressed only once their fsync is
// done, and close() waits for every deferred sync.
TEST(RawLog, DeferredSyncsNeverBlockTheWriterAndCloseWaitsForThem) {
  fs::path dir = test::temp_dir("rawlog-deferred");
  std::atomic<bool> disk_stuck{true};
  std::atomic<int> syncs{0};
  RawLogOptions lo;
  lo.dir = dir;
  lo.segment_max_bytes = 4096;
  lo.defer_syncs = true;
  lo.deferred_sync_fault = [&] {
    ++syncs;
    for (int i = 0; i < 1000 && disk_stuck.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return 0;
  };
  auto b = RawLogBackend::open(lo);
  ASSERT_TRUE(b.ok()) << b.error().message;
  std::vector<std::string> written;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    written.push_back("record " + std::to_string(i) + " " + std::string(1000, 'a' + i % 26));
    std::vector<std::string_view> recs = {written.back()};
    ASSERT_TRUE((*b)->write(recs).ok());
    ASSERT_TRUE((*b)->sync().ok());
    ASSERT_TRUE((*b)->maintain(std::chrono::steady_clock::now()).ok());
  }
  // A blocking sync would have held the loop for 10 s (the stuck disk's limit).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_TRUE(eventually([&] { return syncs.load() >= 1; }));
  EXPECT_EQ(syncs.load(), 1);  // the helper is stuck in its first job
  int compressed = 0;
  // Every record reached the OS (a killed process loses none of them), none was compressed
  // before its segment's fsync.
  EXPECT_EQ(plain_records(dir, &compressed), written);
  EXPECT_EQ(compressed, 0);
  disk_stuck = false;
  ASSERT_TRUE((*b)->close().ok());
  EXPECT_GE(syncs.load(), 8);  // each sealed segment's fsync, directory entries, data syncs
  auto plain = plain_records(dir, &compressed);
  EXPECT_GE(compressed, 4);
  EXPECT_LE(plain.size(), 4u);  // only the last (open) segment stays plain
  EXPECT_EQ(all_records(dir), written);
  fs::remove_all(dir);
}

// A deferred sync that fails is reported by the next maintain(), which abandons the segment (its
// pages may be gone) and goes on in a new one; the failed segment is left plain, not compressed.
// Through a QueuedSink the failure counts as a write failure and makes the sink unhealthy until
// a maintain succeeds again.
TEST(RawLog, DeferredSyncFailureIsReportedAndTheSegmentAbandoned) {
  fs::path dir = test::temp_dir("rawlog-deferred-fail");
  std::atomic<bool> failing{false};
  std::atomic<int> syncs{0};
  RawLogOptions lo;
  lo.dir = dir;
  lo.defer_syncs = true;
  lo.deferred_sync_fault = [&] {
    const int e = failing.load() ? EIO : 0;
    ++syncs;
    return e;
  };
  auto b = RawLogBackend::open(lo);
  ASSERT_TRUE(b.ok()) << b.error().message;
  std::vector<std::string_view> one = {"one"}, two = {"two"}, three = {"three"};
  ASSERT_TRUE((*b)->write(one).ok());
  ASSERT_TRUE((*b)->sync().ok());
  ASSERT_TRUE(eventually([&] { return syncs.load() >= 2; }));  // directory entry, data
  ASSERT_TRUE((*b)->maintain(std::chrono::steady_clock::now()).ok());
  failing = true;
  ASSERT_TRUE((*b)->write(two).ok());
  ASSERT_TRUE((*b)->sync().ok());  // only started: the failure comes later
  ASSERT_TRUE(eventually([&] { return syncs.load() >= 3; }));
  failing = false;
  Status st = (*b)->maintain(std::chrono::steady_clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot fsync"), std::string::npos) << st.message();
  EXPECT_TRUE((*b)->maintain(std::chrono::steady_clock::now()).ok());  // reported once
  ASSERT_TRUE((*b)->write(three).ok());
  ASSERT_TRUE((*b)->close().ok());
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(files[0].string().ends_with(".seg")) << files[0];
  EXPECT_EQ(plain_records(dir), (std::vector<std::string>{"one", "two", "three"}));
  fs::remove_all(dir);

  // The same failure seen by a buffered QueuedSink.
  failing = true;
  RawLogOptions lo2 = lo;
  lo2.dir = test::temp_dir("rawlog-deferred-queue");
  lo2.deferred_sync_fault = [&] { return failing.load() ? EIO : 0; };
  QueuedSinkOptions q;
  q.durability = Durability::kBuffered;
  auto sink = make_raw_log_sink(lo2, q);  // the first segment's directory sync fails
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  ASSERT_TRUE(eventually([&] { return (*sink)->stats().write_failures >= 1; }));
  failing = false;
  ASSERT_TRUE(eventually([&] { return (*sink)->healthy(); }));
  std::atomic<int> acked{0};
  ASSERT_EQ((*sink)->submit({"after"}, [&](SinkStatus s) { acked += s == SinkStatus::kOk; }),
            SinkStatus::kOk);
  (*sink)->close();
  EXPECT_EQ(acked.load(), 1);
  EXPECT_EQ(all_records(lo2.dir), (std::vector<std::string>{"after"}));
  fs::remove_all(lo2.dir);
}

// Scheduling policy of this process's thread named `name` (-1: no such thread).
int policy_of_thread(const std::string& name) {
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    std::string comm = slurp(t.path() / "comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm == name) return sched_getscheduler(std::stoi(t.path().filename().string()));
  }
  return -1;
}

// The buffered writer and the sync helper must keep up with the traffic but never preempt the
// I/O thread on wake-up (SCHED_BATCH); compression may lag (SCHED_IDLE). In fsync mode answers
// wait for the writer: it keeps the normal policy.
TEST(RawLog, BackgroundThreadsYieldToTheIoThread) {
  fs::path dir = test::temp_dir("rawlog-threads");
  RawLogOptions lo;
  lo.dir = dir / "buffered";
  lo.defer_syncs = true;
  QueuedSinkOptions q;
  q.durability = Durability::kBuffered;
  auto sink = make_raw_log_sink(lo, q);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  ASSERT_TRUE(eventually([] {
    return policy_of_thread("furrow-writer") >= 0 && policy_of_thread("furrow-sync") >= 0 &&
           policy_of_thread("furrow-zstd") >= 0;
  }));
  EXPECT_EQ(policy_of_thread("furrow-writer"), SCHED_BATCH);
  EXPECT_EQ(policy_of_thread("furrow-sync"), SCHED_BATCH);
  EXPECT_EQ(policy_of_thread("furrow-zstd"), SCHED_IDLE);
  (*sink)->close();
  EXPECT_EQ(policy_of_thread("furrow-writer"), -1);  // joined

  lo.dir = dir / "fsync";
  lo.defer_syncs = false;
  q.durability = Durability::kFsync;
  auto fsync_sink = make_raw_log_sink(lo, q);
  ASSERT_TRUE(fsync_sink.ok()) << fsync_sink.error().message;
  ASSERT_TRUE(eventually([] { return policy_of_thread("furrow-zstd") >= 0; }));
  EXPECT_EQ(policy_of_thread("furrow-writer"), -1);  // not renamed, not demoted
  EXPECT_EQ(policy_of_thread("furrow-sync"), -1);    // no deferred syncs in fsync mode
  (*fsync_sink)->close();
  fs::remove_all(dir);
}

TEST(StdoutSink, WritesOneBase64LinePerRecord) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  QueuedSinkOptions q;
  q.durability = Durability::kBuffered;
  q.flush_interval = std::chrono::milliseconds(1);
  auto sink = make_stdout_sink(q, fds[1]);
  EXPECT_EQ(sink->kind(), "stdout");
  std::atomic<int> ok{0};
  ASSERT_EQ(sink->submit({"\x01\x02xyz", "hi"}, [&](SinkStatus s) { ok += s == SinkStatus::kOk; }),
            SinkStatus::kOk);
  EXPECT_EQ(ok.load(), 1);  // buffered: acknowledged on enqueue
  sink->close();
  ::close(fds[1]);
  char buf[64];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "AQJ4eXo=\naGk=\n");
}

}  // namespace
}  // namespace furrow::sinks
