// kafka_mock_cluster: hosts librdkafka's built-in mock cluster on 127.0.0.1 so several furrow
// processes (collector, enrich, load) can share one "Kafka" in tests and benchmarks.
//
// Usage: kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
// Prints "bootstrap HOST:PORT,..." on stdout, then reads commands from stdin, one per line, and
// answers each with "ok <command>" (or "error <why>"):
//   down ID | up ID              take broker ID (1..N) down / bring it back
//   errors PERCENT [API...]      from now on, PERCENT % of requests of each API (default: Produce,
//                                Fetch, OffsetCommit) fail with a retriable error
//   clear                        no more injected errors
//   coordinator group KEY ID     make broker ID the coordinator of consumer group KEY
//   produce TOPIC TEXT           append one record (TEXT, no key) to TOPIC, e.g. a poison record
//   offsets GROUP TOPIC          answers "ok offsets GROUP TOPIC P:COMMITTED/END ..." for every
//                                partition (diagnostics: where a group stands against the log end)
//   quit                         (or end of input) shut down
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

int16_t api_key(const std::string& name) {
  if (name == "Produce") return 0;
  if (name == "Fetch") return 1;
  if (name == "ListOffsets") return 2;
  if (name == "Metadata") return 3;
  if (name == "OffsetCommit") return 8;
  if (name == "OffsetFetch") return 9;
  if (name == "FindCoordinator") return 10;
  if (name == "JoinGroup") return 11;
  if (name == "Heartbeat") return 12;
  if (name == "SyncGroup") return 14;
  return static_cast<int16_t>(std::atoi(name.c_str()));
}

// A retriable error each API's clients recover from by retrying.
rd_kafka_resp_err_t retriable_error(int16_t api) {
  switch (api) {
    case 0:
      return RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    case 8:
      return RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
    default:
      return RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
  }
}

// " P:COMMITTED/END" for each partition of TOPIC: GROUP's committed offset (-1001: none) and the
// log end offset, read by a consumer client of GROUP that never joins it.
rd_kafka_resp_err_t group_offsets(const char* bootstrap, const std::string& group,
                                  const std::string& topic, int parts, std::string& out) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (c == nullptr) return RD_KAFKA_RESP_ERR__FAIL;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(parts);
  for (int p = 0; p < parts; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  rd_kafka_resp_err_t e = rd_kafka_committed(c, list, 10000);
  for (int p = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && p < parts; ++p) {
    int64_t low = 0, high = 0;
    e = rd_kafka_query_watermark_offsets(c, topic.c_str(), p, &low, &high, 10000);
    out += " " + std::to_string(p) + ":" + std::to_string(list->elems[p].offset) + "/" +
           std::to_string(high);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(c);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (a == "--topic" && i + 1 < argc) {
      const std::string t = argv[++i];
      const auto colon = t.rfind(':');
      if (colon == std::string::npos) {
        topics.emplace_back(t, 6);
      } else {
        topics.emplace_back(t.substr(0, colon), std::atoi(t.c_str() + colon + 1));
      }
    } else {
      std::fprintf(stderr, "usage: %s [--brokers N] [--topic NAME:PARTITIONS]...\n", argv[0]);
      return 2;
    }
  }
  if (brokers < 1 || brokers > 16) {
    std::fprintf(stderr, "--brokers: 1..16\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), err,
                        sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(rk);
  if (mc == nullptr) {
    std::fprintf(stderr, "no mock cluster\n");
    return 1;
  }
  for (const auto& [name, parts] : topics) {
    const int rf = brokers < 3 ? brokers : 3;
    const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name.c_str(), parts, rf);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "topic %s: %s\n", name.c_str(), rd_kafka_err2str(e));
      return 1;
    }
  }
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);

  std::mt19937 rng(42);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cmd.empty()) continue;
    if (cmd == "quit") break;
    if (cmd == "down" || cmd == "up") {
      int id = 0;
      in >> id;
      e = cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id)
                        : rd_kafka_mock_broker_set_up(mc, id);
    } else if (cmd == "errors") {
      int pct = 0;
      in >> pct;
      std::vector<std::string> apis;
      for (std::string a; in >> a;) apis.push_back(a);
      if (apis.empty()) apis = {"Produce", "Fetch", "OffsetCommit"};
      rd_kafka_mock_clear_request_errors(mc, 0);
      for (const auto& a : apis) {
        const int16_t key = api_key(a);
        rd_kafka_mock_clear_request_errors(mc, key);
        // The cluster pops one entry per request of that API; NO_ERROR entries pass through. A
        // long random sequence gives PERCENT % failures for the rest of the run.
        std::vector<rd_kafka_resp_err_t> seq(200000);
        std::uniform_int_distribution<int> d(0, 99);
        for (auto& s : seq) s = d(rng) < pct ? retriable_error(key) : RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_mock_push_request_errors_array(mc, key, seq.size(), seq.data());
      }
    } else if (cmd == "clear") {
      for (int16_t k = 0; k < 64; ++k) rd_kafka_mock_clear_request_errors(mc, k);
    } else if (cmd == "coordinator") {
      std::string type, key;
      int id = 0;
      in >> type >> key >> id;
      e = rd_kafka_mock_coordinator_set(mc, type.c_str(), key.c_str(), id);
    } else if (cmd == "produce") {
      std::string topic, text;
      in >> topic;
      std::getline(in, text);
      if (!text.empty() && text.front() == ' ') text.erase(0, 1);
      e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_VALUE(text.data(), text.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = rd_kafka_flush(rk, 30000);
    } else if (cmd == "offsets") {
      std::string group, topic;
      in >> group >> topic;
      int parts = 0;
      for (const auto& [name, n] : topics) {
        if (name == topic) parts = n;
      }
      std::string answer;
      e = group_offsets(rd_kafka_mock_cluster_bootstraps(mc), group, topic, parts, answer);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::printf("ok %s%s\n", line.c_str(), answer.c_str());
        std::fflush(stdout);
        continue;
      }
    } else {
      std::printf("error unknown command: %s\n", cmd.c_str());
      std::fflush(stdout);
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::printf("error %s: %s\n", line.c_str(), rd_kafka_err2str(e));
    } else {
      std::printf("ok %s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  rd_kafka_destroy(rk);
  return 0;
}
