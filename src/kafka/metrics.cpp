#include "kafka/metrics.h"

#include <rapidjson/document.h>

#include <cstdio>
#include <string_view>

namespace furrow::kafka {

void StageMetrics::observe_delivery(double seconds) {
  latency_micros_sum_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
}

std::string StageMetrics::render(rd_kafka_t* consumer) const {
  std::string out;
  char line[512];
  const char* st = stage_.c_str();
  const auto counter = [&](const char* name, const char* help, uint64_t v) {
    std::snprintf(line, sizeof line,
                  "# HELP furrow_kafka_%s %s\n# TYPE furrow_kafka_%s counter\n"
                  "furrow_kafka_%s{stage=\"%s\"} %llu\n",
                  name, help, name, name, st, static_cast<unsigned long long>(v));
    out += line;
  };
  const auto ld = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  counter("records_total", "Records consumed from Kafka.", ld(records));
  counter("good_total", "Enriched events produced (enrich) or inserted (load).", ld(good));
  counter("bad_total", "Bad rows produced (enrich) or stored (load).", ld(bad));
  counter("duplicates_total", "Events already loaded, skipped (load).", ld(duplicates));
  counter("batches_total", "Batches written and committed.", ld(batches));
  counter("batch_failures_total", "Batch tries that failed and were retried.", ld(batch_failures));
  counter("commits_total", "Offset commits that succeeded.", ld(commits));
  counter("commit_failures_total", "Offset commits that failed (the batch may be replayed).",
          ld(commit_failures));
  counter("delivery_failures_total", "Produced records whose delivery report was a failure.",
          ld(delivery_failures));
  counter("retries_total", "Requests librdkafka retried (statistics txretries).", ld(retries));
  counter("rebalances_total", "Partition assignments and revocations.", ld(rebalances));

  out += "# HELP furrow_kafka_delivery_seconds Time from producing a batch to its last report.\n";
  out += "# TYPE furrow_kafka_delivery_seconds histogram\n";
  uint64_t cum = 0;
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    cum += ld(latency_buckets_[i]);
    if (i < kLatencyBuckets.size()) {
      std::snprintf(line, sizeof line,
                    "furrow_kafka_delivery_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n", st,
                    kLatencyBuckets[i], static_cast<unsigned long long>(cum));
    } else {
      std::snprintf(line, sizeof line,
                    "furrow_kafka_delivery_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n", st,
                    static_cast<unsigned long long>(cum));
    }
    out += line;
  }
  std::snprintf(line, sizeof line,
                "furrow_kafka_delivery_seconds_sum{stage=\"%s\"} %.6f\n"
                "furrow_kafka_delivery_seconds_count{stage=\"%s\"} %llu\n",
                st, static_cast<double>(ld(latency_micros_sum_)) / 1e6, st,
                static_cast<unsigned long long>(ld(latency_count_)));
  out += line;

  if (consumer == nullptr) return out;
  out += "# HELP furrow_kafka_consumer_lag Records behind the partition's high watermark.\n";
  out += "# TYPE furrow_kafka_consumer_lag gauge\n";
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (rd_kafka_assignment(consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || parts == nullptr) {
    return out;
  }
  rd_kafka_position(consumer, parts);
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(consumer, p.topic, p.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    // Before the first fetch the position is unknown: everything from the low mark is behind.
    const int64_t pos = p.offset >= 0 ? p.offset : low;
    const int64_t lag = high > pos ? high - pos : 0;
    std::snprintf(line, sizeof line,
                  "furrow_kafka_consumer_lag{stage=\"%s\",topic=\"%s\",partition=\"%d\"} %lld\n",
                  st, p.topic, static_cast<int>(p.partition), static_cast<long long>(lag));
    out += line;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return out;
}

uint64_t retries_from_stats(const char* json, std::size_t len) {
  rapidjson::Document d;
  d.Parse(json, len);
  uint64_t sum = 0;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("brokers") || !d["brokers"].IsObject()) {
    return 0;
  }
  for (const auto& b : d["brokers"].GetObject()) {
    if (b.value.IsObject() && b.value.HasMember("txretries") && b.value["txretries"].IsUint64()) {
      sum += b.value["txretries"].GetUint64();
    }
  }
  return sum;
}

int brokers_up_from_stats(const char* json, std::size_t len) {
  rapidjson::Document d;
  d.Parse(json, len);
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("brokers") || !d["brokers"].IsObject()) {
    return -1;
  }
  int up = 0;
  for (const auto& b : d["brokers"].GetObject()) {
    if (!b.value.IsObject() || !b.value.HasMember("state") || !b.value["state"].IsString())
      continue;
    if (b.value.HasMember("nodeid") && b.value["nodeid"].IsInt() &&
        b.value["nodeid"].GetInt() < 0) {
      continue;  // a bootstrap entry, not a broker of the cluster
    }
    if (std::string_view(b.value["state"].GetString()) == "UP") ++up;
  }
  return up;
}

}  // namespace furrow::kafka
