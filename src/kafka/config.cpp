#include "kafka/config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <exception>
#include <memory>

namespace furrow::kafka {
namespace {

// Properties that carry furrow's delivery guarantees; the config may not change them.
constexpr std::array<std::string_view, 6> kManaged = {
    "enable.idempotence",       "acks",     "enable.auto.commit",
    "enable.auto.offset.store", "group.id", "request.required.acks"};

Status read_properties(const YAML::Node& node, const std::string& where, Properties& out) {
  if (!node.IsMap()) return Error{where + ": must be a map of librdkafka properties"};
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!kv.second.IsScalar()) return Error{where + "." + key + ": must be a scalar"};
    for (std::string_view m : kManaged) {
      if (key == m) {
        return Error{where + "." + key +
                     ": furrow sets this property itself (delivery guarantees); remove it"};
      }
    }
    out.emplace_back(key, kv.second.as<std::string>());
  }
  return Status::Ok();
}

Status read_int(const YAML::Node& v, const std::string& path, long long lo, long long hi,
                long long& out) {
  try {
    out = v.as<long long>();
  } catch (const std::exception&) {
    return Error{path + ": must be an integer"};
  }
  if (out < lo || out > hi) {
    return Error{path + ": must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
  }
  return Status::Ok();
}

}  // namespace

Result<KafkaConfig> parse_kafka_config(const YAML::Node& section, const std::string& where) {
  KafkaConfig c;
  const std::string p = where + ": kafka.";
  if (!section.IsMap()) return Error{where + ": kafka: must be a map"};
  try {
    for (const auto& kv : section) {
      const std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      long long n = 0;
      Status st;
      if (k == "brokers") {
        if (v.IsSequence()) {
          for (const auto& b : v) {
            if (!c.brokers.empty()) c.brokers += ',';
            c.brokers += b.as<std::string>();
          }
        } else {
          c.brokers = v.as<std::string>();
        }
      } else if (k == "topics") {
        if (!v.IsMap()) return Error{p + "topics: must be a map"};
        for (const auto& t : v) {
          const std::string tk = t.first.as<std::string>();
          const std::string tv = t.second.as<std::string>();
          if (tv.empty()) return Error{p + "topics." + tk + ": must not be empty"};
          if (tk == "raw") {
            c.raw_topic = tv;
          } else if (tk == "enriched") {
            c.enriched_topic = tv;
          } else if (tk == "bad") {
            c.bad_topic = tv;
          } else {
            return Error{p + "topics." + tk + ": unknown key (raw, enriched, bad)"};
          }
        }
      } else if (k == "group") {
        c.group = v.as<std::string>();
      } else if (k == "max_pending_bytes") {
        st = read_int(v, p + k, 1024, 1ll << 40, n);
        c.max_pending_bytes = static_cast<std::size_t>(n);
      } else if (k == "delivery_timeout_ms") {
        st = read_int(v, p + k, 100, 3'600'000, n);
        c.delivery_timeout_ms = static_cast<int>(n);
      } else if (k == "batch_records") {
        st = read_int(v, p + k, 1, 1'000'000, n);
        c.batch_records = static_cast<std::size_t>(n);
      } else if (k == "batch_linger_ms") {
        st = read_int(v, p + k, 0, 60'000, n);
        c.batch_linger_ms = static_cast<int>(n);
      } else if (k == "idempotence") {
        if (!v.IsScalar() || (v.as<std::string>() != "true" && v.as<std::string>() != "false")) {
          return Error{p + k + ": must be true or false"};
        }
        c.idempotence = v.as<std::string>() == "true";
      } else if (k == "properties") {
        st = read_properties(v, p + k, c.properties);
      } else if (k == "producer") {
        st = read_properties(v, p + k, c.producer_properties);
      } else if (k == "consumer") {
        st = read_properties(v, p + k, c.consumer_properties);
      } else {
        return Error{p + k +
                     ": unknown key (brokers, topics, group, max_pending_bytes, "
                     "delivery_timeout_ms, batch_records, batch_linger_ms, idempotence, "
                     "properties, producer, consumer)"};
      }
      if (!st.ok()) return Error{st.message()};
    }
  } catch (const std::exception& e) {
    return Error{where + ": kafka: " + e.what()};
  }
  return c;
}

Result<KafkaConfig> load_kafka_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Error{path + ": " + e.what()};
  }
  if (!root.IsMap() || !root["kafka"]) return Error{path + ": no 'kafka' section"};
  return parse_kafka_config(root["kafka"], path);
}

bool has_kafka_section(const std::string& path) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["kafka"];
  } catch (const std::exception&) {
    return false;
  }
}

Result<rd_kafka_conf_t*> make_client_conf(const KafkaConfig& config, ClientKind kind,
                                          const std::string& group) {
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(),
                                                                          &rd_kafka_conf_destroy);
  char err[512];
  const auto set = [&](const std::string& k, const std::string& v,
                       std::string_view origin) -> Status {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Error{std::string(origin) + k + ": " + err};
    }
    return Status::Ok();
  };
  if (config.brokers.empty()) return Error{"kafka.brokers: no bootstrap servers configured"};
  Properties defaults = {{"bootstrap.servers", config.brokers}, {"client.id", "furrow"}};
  if (kind == ClientKind::kProducer) {
    defaults.insert(defaults.end(),
                    // One request in flight per broker: keeps records in order when
                    // `idempotence: false` turns the idempotent producer off (docs/kafka.md).
                    {{"max.in.flight.requests.per.connection", "1"},
                     {"linger.ms", "5"},
                     {"message.timeout.ms", std::to_string(config.delivery_timeout_ms)},
                     {"compression.type", "lz4"},
                     {"queue.buffering.max.messages", "1000000"},
                     {"queue.buffering.max.kbytes",
                      std::to_string(config.max_pending_bytes / 1024 + 64 * 1024)}});
  } else {
    defaults.insert(defaults.end(), {{"auto.offset.reset", "earliest"},
                                     {"enable.partition.eof", "false"},
                                     {"session.timeout.ms", "10000"},
                                     {"heartbeat.interval.ms", "1000"}});
  }
  for (const auto& [k, v] : defaults) {
    if (Status s = set(k, v, "kafka: "); !s.ok()) return Error{s.message()};
  }
  for (const auto& [k, v] : config.properties) {
    if (Status s = set(k, v, "kafka.properties."); !s.ok()) return Error{s.message()};
  }
  const Properties& own =
      kind == ClientKind::kProducer ? config.producer_properties : config.consumer_properties;
  for (const auto& [k, v] : own) {
    if (Status s = set(k, v, kind == ClientKind::kProducer ? "kafka.producer." : "kafka.consumer.");
        !s.ok()) {
      return Error{s.message()};
    }
  }
  // Enforced last: the guarantees of docs/kafka.md depend on these.
  Properties enforced;
  if (kind == ClientKind::kProducer) {
    enforced = {{"enable.idempotence", config.idempotence ? "true" : "false"}, {"acks", "all"}};
  } else {
    enforced = {{"group.id", group},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"}};
  }
  for (const auto& [k, v] : enforced) {
    if (Status s = set(k, v, "kafka: "); !s.ok()) return Error{s.message()};
  }
  return conf.release();
}

}  // namespace furrow::kafka
