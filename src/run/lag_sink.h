// Back-pressure from the enricher to the collector: a RawSink that forwards to the raw log sink
// but refuses new records (kOverloaded → the collector answers 503 with Retry-After) while the
// raw log holds more than `max_lag_bytes` that the enricher has not consumed yet. So when enrich
// or SQLite cannot keep up, clients are told to retry instead of the backlog growing without
// bound. The lag is approximate (it counts accepted records, framing included) and only has to
// bound the backlog, not to be exact.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "sinks/raw_sink.h"

namespace furrow::run {

class LagLimitedSink final : public sinks::RawSink {
 public:
  // `initial_backlog`: unread bytes already in the log at start.
  LagLimitedSink(std::unique_ptr<sinks::RawSink> inner, uint64_t max_lag_bytes,
                 uint64_t initial_backlog);

  sinks::SinkStatus submit(std::vector<std::string>&& records, sinks::SinkCallback done) override;
  bool healthy() const override;
  sinks::SinkStats stats() const override;
  void close() override { inner_->close(); }
  std::string_view kind() const override { return inner_->kind(); }
  std::size_t max_record_bytes() const override { return inner_->max_record_bytes(); }

  // The enricher reports what it has consumed (monotonic total since start).
  void set_consumed(uint64_t bytes) { consumed_.store(bytes, std::memory_order_relaxed); }
  uint64_t lag_bytes() const;
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<sinks::RawSink> inner_;
  uint64_t max_lag_;
  std::atomic<uint64_t> accepted_;  // initial backlog + bytes accepted since start
  std::atomic<uint64_t> consumed_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace furrow::run
