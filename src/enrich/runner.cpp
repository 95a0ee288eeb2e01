#include "enrich/runner.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "enrich/deferred_md5.h"

namespace furrow::enrich {

void RecordText::reallocate(std::size_t n) {
  // Not value-initialised: the bytes past size() are written before they are read.
  auto grown = std::make_unique_for_overwrite<char[]>(n);
  if (size_ != 0) std::memcpy(grown.get(), buf_.get(), size_);
  buf_ = std::move(grown);
  cap_ = n;
}

namespace {

// Ring slot life cycle: kFree → (reader fills) kFilled → (worker) kDone → (writer) kFree. Slot for
// sequence number s is s % ring size, so the writer consumes slots in input order and the reader
// can only run ring-size batches ahead of the writer: that is the memory bound.
enum class SlotState { kFree, kFilled, kDone };

struct Slot {
  RecordBatch batch;
  SlotState state = SlotState::kFree;
};

class Engine {
 public:
  Engine(const RunnerConfig& config, const RecordProcessor& processor)
      : processor_(processor),
        threads_(config.threads != 0 ? config.threads
                                     : std::max(1u, std::thread::hardware_concurrency())),
        ring_(config.ring_batches != 0 ? config.ring_batches : threads_ * 4 + 2),
        slots_(std::make_unique<Slot[]>(ring_)),
        defer_fingerprints_(config.defer_fingerprints) {}

  Status run(const ReadFn& read, const WriteFn& write, RunCounts& totals) {
    std::thread reader([&] { read_loop(read); });
    std::vector<std::thread> workers;
    workers.reserve(threads_);
    for (unsigned i = 0; i < threads_; ++i) workers.emplace_back([this] { work_loop(); });
    write_loop(write, totals);
    reader.join();
    for (auto& w : workers) w.join();
    std::lock_guard lock(mu_);
    if (!error_.empty()) return Error{error_};
    return Status::Ok();
  }

 private:
  Slot& slot(uint64_t seq) { return slots_[seq % ring_]; }

  // Records the first error and wakes everyone so they stop.
  void fail(std::string message) {
    std::lock_guard lock(mu_);
    if (error_.empty()) error_ = std::move(message);
    stop_ = true;
    cv_.notify_all();
  }

  void read_loop(const ReadFn& read) {
    bool eof = false;
    while (!eof) {
      uint64_t seq;
      {
        std::unique_lock lock(mu_);
        seq = next_fill_;
        cv_.wait(lock, [&] { return stop_ || slot(seq).state == SlotState::kFree; });
        if (stop_) break;
      }
      // The slot is ours until we publish it: fill it without the lock.
      RecordBatch& batch = slot(seq).batch;
      batch.clear_input();
      Status st;
      try {
        st = read(batch, eof);
      } catch (const std::exception& e) {
        st = Error{std::string("reading input: ") + e.what()};
      }
      if (!st.ok()) {
        fail(st.message());
        break;
      }
      std::lock_guard lock(mu_);
      if (batch.size() > 0) {
        slot(seq).state = SlotState::kFilled;
        ++next_fill_;
      }
      if (eof) reader_done_ = true;
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    reader_done_ = true;
    cv_.notify_all();
  }

  void work_loop() {
    Output out;
    DeferredMd5 deferred;
    if (defer_fingerprints_) out.deferred_md5 = &deferred;
    for (;;) {
      uint64_t seq;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || next_work_ < next_fill_ || reader_done_; });
        if (stop_ || next_work_ >= next_fill_) return;  // stopped, or input exhausted
        seq = next_work_++;
      }
      RecordBatch& batch = slot(seq).batch;
      try {
        process_batch(batch, out);
      } catch (const std::exception& e) {
        fail(std::string("processing record batch: ") + e.what());
        return;
      }
      std::lock_guard lock(mu_);
      slot(seq).state = SlotState::kDone;
      cv_.notify_all();
    }
  }

  void process_batch(RecordBatch& batch, Output& out) {
    batch.clear_output();
    RunCounts& c = batch.counts;
    // Good lines go straight into the batch's output buffer (Output::good_text).
    out.good_text = &batch.good;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      out.clear();
      ++c.records;
      if (!processor_.process(batch.record(i), batch.lines[i], batch.oversized[i], out)) {
        ++c.skipped;
        continue;
      }
      ++c.payloads;
      for (const auto& g : out.good) {
        batch.good.append(g);
        batch.good.push_back('\n');
      }
      for (const auto& b : out.bad) {
        batch.bad.append(b);
        batch.bad.push_back('\n');
      }
      c.good += out.good_count();
      c.bad += out.bad.size();
    }
    // The fingerprints left as placeholders in batch.good, hashed together.
    if (out.deferred_md5 != nullptr) out.deferred_md5->resolve_all();
  }

  void write_loop(const WriteFn& write, RunCounts& totals) {
    for (;;) {
      uint64_t seq;
      {
        std::unique_lock lock(mu_);
        seq = next_write_;
        cv_.wait(lock, [&] {
          return stop_ || slot(seq).state == SlotState::kDone ||
                 (reader_done_ && seq == next_fill_);
        });
        if (stop_ || slot(seq).state != SlotState::kDone) return;
      }
      const RecordBatch& batch = slot(seq).batch;
      Status st;
      try {
        st = write(batch);
      } catch (const std::exception& e) {
        st = Error{std::string("writing output: ") + e.what()};
      }
      if (!st.ok()) {
        fail(st.message());
        return;
      }
      totals.add(batch.counts);
      std::lock_guard lock(mu_);
      slot(seq).state = SlotState::kFree;
      ++next_write_;
      cv_.notify_all();
    }
  }

  const RecordProcessor& processor_;
  const unsigned threads_;
  const std::size_t ring_;
  std::unique_ptr<Slot[]> slots_;
  const bool defer_fingerprints_;

  // One lock and one condition variable for the whole ring: a batch holds ~a thousand records,
  // so the lock is taken a few times per thousand events and contention is negligible.
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_fill_ = 0;   // next sequence number the reader publishes
  uint64_t next_work_ = 0;   // next sequence number a worker takes
  uint64_t next_write_ = 0;  // next sequence number the writer writes
  bool reader_done_ = false;
  bool stop_ = false;
  std::string error_;
};

}  // namespace

Status run_stream(const RunnerConfig& config, const RecordProcessor& processor, const ReadFn& read,
                  const WriteFn& write, RunCounts& totals) {
  totals = {};
  Engine engine(config, processor);
  return engine.run(read, write, totals);
}

}  // namespace furrow::enrich
