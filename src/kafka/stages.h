// `furrow enrich --source kafka` and `furrow load --source kafka` (docs/kafka.md).
//
// enrich: consumes the raw topic in a consumer group, enriches each record (a record that cannot
// be read becomes a bad row, so no record stalls its partition), produces enriched TSV lines to
// the enriched topic and bad rows to the bad topic (keyed like their input), and commits the
// input offsets once every output is delivered.
// load: consumes the enriched and bad topics into SQLite or PostgreSQL through sinks::Loader and
// commits the offsets after the database transaction; the loader skips events already loaded, so
// replays never double count.
// Both run until SIGTERM/SIGINT, then finish the batch in hand, commit, leave the group and print
// a summary line on stderr.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "enrich/runner.h"
#include "kafka/config.h"
#include "sinks/loader.h"

namespace furrow::kafka {

struct StageOptions {
  std::string kafka_config;  // YAML file with a `kafka:` section; empty: defaults
  std::string brokers;       // overrides kafka.brokers when set
  std::string group;         // overrides kafka.group when set
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;  // Prometheus /metrics and /health; 0 = off
  bool quiet = false;
};

// Makes a running stage stop as SIGTERM does (for tests and embedding).
void request_stop();

// Reads the `kafka:` section (if any) and applies the overrides.
Result<KafkaConfig> stage_config(const StageOptions& options);

// Returns when stopped by a signal (Ok) or on a fatal Kafka error.
Status run_enrich_stage(const StageOptions& options, const enrich::RecordProcessor& processor);
Status run_load_stage(const StageOptions& options, const sinks::DbTarget& target,
                      const sinks::LoaderOptions& loader_options);

}  // namespace furrow::kafka
