#include "collector/metrics.h"

#include <cstdio>

namespace furrow::collector {

std::size_t Metrics::status_slot(int status) {
  for (std::size_t i = 0; i + 2 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size() - 2;  // "other"
}

void Metrics::count_request(Route route, int status, std::size_t bytes_in, std::size_t bytes_out) {
  auto r = static_cast<std::size_t>(route);
  if (r >= requests_.size()) r = static_cast<std::size_t>(Route::kRejected);
  requests_[r][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  bytes_in_.fetch_add(bytes_in, std::memory_order_relaxed);
  bytes_out_.fetch_add(bytes_out, std::memory_order_relaxed);
  if (status == 503) responses_503_.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const sinks::SinkStats& sink) const {
  std::string out;
  char line[256];
  out += "# HELP furrow_collector_requests_total HTTP requests by route and status.\n";
  out += "# TYPE furrow_collector_requests_total counter\n";
  for (std::size_t r = 0; r < requests_.size(); ++r) {
    for (std::size_t s = 0; s + 1 < kStatuses.size(); ++s) {
      uint64_t v = requests_[r][s].load(std::memory_order_relaxed);
      if (v == 0) continue;
      std::string status =
          s + 2 == kStatuses.size() ? std::string("other") : std::to_string(kStatuses[s]);
      std::snprintf(line, sizeof line,
                    "furrow_collector_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                    std::string(route_name(static_cast<Route>(r))).c_str(), status.c_str(),
                    static_cast<unsigned long long>(v));
      out += line;
    }
  }
  auto counter = [&](const char* name, const char* help, const char* type, double v) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                  type, name, v);
    out += line;
  };
  counter("furrow_collector_request_bytes_total", "Request bytes received (headers and bodies).",
          "counter", static_cast<double>(bytes_in_.load()));
  counter("furrow_collector_response_bytes_total", "Response bytes sent.", "counter",
          static_cast<double>(bytes_out_.load()));
  counter("furrow_collector_payloads_stored_total", "Raw payload records acknowledged by the sink.",
          "counter", static_cast<double>(payloads_.load()));
  counter("furrow_collector_bad_rows_total", "size_violation bad rows written to the bad output.",
          "counter", static_cast<double>(bad_rows_.load()));
  counter("furrow_collector_503_total", "Requests answered 503 (sink overloaded or failing).",
          "counter", static_cast<double>(responses_503_.load()));
  counter("furrow_collector_connections", "Open client connections.", "gauge",
          static_cast<double>(connections_.load()));
  counter("furrow_collector_refused_connections_total",
          "Connections closed at once: max_connections reached.", "counter",
          static_cast<double>(refused_connections_.load()));
  counter("furrow_sink_queue_bytes", "Bytes queued in the raw sink (bounded).", "gauge",
          static_cast<double>(sink.pending_bytes));
  counter("furrow_sink_queue_records", "Records queued in the raw sink.", "gauge",
          static_cast<double>(sink.pending_records));
  counter("furrow_sink_records_written_total", "Records written by the raw sink.", "counter",
          static_cast<double>(sink.records_written));
  counter("furrow_sink_bytes_written_total", "Record bytes written by the raw sink.", "counter",
          static_cast<double>(sink.bytes_written));
  counter("furrow_sink_write_failures_total", "Failed raw sink writes or fsyncs.", "counter",
          static_cast<double>(sink.write_failures));
  counter("furrow_sink_overloaded_total",
          "Submissions refused because the queue bound was reached.", "counter",
          static_cast<double>(sink.overloaded));
  counter("furrow_sink_healthy", "1 when the raw sink is healthy.", "gauge", sink.healthy ? 1 : 0);
  out += "# HELP furrow_sink_fsync_seconds Latency of raw sink fsyncs (one per group commit).\n";
  out += "# TYPE furrow_sink_fsync_seconds histogram\n";
  for (std::size_t i = 0; i < sinks::kFsyncBuckets.size(); ++i) {
    std::snprintf(line, sizeof line, "furrow_sink_fsync_seconds_bucket{le=\"%g\"} %llu\n",
                  sinks::kFsyncBuckets[i], static_cast<unsigned long long>(sink.fsync_buckets[i]));
    out += line;
  }
  std::snprintf(
      line, sizeof line,
      "furrow_sink_fsync_seconds_bucket{le=\"+Inf\"} %llu\nfurrow_sink_fsync_seconds_sum %.9g\n"
      "furrow_sink_fsync_seconds_count %llu\n",
      static_cast<unsigned long long>(sink.fsync_buckets.back()), sink.fsync_seconds_sum,
      static_cast<unsigned long long>(sink.fsyncs));
  out += line;
  return out;
}

}  // namespace furrow::collector
