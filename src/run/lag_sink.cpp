#include "run/lag_sink.h"

#include "sinks/raw_log_format.h"

namespace furrow::run {

LagLimitedSink::LagLimitedSink(std::unique_ptr<sinks::RawSink> inner, uint64_t max_lag_bytes,
                               uint64_t initial_backlog)
    : inner_(std::move(inner)), max_lag_(max_lag_bytes), accepted_(initial_backlog) {}

uint64_t LagLimitedSink::lag_bytes() const {
  const uint64_t a = accepted_.load(std::memory_order_relaxed);
  const uint64_t c = consumed_.load(std::memory_order_relaxed);
  return a > c ? a - c : 0;
}

sinks::SinkStatus LagLimitedSink::submit(std::vector<std::string>&& records,
                                         sinks::SinkCallback done) {
  if (lag_bytes() >= max_lag_) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return sinks::SinkStatus::kOverloaded;
  }
  uint64_t bytes = 0;
  for (const auto& r : records) bytes += r.size() + sinks::rawlog::kFrameHeader;
  const sinks::SinkStatus st = inner_->submit(std::move(records), std::move(done));
  if (st == sinks::SinkStatus::kOk) accepted_.fetch_add(bytes, std::memory_order_relaxed);
  return st;
}

bool LagLimitedSink::healthy() const {
  return inner_->healthy() && lag_bytes() < max_lag_;
}

sinks::SinkStats LagLimitedSink::stats() const {
  sinks::SinkStats s = inner_->stats();
  s.overloaded += refused_.load(std::memory_order_relaxed);
  s.healthy = healthy();
  return s;
}

}  // namespace furrow::run
