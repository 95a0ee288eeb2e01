// Prometheus metrics of a Kafka consumer stage (furrow enrich/load --source kafka), served on its
// admin listener: records in and out, batches, commits, delivery latency and failures, librdkafka
// retries, and consumer lag per assigned partition (high watermark minus position).
#pragma once

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace furrow::kafka {

inline constexpr std::array<double, 10> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05,  0.1,    0.25,  1.0,  5.0};

class StageMetrics {
 public:
  explicit StageMetrics(std::string stage) : stage_(std::move(stage)) {}

  std::atomic<uint64_t> records{0};         // records consumed (each is processed once per try)
  std::atomic<uint64_t> good{0};            // enrich: enriched events produced; load: inserted
  std::atomic<uint64_t> bad{0};             // enrich: bad rows produced; load: bad rows stored
  std::atomic<uint64_t> duplicates{0};      // load: events already in the database
  std::atomic<uint64_t> batches{0};         // batches whose offsets were committed
  std::atomic<uint64_t> batch_failures{0};  // tries that failed (delivery or database) and retry
  std::atomic<uint64_t> commits{0}, commit_failures{0};
  std::atomic<uint64_t> delivery_failures{0};  // produced records with a failed delivery report
  std::atomic<uint64_t> retries{0};            // librdkafka's own retries (statistics)
  std::atomic<uint64_t> rebalances{0};

  void observe_delivery(double seconds);
  // `consumer` may be null (no lag lines).
  std::string render(rd_kafka_t* consumer) const;

 private:
  std::string stage_;
  std::atomic<uint64_t> latency_micros_sum_{0}, latency_count_{0};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets_{};
};

// Sum of the brokers' txretries in a librdkafka statistics JSON document; 0 when unreadable.
uint64_t retries_from_stats(const char* json, std::size_t len);
// Brokers (not bootstrap entries) in state UP in a statistics document; -1 when unreadable.
int brokers_up_from_stats(const char* json, std::size_t len);

}  // namespace furrow::kafka
