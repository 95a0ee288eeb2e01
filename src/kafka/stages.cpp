#include "kafka/stages.h"

#include <csignal>
#include <cstdio>
#include <memory>

#include "kafka/admin_server.h"
#include "kafka/batch_producer.h"
#include "kafka/consumer_stage.h"

namespace furrow::kafka {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

void install_stop_signals() {
  g_stop.store(false);
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

class EnrichHandler final : public BatchHandler {
 public:
  EnrichHandler(const enrich::RecordProcessor& processor, BatchProducer& producer,
                rd_kafka_topic_t* good, rd_kafka_topic_t* bad, StageMetrics& metrics)
      : processor_(processor), producer_(producer), good_(good), bad_(bad), metrics_(metrics) {}

  Status handle(const std::vector<rd_kafka_message_t*>& batch) override {
    if (!ready_) {
      outputs_.clear();
      enrich::RunCounts counts;
      for (const auto* m : batch) {
        out_.clear();
        const std::string_view value(static_cast<const char*>(m->payload),
                                     m->payload == nullptr ? 0 : m->len);
        std::string key;
        if (m->key != nullptr) key.assign(static_cast<const char*>(m->key), m->key_len);
        ++counts.records;
        if (!processor_.process(value, static_cast<uint64_t>(m->offset), false, out_)) {
          ++counts.skipped;
          continue;
        }
        ++counts.payloads;
        counts.good += out_.good.size();
        counts.bad += out_.bad.size();
        for (auto& g : out_.good) outputs_.push_back({good_, key, std::move(g), false});
        for (auto& b : out_.bad) outputs_.push_back({bad_, key, std::move(b), false});
      }
      pending_ = counts;
      ready_ = true;
    }
    Status st = producer_.deliver(outputs_);
    if (!st.ok()) return st;
    totals.add(pending_);
    metrics_.good.fetch_add(pending_.good, std::memory_order_relaxed);
    metrics_.bad.fetch_add(pending_.bad, std::memory_order_relaxed);
    ready_ = false;
    return Status::Ok();
  }
  void abandon() override { ready_ = false; }

  enrich::RunCounts totals;

 private:
  const enrich::RecordProcessor& processor_;
  BatchProducer& producer_;
  rd_kafka_topic_t* good_;
  rd_kafka_topic_t* bad_;
  StageMetrics& metrics_;
  enrich::Output out_;
  std::vector<OutRecord> outputs_;
  enrich::RunCounts pending_;
  bool ready_ = false;
};

class LoadHandler final : public BatchHandler {
 public:
  LoadHandler(sinks::Loader& loader, StageMetrics& metrics) : loader_(loader), metrics_(metrics) {}

  Status handle(const std::vector<rd_kafka_message_t*>& batch) override {
    // Lines already added stay pending in the loader after a failed write; add only the rest.
    for (; next_ < batch.size(); ++next_) {
      const auto* m = batch[next_];
      if (m->payload == nullptr) continue;
      Status st = loader_.add(std::string_view(static_cast<const char*>(m->payload), m->len));
      if (!st.ok()) {
        ++next_;  // the line is pending; the failed part was writing the batch
        return st;
      }
    }
    Status st = loader_.flush();
    if (!st.ok()) return st;
    next_ = 0;
    const sinks::LoadStats& s = loader_.stats();
    metrics_.good.store(s.inserted, std::memory_order_relaxed);
    metrics_.bad.store(s.bad_rows, std::memory_order_relaxed);
    metrics_.duplicates.store(s.duplicates, std::memory_order_relaxed);
    return Status::Ok();
  }
  // Lines already added stay pending and are written with the next batch: harmless, the loader
  // deduplicates the replay by the next owner.
  void abandon() override { next_ = 0; }

 private:
  sinks::Loader& loader_;
  StageMetrics& metrics_;
  std::size_t next_ = 0;
};

Status start_admin(const StageOptions& o, StageMetrics& metrics, ConsumerStage& stage,
                   std::unique_ptr<AdminServer>& out, const char* who) {
  if (o.admin_port <= 0) return Status::Ok();
  rd_kafka_t* rk = stage.consumer();
  out = std::make_unique<AdminServer>([&metrics, rk] { return metrics.render(rk); },
                                      [] { return true; });
  Status st = out->start(o.admin_host, static_cast<uint16_t>(o.admin_port));
  if (!st.ok()) return st;
  std::fprintf(stderr, "furrow %s: admin listener on %s:%u\n", who, o.admin_host.c_str(),
               out->port());
  return Status::Ok();
}

}  // namespace

void request_stop() {
  g_stop.store(true);
}

Result<KafkaConfig> stage_config(const StageOptions& o) {
  KafkaConfig c;
  if (!o.kafka_config.empty()) {
    auto loaded = load_kafka_config(o.kafka_config);
    if (!loaded.ok()) return loaded.error();
    c = std::move(*loaded);
  }
  if (!o.brokers.empty()) c.brokers = o.brokers;
  if (!o.group.empty()) c.group = o.group;
  if (c.brokers.empty()) return Error{"kafka: no brokers (--brokers or kafka.brokers)"};
  return c;
}

Status run_enrich_stage(const StageOptions& o, const enrich::RecordProcessor& processor) {
  auto cfg = stage_config(o);
  if (!cfg.ok()) return cfg.error();
  const std::string group = cfg->group.empty() ? "furrow-enrich" : cfg->group;
  StageMetrics metrics("enrich");
  auto producer = BatchProducer::open(*cfg, metrics);
  if (!producer.ok()) return producer.error();
  rd_kafka_topic_t* good = (*producer)->topic(cfg->enriched_topic);
  rd_kafka_topic_t* bad = (*producer)->topic(cfg->bad_topic);
  if (good == nullptr || bad == nullptr) return Error{"kafka: cannot create topic handles"};
  EnrichHandler handler(processor, **producer, good, bad, metrics);
  install_stop_signals();
  auto stage = ConsumerStage::open(*cfg, {cfg->raw_topic}, group, handler, metrics);
  if (!stage.ok()) return stage.error();
  std::unique_ptr<AdminServer> admin;
  if (Status st = start_admin(o, metrics, **stage, admin, "enrich"); !st.ok()) return st;
  std::fprintf(stderr, "furrow enrich: consuming %s as group %s, producing %s and %s\n",
               cfg->raw_topic.c_str(), group.c_str(), cfg->enriched_topic.c_str(),
               cfg->bad_topic.c_str());
  std::fflush(stderr);
  Status st = (*stage)->run(g_stop);
  if (admin) admin->stop();
  stage->reset();  // leaves the group; nothing is in hand any more
  const auto& t = handler.totals;
  if (!o.quiet || !st.ok()) {
    std::fprintf(stderr,
                 "furrow enrich: read %llu payloads carrying %llu events: %llu good, %llu bad "
                 "(%llu batches committed, %llu retried)\n",
                 static_cast<unsigned long long>(t.payloads),
                 static_cast<unsigned long long>(t.events()),
                 static_cast<unsigned long long>(t.good), static_cast<unsigned long long>(t.bad),
                 static_cast<unsigned long long>(metrics.batches.load()),
                 static_cast<unsigned long long>(metrics.batch_failures.load()));
  }
  return st;
}

Status run_load_stage(const StageOptions& o, const sinks::DbTarget& target,
                      const sinks::LoaderOptions& loader_options) {
  auto cfg = stage_config(o);
  if (!cfg.ok()) return cfg.error();
  const std::string group = cfg->group.empty() ? "furrow-load" : cfg->group;
  sinks::LoaderOptions lo = loader_options;
  // One transaction per consumed batch: the stage flushes, then commits the offsets.
  lo.batch_size = cfg->batch_records + 1;
  if (lo.source.empty()) lo.source = "kafka:" + cfg->enriched_topic;
  auto loader = sinks::open_loader(target, lo);
  if (!loader.ok()) return loader.error();
  StageMetrics metrics("load");
  LoadHandler handler(**loader, metrics);
  install_stop_signals();
  auto stage =
      ConsumerStage::open(*cfg, {cfg->enriched_topic, cfg->bad_topic}, group, handler, metrics);
  if (!stage.ok()) return stage.error();
  std::unique_ptr<AdminServer> admin;
  if (Status st = start_admin(o, metrics, **stage, admin, "load"); !st.ok()) return st;
  std::fprintf(stderr, "furrow load: consuming %s and %s as group %s\n",
               cfg->enriched_topic.c_str(), cfg->bad_topic.c_str(), group.c_str());
  std::fflush(stderr);
  Status st = (*stage)->run(g_stop);
  if (admin) admin->stop();
  stage->reset();
  const sinks::LoadStats& s = (*loader)->stats();
  if (!o.quiet || !st.ok()) {
    std::fprintf(
        stderr,
        "furrow load: %llu events read, %llu inserted, %llu already loaded, %llu "
        "rejected as bad rows, %llu bad rows stored, %llu transactions\n",
        static_cast<unsigned long long>(s.events + s.rejected),
        static_cast<unsigned long long>(s.inserted), static_cast<unsigned long long>(s.duplicates),
        static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.bad_rows),
        static_cast<unsigned long long>(s.batches));
  }
  return st;
}

}  // namespace furrow::kafka
