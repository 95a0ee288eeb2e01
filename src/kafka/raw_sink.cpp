#include "kafka/raw_sink.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "event/collector_payload.h"
#include "kafka/metrics.h"

namespace furrow::kafka {

std::string partition_key(std::string_view thrift_bytes) {
  auto p = event::decode_thrift(thrift_bytes);
  if (!p.ok()) return {};
  if (p->network_user_id && !p->network_user_id->empty()) return std::move(*p->network_user_id);
  if (p->ip_address) return std::move(*p->ip_address);
  return {};
}

// One submit(): its records live here until the last delivery report, so librdkafka sends them
// without copying. `remaining` counts outstanding reports plus one guard held by submit().
struct KafkaRawSink::Unit {
  std::vector<std::string> records;
  std::vector<std::string> keys;
  sinks::SinkCallback done;
  std::size_t bytes = 0;
  std::atomic<std::size_t> remaining{0};
  std::atomic<bool> failed{false};
  std::chrono::steady_clock::time_point start;
};

KafkaRawSink::KafkaRawSink(const KafkaConfig& config, std::size_t max_record_bytes)
    : config_(config), max_record_bytes_(max_record_bytes) {}

Result<std::unique_ptr<KafkaRawSink>> KafkaRawSink::open(const KafkaConfig& config,
                                                         std::size_t max_record_bytes) {
  std::unique_ptr<KafkaRawSink> sink(new KafkaRawSink(config, max_record_bytes));
  auto conf = make_client_conf(config, ClientKind::kProducer, "");
  if (!conf.ok()) return conf.error();
  char err[512];
  rd_kafka_conf_set(*conf, "statistics.interval.ms", "1000", err, sizeof err);
  rd_kafka_conf_set_dr_msg_cb(*conf, &KafkaRawSink::on_delivery);
  rd_kafka_conf_set_stats_cb(*conf, &KafkaRawSink::on_stats);
  rd_kafka_conf_set_error_cb(*conf, &KafkaRawSink::on_error);
  rd_kafka_conf_set_opaque(*conf, sink.get());
  sink->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (sink->rk_ == nullptr) {
    rd_kafka_conf_destroy(*conf);
    return Error{std::string("kafka producer: ") + err};
  }
  sink->topic_ = rd_kafka_topic_new(sink->rk_, config.raw_topic.c_str(), nullptr);
  if (sink->topic_ == nullptr) {
    return Error{"kafka topic '" + config.raw_topic +
                 "': " + rd_kafka_err2str(rd_kafka_last_error())};
  }
  sink->poller_ = std::thread([s = sink.get()] { s->poll_loop(); });
  return sink;
}

KafkaRawSink::~KafkaRawSink() {
  close();
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

void KafkaRawSink::poll_loop() {
  while (!stop_.load(std::memory_order_acquire)) rd_kafka_poll(rk_, 100);
}

sinks::SinkStatus KafkaRawSink::submit(std::vector<std::string>&& records,
                                       sinks::SinkCallback done) {
  if (closed_.load(std::memory_order_acquire)) return sinks::SinkStatus::kFailed;
  std::size_t bytes = 0;
  for (const auto& r : records) bytes += r.size();
  if (pending_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes >
      config_.max_pending_bytes) {
    pending_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    overloaded_.fetch_add(1, std::memory_order_relaxed);
    full_.store(true, std::memory_order_relaxed);
    return sinks::SinkStatus::kOverloaded;
  }
  auto* unit = new Unit;
  unit->records = std::move(records);
  unit->done = std::move(done);
  unit->bytes = bytes;
  unit->start = std::chrono::steady_clock::now();
  const std::size_t n = unit->records.size();
  unit->remaining.store(n + 1, std::memory_order_relaxed);
  pending_records_.fetch_add(n, std::memory_order_relaxed);
  unit->keys.reserve(n);
  for (const auto& r : unit->records) unit->keys.push_back(partition_key(r));
  std::size_t produced = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& rec = unit->records[i];
    const std::string& key = unit->keys[i];
    // No copy flag: the Unit keeps the bytes alive until the delivery report.
    const int rc =
        rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, 0, const_cast<char*>(rec.data()),
                         rec.size(), key.empty() ? nullptr : key.data(), key.size(), unit);
    if (rc == 0) {
      ++produced;
    } else {
      unit->failed.store(true, std::memory_order_relaxed);
      unit->remaining.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
  if (produced == 0) {
    // Nothing is in flight: refuse, and the callback is never called (RawSink contract).
    pending_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    pending_records_.fetch_sub(n, std::memory_order_relaxed);
    failures_.fetch_add(1, std::memory_order_relaxed);
    delete unit;
    return sinks::SinkStatus::kFailed;
  }
  if (unit->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(unit);
  return sinks::SinkStatus::kOk;
}

void KafkaRawSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaRawSink*>(opaque);
  auto* unit = static_cast<Unit*>(msg->_private);
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    unit->failed.store(true, std::memory_order_relaxed);
    self->delivery_ok_.store(false, std::memory_order_relaxed);
    self->last_failure_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                                 std::memory_order_relaxed);
  } else {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    self->delivered_bytes_.fetch_add(msg->len, std::memory_order_relaxed);
    self->delivery_ok_.store(true, std::memory_order_relaxed);
    self->brokers_down_.store(false, std::memory_order_relaxed);
    self->full_.store(false, std::memory_order_relaxed);
  }
  if (unit->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) self->finish(unit);
}

