// Kafka settings of every furrow stage (docs/kafka.md): brokers, topics, consumer group, bounds,
// and librdkafka properties passed through unchanged (security.protocol, sasl.*, ssl.*, ...).
//
// Read from the `kafka:` section of a YAML file. Unknown keys are errors that name the file and
// the key. The properties furrow relies on for its delivery guarantees (acks, idempotence, manual
// offset commits) cannot be overridden as librdkafka properties; idempotence has its own key.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace YAML {
class Node;
}

namespace furrow::kafka {

using Properties = std::vector<std::pair<std::string, std::string>>;

struct KafkaConfig {
  std::string brokers;  // bootstrap.servers
  std::string raw_topic = "furrow-raw";
  std::string enriched_topic = "furrow-enriched";
  std::string bad_topic = "furrow-bad";
  std::string group;  // consumer group; empty: the stage's default (furrow-enrich, furrow-load)
  // Producer: bytes of records waiting for their delivery report; beyond it the collector
  // answers 503 at once.
  std::size_t max_pending_bytes = 64u << 20;
  // message.timeout.ms: a record not delivered in this time gets a failed delivery report.
  int delivery_timeout_ms = 60000;
  // Consumer stages: records per batch and the longest wait to fill one.
  std::size_t batch_records = 1000;
  int batch_linger_ms = 50;
  // The idempotent producer (default): no duplicates or reordering from producer retries. Turn it
  // off only for brokers that do not check idempotent sequence numbers (Kafka before 0.11, some
  // Kafka-compatible services, librdkafka's mock cluster): there librdkafka's inference "a later
  // request succeeded, so an earlier uncertain one was stored" is false, and records would be
  // reported delivered that were never stored. Off, a retry may store a record twice (the
  // loader removes duplicate events).
  bool idempotence = true;
  // Passed to librdkafka as they are: `properties` to every client, then `producer` or
  // `consumer` to that kind of client.
  Properties properties;
  Properties producer_properties;
  Properties consumer_properties;
};

// Parses a `kafka:` section; `where` (the file name) prefixes error messages.
Result<KafkaConfig> parse_kafka_config(const YAML::Node& section, const std::string& where);
// Loads the `kafka:` section of a YAML file. A file without one is an error.
Result<KafkaConfig> load_kafka_config(const std::string& path);
// True when the YAML file has a top-level `kafka` key (so a stage's --config can carry it).
bool has_kafka_section(const std::string& path);

enum class ClientKind { kProducer, kConsumer };

// A librdkafka configuration for one client: furrow's defaults, then the user's properties, then
// the properties furrow enforces. Errors name the property.
Result<rd_kafka_conf_t*> make_client_conf(const KafkaConfig& config, ClientKind kind,
                                          const std::string& group);

}  // namespace furrow::kafka
