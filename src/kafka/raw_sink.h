// The collector's Kafka raw sink: each serialised CollectorPayload becomes one record of the raw
// topic, keyed by network_userid (fallback: client IP) so one visitor's events stay in order.
//
// A submit() is acknowledged (callback kOk) only when librdkafka's delivery report says every
// record of it is stored by the broker with acks=all; the producer is idempotent, so its internal
// retries never duplicate. A failed delivery (timeout, broker error, purge at close) calls back
// kFailed, which the collector turns into a 503: never a silent drop. At most
// `max_pending_bytes` wait for reports; beyond that submit() refuses (kOverloaded).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "kafka/config.h"
#include "sinks/raw_sink.h"

namespace furrow::kafka {

// The partition key of one serialised CollectorPayload: its network_userid, else its IP address,
// else empty (librdkafka then spreads keyless records). Undecodable bytes give an empty key.
std::string partition_key(std::string_view thrift_bytes);

class KafkaRawSink final : public sinks::RawSink {
 public:
  // Connects lazily (librdkafka); errors are configuration errors.
  static Result<std::unique_ptr<KafkaRawSink>> open(const KafkaConfig& config,
                                                    std::size_t max_record_bytes = 1'000'000);
  ~KafkaRawSink() override;
  KafkaRawSink(const KafkaRawSink&) = delete;
  KafkaRawSink& operator=(const KafkaRawSink&) = delete;

  sinks::SinkStatus submit(std::vector<std::string>&& records, sinks::SinkCallback done) override;
  bool healthy() const override;
  // fsync_* fields hold the delivery latency (submit to last delivery report): the time until a
  // record is durable, which is what the collector's histogram means.
  sinks::SinkStats stats() const override;
  // Waits up to the delivery timeout (at most 8 s) for outstanding reports, then fails what is
  // left (purge: each such submit is called back kFailed). Idempotent.
  void close() override;
  std::string_view kind() const override { return "kafka"; }
  std::size_t max_record_bytes() const override { return max_record_bytes_; }

  // librdkafka's own retries (sum of brokers' txretries from its statistics).
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  struct Unit;
  KafkaRawSink(const KafkaConfig& config, std::size_t max_record_bytes);
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static int on_stats(rd_kafka_t* rk, char* json, size_t len, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void finish(Unit* unit);
  void poll_loop();

  KafkaConfig config_;
  std::size_t max_record_bytes_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};

  std::atomic<uint64_t> pending_bytes_{0}, pending_records_{0};
  std::atomic<uint64_t> delivered_{0}, delivered_bytes_{0}, units_done_{0}, failures_{0},
      overloaded_{0}, retries_{0}, latency_micros_sum_{0};
  std::array<std::atomic<uint64_t>, sinks::kFsyncBuckets.size() + 1> latency_buckets_{};
  std::atomic<bool> delivery_ok_{true};
  std::atomic<int64_t> last_failure_ns_{0};  // steady_clock of the last failed delivery
  std::atomic<bool> brokers_down_{false};
  std::atomic<bool> full_{false};  // a submit was refused since the last delivery
};

// The collector's hook: `--sink kafka` or `--sink kafka:BROKERS`. The `kafka:` section comes from
// `kafka_config_file` when given, else from the collector's own config file when it has one;
// BROKERS in the spec overrides the section's brokers. `max_record_bytes` and `max_pending_bytes`
// of `queue` apply.
bool is_kafka_sink_spec(std::string_view spec);
Result<std::unique_ptr<sinks::RawSink>> make_collector_sink(std::string_view spec,
                                                            const std::string& kafka_config_file,
                                                            const std::string& collector_config,
                                                            const sinks::QueuedSinkOptions& queue);

}  // namespace furrow::kafka
