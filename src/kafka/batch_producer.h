// The producer of the consumer stages: sends a batch of records and waits for every delivery
// report, so the caller commits its input offsets only once all results are stored (acks=all,
// idempotent). Records whose delivery failed are sent again on the next deliver() call; the ones
// already delivered are not.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/metrics.h"

namespace furrow::kafka {

struct OutRecord {
  rd_kafka_topic_t* topic = nullptr;
  std::string key;  // empty: no key
  std::string value;
  bool delivered = false;
};

class BatchProducer {
 public:
  static Result<std::unique_ptr<BatchProducer>> open(const KafkaConfig& config,
                                                     StageMetrics& metrics);
  ~BatchProducer();
  BatchProducer(const BatchProducer&) = delete;
  BatchProducer& operator=(const BatchProducer&) = delete;

  // A topic handle owned by the producer.
  rd_kafka_topic_t* topic(const std::string& name);
  // Produces every record not yet delivered and waits for all their reports. Ok when every record
  // is delivered. `records` must not change while this runs (librdkafka reads the bytes in place).
  Status deliver(std::vector<OutRecord>& records);

 private:
  BatchProducer(StageMetrics& metrics) : metrics_(metrics) {}
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static int on_stats(rd_kafka_t* rk, char* json, size_t len, void* opaque);

  StageMetrics& metrics_;
  rd_kafka_t* rk_ = nullptr;
  std::map<std::string, rd_kafka_topic_t*> topics_;
  std::size_t outstanding_ = 0;  // reports still due; only touched on the caller's thread
  std::size_t failed_ = 0;
  std::string last_error_;
};

}  // namespace furrow::kafka
