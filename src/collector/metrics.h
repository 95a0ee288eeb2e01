// Prometheus metrics of the collector, served on the admin listener (never the public port).
// Counters are relaxed atomics updated on the I/O threads; render() reads them with the sink's
// statistics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "collector/http_types.h"
#include "sinks/raw_sink.h"

namespace furrow::collector {

class Metrics {
 public:
  static constexpr std::array<int, 15> kStatuses = {200, 302, 304, 400, 404, 405, 408, 413,
                                                    414, 431, 500, 503, 504, 0,   -1};

  void count_request(Route route, int status, std::size_t bytes_in, std::size_t bytes_out);
  void count_bad_rows(std::size_t n) { bad_rows_.fetch_add(n, std::memory_order_relaxed); }
  void count_stored(std::size_t records) {
    payloads_.fetch_add(records, std::memory_order_relaxed);
  }
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() { refused_connections_.fetch_add(1, std::memory_order_relaxed); }
  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }

  std::string render(const sinks::SinkStats& sink) const;

 private:
  static std::size_t status_slot(int status);
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>,
             static_cast<std::size_t>(Route::kCount)>
      requests_{};
  std::atomic<uint64_t> bytes_in_{0}, bytes_out_{0}, bad_rows_{0}, payloads_{0}, responses_503_{0},
      refused_connections_{0};
  std::atomic<int64_t> connections_{0};
};

}  // namespace furrow::collector