void KafkaRawSink::finish(Unit* unit) {
  const bool failed = unit->failed.load(std::memory_order_relaxed);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - unit->start).count();
  latency_micros_sum_.fetch_add(static_cast<uint64_t>(secs * 1e6), std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < sinks::kFsyncBuckets.size() && secs > sinks::kFsyncBuckets[b]) ++b;
  latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  units_done_.fetch_add(1, std::memory_order_relaxed);
  if (failed) failures_.fetch_add(1, std::memory_order_relaxed);
  pending_bytes_.fetch_sub(unit->bytes, std::memory_order_relaxed);
  pending_records_.fetch_sub(unit->records.size(), std::memory_order_relaxed);
  if (unit->done) unit->done(failed ? sinks::SinkStatus::kFailed : sinks::SinkStatus::kOk);
  delete unit;
}

int KafkaRawSink::on_stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
  auto* self = static_cast<KafkaRawSink*>(opaque);
  self->retries_.store(retries_from_stats(json, len), std::memory_order_relaxed);
  // Reachability from the statistics, so health recovers without traffic (a load balancer that
  // took the collector out on /sink-health would otherwise never send the traffic that clears it).
  const int up = brokers_up_from_stats(json, len);
  if (up >= 0) self->brokers_down_.store(up == 0, std::memory_order_relaxed);
  return 0;  // librdkafka frees the JSON
}

void KafkaRawSink::on_error(rd_kafka_t* rk, int err, const char*, void* opaque) {
  auto* self = static_cast<KafkaRawSink*>(opaque);
  // librdkafka logs every error itself; here only what changes the sink's state.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->brokers_down_.store(true, std::memory_order_relaxed);
  } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[256];
    rd_kafka_fatal_error(rk, why, sizeof why);
    std::fprintf(stderr, "furrow kafka sink: fatal producer error: %s\n", why);
  }
}

bool KafkaRawSink::healthy() const {
  if (closed_.load(std::memory_order_relaxed)) return false;
  // A failed delivery makes the sink unhealthy until a delivery succeeds or 5 s have passed.
  if (!delivery_ok_.load(std::memory_order_relaxed) &&
      std::chrono::steady_clock::now().time_since_epoch().count() -
              last_failure_ns_.load(std::memory_order_relaxed) <
          std::chrono::nanoseconds(std::chrono::seconds(5)).count()) {
    return false;
  }
  if (brokers_down_.load(std::memory_order_relaxed)) return false;
  if (full_.load(std::memory_order_relaxed)) return false;
  return pending_bytes_.load(std::memory_order_relaxed) < config_.max_pending_bytes;
}

sinks::SinkStats KafkaRawSink::stats() const {
  sinks::SinkStats s;
  s.pending_bytes = pending_bytes_.load(std::memory_order_relaxed);
  s.pending_records = pending_records_.load(std::memory_order_relaxed);
  s.records_written = delivered_.load(std::memory_order_relaxed);
  s.bytes_written = delivered_bytes_.load(std::memory_order_relaxed);
  s.batches = units_done_.load(std::memory_order_relaxed);
  s.write_failures = failures_.load(std::memory_order_relaxed);
  s.overloaded = overloaded_.load(std::memory_order_relaxed);
  s.fsyncs = s.batches;
  s.fsync_seconds_sum =
      static_cast<double>(latency_micros_sum_.load(std::memory_order_relaxed)) / 1e6;
  uint64_t cum = 0;
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    cum += latency_buckets_[i].load(std::memory_order_relaxed);
    s.fsync_buckets[i] = cum;
  }
  s.healthy = healthy();
  return s;
}

void KafkaRawSink::close() {
  if (closed_.exchange(true)) return;
  if (rk_ == nullptr) return;
  // Deliver what is queued; whatever is still undelivered afterwards gets a failed report
  // (purge), so every accepted submit() is called back exactly once.
  // At most 8 s, so that the collector still exits within its 10 s shutdown budget.
  rd_kafka_flush(rk_, std::min(config_.delivery_timeout_ms, 8000));
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_, 5000);
  stop_.store(true, std::memory_order_release);
  if (poller_.joinable()) poller_.join();
  rd_kafka_poll(rk_, 0);
}

bool is_kafka_sink_spec(std::string_view spec) {
  return spec == "kafka" || spec.rfind("kafka:", 0) == 0;
}

Result<std::unique_ptr<sinks::RawSink>> make_collector_sink(std::string_view spec,
                                                            const std::string& kafka_config_file,
                                                            const std::string& collector_config,
                                                            const sinks::QueuedSinkOptions& queue) {
  KafkaConfig cfg;
  if (!kafka_config_file.empty()) {
    auto c = load_kafka_config(kafka_config_file);
    if (!c.ok()) return c.error();
    cfg = std::move(*c);
  } else if (!collector_config.empty() && has_kafka_section(collector_config)) {
    auto c = load_kafka_config(collector_config);
    if (!c.ok()) return c.error();
    cfg = std::move(*c);
  }
  if (spec.size() > 6) cfg.brokers = std::string(spec.substr(6));
  if (cfg.brokers.empty()) {
    return Error{"sink kafka: no brokers (use --sink kafka:HOST:PORT[,...] or a kafka section)"};
  }
  cfg.max_pending_bytes = queue.max_pending_bytes;
  auto s = KafkaRawSink::open(cfg, queue.max_record_bytes);
  if (!s.ok()) return s.error();
  return std::unique_ptr<sinks::RawSink>(std::move(*s));
}

}  // namespace furrow::kafka
