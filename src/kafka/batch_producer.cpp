#include "kafka/batch_producer.h"

#include <chrono>

namespace furrow::kafka {

Result<std::unique_ptr<BatchProducer>> BatchProducer::open(const KafkaConfig& config,
                                                           StageMetrics& metrics) {
  std::unique_ptr<BatchProducer> p(new BatchProducer(metrics));
  auto conf = make_client_conf(config, ClientKind::kProducer, "");
  if (!conf.ok()) return conf.error();
  char err[512];
  rd_kafka_conf_set(*conf, "statistics.interval.ms", "1000", err, sizeof err);
  rd_kafka_conf_set_dr_msg_cb(*conf, &BatchProducer::on_delivery);
  rd_kafka_conf_set_stats_cb(*conf, &BatchProducer::on_stats);
  rd_kafka_conf_set_opaque(*conf, p.get());
  p->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (p->rk_ == nullptr) {
    rd_kafka_conf_destroy(*conf);
    return Error{std::string("kafka producer: ") + err};
  }
  return p;
}

BatchProducer::~BatchProducer() {
  if (rk_ == nullptr) return;
  rd_kafka_flush(rk_, 10000);
  for (auto& [name, t] : topics_) rd_kafka_topic_destroy(t);
  rd_kafka_destroy(rk_);
}

rd_kafka_topic_t* BatchProducer::topic(const std::string& name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return it->second;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
  if (t != nullptr) topics_.emplace(name, t);
  return t;
}

void BatchProducer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<BatchProducer*>(opaque);
  auto* rec = static_cast<OutRecord*>(msg->_private);
  --self->outstanding_;
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rec->delivered = true;
  } else {
    ++self->failed_;
    self->last_error_ = rd_kafka_err2str(msg->err);
  }
}

int BatchProducer::on_stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<BatchProducer*>(opaque)->metrics_.retries.store(retries_from_stats(json, len),
                                                              std::memory_order_relaxed);
  return 0;
}

Status BatchProducer::deliver(std::vector<OutRecord>& records) {
  const auto start = std::chrono::steady_clock::now();
  failed_ = 0;
  std::size_t sent = 0;
  for (auto& r : records) {
    if (r.delivered) continue;
    for (;;) {
      const int rc =
          rd_kafka_produce(r.topic, RD_KAFKA_PARTITION_UA, 0, r.value.data(), r.value.size(),
                           r.key.empty() ? nullptr : r.key.data(), r.key.size(), &r);
      if (rc == 0) {
        ++outstanding_;
        ++sent;
        break;
      }
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ++failed_;
        last_error_ = rd_kafka_err2str(rd_kafka_last_error());
        break;
      }
      rd_kafka_poll(rk_, 10);  // queue full: serve reports, then try again
    }
  }
  // Every produced record gets exactly one report within message.timeout.ms.
  while (outstanding_ > 0) rd_kafka_poll(rk_, 100);
  if (sent > 0) {
    metrics_.observe_delivery(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (failed_ > 0) {
    metrics_.delivery_failures.fetch_add(failed_, std::memory_order_relaxed);
    return Error{std::to_string(failed_) + " records not delivered: " + last_error_};
  }
  return Status::Ok();
}

}  // namespace furrow::kafka
