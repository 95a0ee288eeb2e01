// Raw sinks: where the collector puts serialised CollectorPayloads (Thrift bytes).
//
// A RawSink accepts records from any thread and answers through a callback once they are as
// durable as its Durability says. It keeps at most `max_pending_bytes` of records in memory;
// beyond that submit() refuses at once (the collector answers 503 with Retry-After), so memory
// stays bounded however slow the storage is.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"

namespace furrow::sinks {

enum class Durability {
  kFsync,     // acknowledge after the record is written and fsync'd (group commit)
  kBuffered,  // acknowledge once the record is in the writer's queue; written within flush_interval
};

enum class SinkStatus {
  kOk,          // stored under the sink's durability
  kOverloaded,  // refused: the pending-bytes bound is reached
  kFailed,      // the storage failed (I/O error); nothing was acknowledged
};

// Called exactly once per accepted submit(), on the sink's writer thread (fsync mode) or on the
// submitting thread (buffered mode). Must not block.
using SinkCallback = std::function<void(SinkStatus)>;

// Histogram bucket upper bounds (seconds) for the fsync latency metric.
inline constexpr std::array<double, 10> kFsyncBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                         0.025,  0.05,  0.1,    0.25,  1.0};

struct SinkStats {
  uint64_t pending_bytes = 0;
  uint64_t pending_records = 0;
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;
  uint64_t batches = 0;
  uint64_t write_failures = 0;
  uint64_t overloaded = 0;
  uint64_t fsyncs = 0;
  double fsync_seconds_sum = 0;
  std::array<uint64_t, kFsyncBuckets.size() + 1> fsync_buckets{};  // cumulative counts, last = +Inf
  bool healthy = true;
};

// How much a background thread may take from the threads that answer requests.
enum class BackgroundPolicy {
  // SCHED_BATCH: the same CPU share as any thread, but its wake-ups never preempt a running
  // thread; it waits for the running thread's next scheduling point. For work that must keep
  // up with the traffic (the buffered writer, syncs).
  kBatch,
  // SCHED_IDLE: runs on CPU time nobody else wants (a tiny share under full load). For work
  // that may lag behind without harm (compressing sealed segments).
  kIdle,
};

// Names the calling thread (for profilers, at most 15 characters) and gives it `policy`, so that
// background work does not interrupt a request on a busy core. Best effort: errors are ignored.
void set_background_thread(const char* name, BackgroundPolicy policy);

class RawSink {
 public:
  virtual ~RawSink() = default;
  // Queues `records` as one unit. Returns kOk when accepted (the callback will run once with the
  // final status), or kOverloaded / kFailed when refused (the callback is never called).
  virtual SinkStatus submit(std::vector<std::string>&& records, SinkCallback done) = 0;
  // False while the storage is failing or the queue is full; the sink recovers by itself.
  virtual bool healthy() const = 0;
  virtual SinkStats stats() const = 0;
  // Writes and syncs everything queued, then stops the writer. Idempotent.
  virtual void close() = 0;
  // Lower-case sink name used in the collector name: "rawlog", "stdout".
  virtual std::string_view kind() const = 0;
  // Largest serialised payload one record may hold (spec 2.8 maxBytes).
  virtual std::size_t max_record_bytes() const = 0;
};

// Storage behind a QueuedSink; used only from the writer thread.
class SinkBackend {
 public:
  virtual ~SinkBackend() = default;
  // Appends the records (buffered by the OS). On error, the backend leaves no partial record
  // visible to readers after its next successful open (truncates or abandons the file).
  virtual Status write(const std::vector<std::string_view>& records) = 0;
  // Makes everything written so far durable (fsync); no-op where that means nothing (pipes).
  virtual Status sync() = 0;
  // Periodic work: rotation by age, retrying after a failure. Called at least every 100 ms.
  virtual Status maintain(std::chrono::steady_clock::time_point now) = 0;
  virtual Status close() = 0;
};

struct QueuedSinkOptions {
  Durability durability = Durability::kFsync;
  std::size_t max_pending_bytes = 64u << 20;
  std::size_t max_record_bytes = 1'000'000;
  // Buffered mode: longest time a record waits before it is written (and then synced).
  std::chrono::milliseconds flush_interval{10};
  // Fault injection for tests: while this file exists the writer does not write (a stalled disk).
  std::filesystem::path stall_file;
};

// A RawSink with one writer thread: requests queue up while the previous batch is written and
// fsync'd, then go to disk together (group commit), so concurrent requests share one fsync.
class QueuedSink : public RawSink {
 public:
  QueuedSink(std::unique_ptr<SinkBackend> backend, std::string kind, QueuedSinkOptions options);
  ~QueuedSink() override;
  QueuedSink(const QueuedSink&) = delete;
  QueuedSink& operator=(const QueuedSink&) = delete;

  SinkStatus submit(std::vector<std::string>&& records, SinkCallback done) override;
  bool healthy() const override;
  SinkStats stats() const override;
  void close() override;
  std::string_view kind() const override { return kind_; }
  std::size_t max_record_bytes() const override { return options_.max_record_bytes; }

 private:
  struct Pending {
    std::vector<std::string> records;
    SinkCallback done;  // empty in buffered mode (already acknowledged)
    std::size_t bytes = 0;
  };
  void run();
  bool write_batch(std::vector<Pending>& batch);
  void record_fsync(double seconds);

  std::unique_ptr<SinkBackend> backend_;
  std::string kind_;
  QueuedSinkOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;
  std::size_t queued_bytes_ = 0;  // bytes in queue_ plus the batch being written
  std::size_t queued_records_ = 0;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread writer_;

  std::atomic<bool> storage_ok_{true};
  std::atomic<uint64_t> records_written_{0}, bytes_written_{0}, batches_{0}, write_failures_{0},
      overloaded_{0}, fsyncs_{0};
  std::atomic<uint64_t> fsync_micros_sum_{0};
  std::array<std::atomic<uint64_t>, kFsyncBuckets.size() + 1> fsync_buckets_{};
};

}  // namespace furrow::sinks
