#include "sinks/raw_sink.h"

#include <pthread.h>
#include <sched.h>

#include <system_error>

namespace furrow::sinks {
namespace {
// Accounting overhead per record beyond its bytes (string header, vector slot), so that a flood
// of tiny records is bounded too.
constexpr std::size_t kRecordOverhead = 64;
}  // namespace

void set_background_thread(const char* name, BackgroundPolicy policy) {
  pthread_setname_np(pthread_self(), name);
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(),
                              policy == BackgroundPolicy::kIdle ? SCHED_IDLE : SCHED_BATCH, &param);
}

QueuedSink::QueuedSink(std::unique_ptr<SinkBackend> backend, std::string kind,
                       QueuedSinkOptions options)
    : backend_(std::move(backend)), kind_(std::move(kind)), options_(std::move(options)) {
  writer_ = std::thread([this] { run(); });
}

QueuedSink::~QueuedSink() {
  close();
}

SinkStatus QueuedSink::submit(std::vector<std::string>&& records, SinkCallback done) {
  std::size_t bytes = 0;
  for (const auto& r : records) bytes += r.size() + kRecordOverhead;
  const bool buffered = options_.durability == Durability::kBuffered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || stopping_) return SinkStatus::kFailed;
    // In fsync mode nothing can be acknowledged while the storage fails, so refuse at once.
    if (!buffered && !storage_ok_.load(std::memory_order_relaxed)) return SinkStatus::kFailed;
    if (queued_bytes_ + bytes > options_.max_pending_bytes) {
      overloaded_.fetch_add(1, std::memory_order_relaxed);
      return SinkStatus::kOverloaded;
    }
    queued_bytes_ += bytes;
    queued_records_ += records.size();
    Pending p;
    p.records = std::move(records);
    p.bytes = bytes;
    if (!buffered) p.done = std::move(done);
    queue_.push_back(std::move(p));
  }
  if (!buffered) cv_.notify_one();
  if (buffered && done) done(SinkStatus::kOk);
  return SinkStatus::kOk;
}

bool QueuedSink::healthy() const {
  if (!storage_ok_.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  // "Cannot keep up": less than an eighth of the bound left.
  return queued_bytes_ + options_.max_pending_bytes / 8 <= options_.max_pending_bytes;
}

SinkStats QueuedSink::stats() const {
  SinkStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.pending_bytes = queued_bytes_;
    s.pending_records = queued_records_;
  }
  s.records_written = records_written_.load();
  s.bytes_written = bytes_written_.load();
  s.batches = batches_.load();
  s.write_failures = write_failures_.load();
  s.overloaded = overloaded_.load();
  s.fsyncs = fsyncs_.load();
  s.fsync_seconds_sum = static_cast<double>(fsync_micros_sum_.load()) / 1e6;
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < fsync_buckets_.size(); ++i) {
    cumulative += fsync_buckets_[i].load();
    s.fsync_buckets[i] = cumulative;
  }
  s.healthy = healthy();
  return s;
}

void QueuedSink::record_fsync(double seconds) {
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  fsync_micros_sum_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  std::size_t i = 0;
  while (i < kFsyncBuckets.size() && seconds > kFsyncBuckets[i]) ++i;
  fsync_buckets_[i].fetch_add(1, std::memory_order_relaxed);
}

bool QueuedSink::write_batch(std::vector<Pending>& batch) {
  std::vector<std::string_view> views;
  std::size_t bytes = 0, count = 0;
  for (const auto& p : batch) {
    for (const auto& r : p.records) {
      views.push_back(r);
      bytes += r.size();
    }
    count += p.records.size();
  }
  Status st = backend_->write(views);
  if (st.ok()) {
    auto t0 = std::chrono::steady_clock::now();
    st = backend_->sync();
    record_fsync(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (!st.ok()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    storage_ok_.store(false);
    return false;
  }
  records_written_.fetch_add(count, std::memory_order_relaxed);
  bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void QueuedSink::run() {
  const bool buffered = options_.durability == Durability::kBuffered;
  // In fsync mode answers wait for this thread: it keeps the normal policy there.
  if (buffered) set_background_thread("furrow-writer", BackgroundPolicy::kBatch);
  std::vector<Pending> batch;
  auto release = [this](std::vector<Pending>& done_batch) {
    std::size_t bytes = 0, records = 0;
    for (const auto& p : done_batch) {
      bytes += p.bytes;
      records += p.records.size();
    }
    std::lock_guard<std::mutex> lock(mu_);
    queued_bytes_ -= bytes;
    queued_records_ -= records;
  };
  for (;;) {
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (buffered) {
        cv_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
      } else {
        cv_.wait_for(lock, std::chrono::milliseconds(100),
                     [this] { return stopping_ || !queue_.empty(); });
      }
      stopping = stopping_;
    }
    Status maintained = backend_->maintain(std::chrono::steady_clock::now());
    if (maintained.ok()) {
      if (!storage_ok_.load()) storage_ok_.store(true);
    } else {
      // A rotation or a deferred sync failed: unhealthy until a maintain succeeds again.
      write_failures_.fetch_add(1, std::memory_order_relaxed);
      storage_ok_.store(false);
    }
    std::error_code ec;
    if (!stopping && !options_.stall_file.empty() &&
        std::filesystem::exists(options_.stall_file, ec)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // `batch` may still hold a buffered batch whose write failed; new records go after it.
      for (auto& p : queue_) batch.push_back(std::move(p));
      queue_.clear();
    }
    if (!batch.empty()) {
      bool ok = write_batch(batch);
      if (ok || !buffered) {
        release(batch);
        for (auto& p : batch) {
          if (p.done) p.done(ok ? SinkStatus::kOk : SinkStatus::kFailed);
        }
        batch.clear();
      } else {
        // Buffered records were acknowledged already: keep them and retry after a pause.
        if (stopping) {
          release(batch);
          batch.clear();
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    }
    if (stopping) {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) break;
    }
  }
  backend_->close();
}

void QueuedSink::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

}  // namespace furrow::sinks
