// The consumer-group loop shared by `furrow enrich --source kafka` and `furrow load --source
// kafka`: consume a batch, hand it to a BatchHandler that writes its results, and only when the
// handler says they are durable commit the batch's offsets (at-least-once). A crash before the
// commit replays the batch; the loader's idempotence removes the duplicates.
//
// Rebalances: when partitions are revoked, the batch in hand is finished (written and committed)
// before they are given up; if that fails a few times it is abandoned uncommitted, so the next
// owner replays it. Partitions are assigned with their committed offsets.
//
// Threads: run() and every handler call happen on the calling thread (rebalance callbacks run
// inside rd_kafka_consumer_poll on that thread).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/metrics.h"

namespace furrow::kafka {

class BatchHandler {
 public:
  virtual ~BatchHandler() = default;
  // Writes the results of `batch`. Ok: they are durable and the offsets will be committed. An
  // error is an infrastructure error: the same batch comes again after a pause, so a handler may
  // keep what it already did between tries.
  virtual Status handle(const std::vector<rd_kafka_message_t*>& batch) = 0;
  // The batch in hand is given up uncommitted (revoked partitions, or stopping); forget it.
  virtual void abandon() = 0;
};

class ConsumerStage {
 public:
  static Result<std::unique_ptr<ConsumerStage>> open(const KafkaConfig& config,
                                                     std::vector<std::string> topics,
                                                     const std::string& group,
                                                     BatchHandler& handler, StageMetrics& metrics);
  ~ConsumerStage();
  ConsumerStage(const ConsumerStage&) = delete;
  ConsumerStage& operator=(const ConsumerStage&) = delete;

  // Consumes until `stop` becomes true (then finishes the batch in hand and leaves the group) or a
  // fatal consumer error occurs (returned).
  Status run(const std::atomic<bool>& stop);
  // For metrics (lag); valid until destruction.
  rd_kafka_t* consumer() const { return rk_; }

 private:
  ConsumerStage(const KafkaConfig& config, BatchHandler& handler, StageMetrics& metrics)
      : config_(config), handler_(handler), metrics_(metrics) {}
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque);
  // Writes and commits the batch in hand. `max_tries` 0 = until it succeeds or stop is set.
  bool finish_batch(int max_tries);
  void commit();
  void drop_batch();

  KafkaConfig config_;
  BatchHandler& handler_;
  StageMetrics& metrics_;
  rd_kafka_t* rk_ = nullptr;
  std::vector<rd_kafka_message_t*> batch_;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace furrow::kafka
