#include "kafka/consumer_stage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>
#include <utility>

namespace furrow::kafka {

Result<std::unique_ptr<ConsumerStage>> ConsumerStage::open(const KafkaConfig& config,
                                                           std::vector<std::string> topics,
                                                           const std::string& group,
                                                           BatchHandler& handler,
                                                           StageMetrics& metrics) {
  std::unique_ptr<ConsumerStage> s(new ConsumerStage(config, handler, metrics));
  auto conf = make_client_conf(config, ClientKind::kConsumer, group);
  if (!conf.ok()) return conf.error();
  char err[512];
  rd_kafka_conf_set_rebalance_cb(*conf, &ConsumerStage::on_rebalance);
  rd_kafka_conf_set_opaque(*conf, s.get());
  s->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (s->rk_ == nullptr) {
    rd_kafka_conf_destroy(*conf);
    return Error{std::string("kafka consumer: ") + err};
  }
  rd_kafka_poll_set_consumer(s->rk_);
  rd_kafka_topic_partition_list_t* subs =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) {
    rd_kafka_topic_partition_list_add(subs, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk_, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{std::string("kafka subscribe: ") + rd_kafka_err2str(e)};
  }
  return s;
}

ConsumerStage::~ConsumerStage() {
  drop_batch();
  if (rk_ != nullptr) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

void ConsumerStage::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<ConsumerStage*>(opaque);
  self->metrics_.rebalances.fetch_add(1, std::memory_order_relaxed);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::fprintf(stderr, "furrow kafka: assigned %d partitions\n", parts->cnt);
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e != nullptr) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
    }
    return;
  }
  std::fprintf(stderr, "furrow kafka: %s %d partitions\n",
               err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "revoked" : "lost", parts->cnt);
  // Revoked (or lost): finish the batch in hand while we still own its partitions. A few tries
  // only: past that it stays uncommitted and the next owner replays it.
  self->finish_batch(3);
  if (cooperative) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
    if (e != nullptr) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

void ConsumerStage::drop_batch() {
  for (auto* m : batch_) rd_kafka_message_destroy(m);
  batch_.clear();
}

bool ConsumerStage::finish_batch(int max_tries) {
  if (batch_.empty()) return true;
  std::chrono::milliseconds pause(100);
  for (int tries = 1;; ++tries) {
    Status st = handler_.handle(batch_);
    if (st.ok()) {
      metrics_.batches.fetch_add(1, std::memory_order_relaxed);
      commit();
      drop_batch();
      return true;
    }
    metrics_.batch_failures.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "furrow kafka: batch of %zu records not written (try %d): %s\n",
                 batch_.size(), tries, st.message().c_str());
    const bool stopping = stop_ != nullptr && stop_->load(std::memory_order_relaxed);
    if (stopping || (max_tries > 0 && tries >= max_tries)) {
      handler_.abandon();
      drop_batch();  // uncommitted: replayed from the last committed offset
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

void ConsumerStage::commit() {
  // Next offset to read per partition: the highest offset handled + 1.
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto* m : batch_) {
    auto& v = next[{rd_kafka_topic_name(m->rkt), m->partition}];
    v = std::max(v, m->offset + 1);
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(next.size()));
  for (const auto& [tp, off] : next) {
    rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = off;
  }
  const rd_kafka_resp_err_t e = rd_kafka_commit(rk_, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    metrics_.commits.fetch_add(1, std::memory_order_relaxed);
  } else {
    // The results are written; a failed commit only means a replay (deduplicated downstream).
    metrics_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "furrow kafka: offset commit failed: %s\n", rd_kafka_err2str(e));
  }
}

Status ConsumerStage::run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  std::size_t batch_bytes = 0;
  auto deadline = std::chrono::steady_clock::now();
  const auto linger = std::chrono::milliseconds(config_.batch_linger_ms);
  while (!stop.load(std::memory_order_relaxed)) {
    int timeout_ms = 100;
    if (!batch_.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, timeout_ms);
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (batch_.empty()) {
          deadline = std::chrono::steady_clock::now() + linger;
          batch_bytes = 0;
        }
        batch_.push_back(m);
        batch_bytes += m->len;
        metrics_.records.fetch_add(1, std::memory_order_relaxed);
      } else {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          std::fprintf(stderr, "furrow kafka: consumer: %s\n", rd_kafka_message_errstr(m));
        }
        const bool fatal = m->err == RD_KAFKA_RESP_ERR__FATAL;
        rd_kafka_message_destroy(m);
        if (fatal) {
          char why[256];
          rd_kafka_fatal_error(rk_, why, sizeof why);
          return Error{std::string("kafka consumer: fatal error: ") + why};
        }
      }
    }
    if (batch_.empty()) continue;
    if (batch_.size() >= config_.batch_records || batch_bytes >= (8u << 20) ||
        std::chrono::steady_clock::now() >= deadline) {
      finish_batch(0);
    }
  }
  finish_batch(1);
  return Status::Ok();
}

}  // namespace furrow::kafka
