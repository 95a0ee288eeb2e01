#include "kafka/stages.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <set>
#include <thread>

#include "enrich/pipeline.h"
#include "event/collector_payload.h"
#include "kafka/batch_producer.h"
#include "kafka/consumer_stage.h"
#include "kafka/mock_for_test.h"
#include "kafka/raw_sink.h"
#include "sources/input.h"
#include "support/test_support.h"

namespace furrow::kafka {
namespace {

std::string raw_event(int i) {
  event::CollectorPayload p;
  char nuid[40];
  std::snprintf(nuid, sizeof nuid, "11111111-0000-4000-8000-%012d", i % 7);
  p.network_user_id = nuid;
  p.ip_address = "10.0.0." + std::to_string(i % 200);
  p.timestamp = 1700000000000 + i;
  p.encoding = "UTF-8";
  p.collector = "test";
  p.path = "/i";
  char eid[40];
  std::snprintf(eid, sizeof eid, "00000000-0000-4000-8000-%012d", i);
  p.querystring = std::string("e=pv&p=web&tv=js-3.0.0&aid=app&url=http%3A%2F%2Fa.b%2F&eid=") + eid;
  return event::encode_thrift(p);
}

void produce_raw(const std::string& brokers, const std::string& topic,
                 const std::vector<std::string>& values) {
  KafkaConfig c;
  c.brokers = brokers;
  StageMetrics m("test");
  auto p = BatchProducer::open(c, m);
  ASSERT_TRUE(p.ok());
  std::vector<OutRecord> recs;
  for (const auto& v : values) recs.push_back({(*p)->topic(topic), partition_key(v), v, false});
  ASSERT_TRUE((*p)->deliver(recs).ok());
}

// Counts from a SQLite query; -1 when the table does not exist yet.
long long sqlite_count(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return -1;
  }
  sqlite3_stmt* st = nullptr;
  long long n = -1;
  if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

// A handler that records what it saw and fails its first `fail` tries.
struct Recorder : BatchHandler {
  int fail = 0;
  std::vector<std::string> seen;
  std::size_t want = 0;  // the test stops the stage once this many were seen
  Status handle(const std::vector<rd_kafka_message_t*>& batch) override {
    if (fail > 0) {
      --fail;
      return Error{"injected"};
    }
    for (const auto* m : batch) seen.emplace_back(static_cast<const char*>(m->payload), m->len);
    return Status::Ok();
  }
  void abandon() override {}
};

TEST(ConsumerStage, RetriesAFailedBatchThenCommitsSoNothingIsReadTwice) {
  testing::MockCluster mc;
  mc.create_topic("in", 3);
  std::vector<std::string> values;
  for (int i = 0; i < 200; ++i) values.push_back("v" + std::to_string(i));
  produce_raw(mc.bootstraps(), "in", values);
  KafkaConfig c;
  c.brokers = mc.bootstraps();
  c.batch_records = 50;
  StageMetrics metrics("t");
  {
    Recorder r;
    r.fail = 2;
    r.want = values.size();
    auto stage = ConsumerStage::open(c, {"in"}, "g1", r, metrics);
    ASSERT_TRUE(stage.ok()) << stage.error().message;
    std::atomic<bool> run_stop{false};
    std::thread stopper([&] {
      for (int i = 0; i < 200 && r.seen.size() < r.want; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      run_stop = true;
    });
    ASSERT_TRUE((*stage)->run(run_stop).ok());
    stopper.join();
    std::multiset<std::string> seen(r.seen.begin(), r.seen.end());
    EXPECT_EQ(seen, std::multiset<std::string>(values.begin(), values.end()));
    EXPECT_EQ(metrics.batch_failures.load(), 2u);
    EXPECT_GE(metrics.commits.load(), 1u);
    EXPECT_EQ(metrics.commit_failures.load(), 0u);
  }
  {
    // Same group again: everything was committed, so a new member sees nothing.
    Recorder r;
    auto stage = ConsumerStage::open(c, {"in"}, "g1", r, metrics);
    ASSERT_TRUE(stage.ok());
    std::atomic<bool> run_stop{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(4000));
      run_stop = true;
    });
    ASSERT_TRUE((*stage)->run(run_stop).ok());
    stopper.join();
    EXPECT_TRUE(r.seen.empty()) << r.seen.size();
  }
}

TEST(KafkaStages, EnrichThenLoadExactlyOnceWithPoisonAsBadRow) {
  testing::MockCluster mc;
  mc.create_topic("furrow-raw", 3);
  mc.create_topic("furrow-enriched", 3);
  mc.create_topic("furrow-bad", 1);
  constexpr int kEvents = 300;
  std::vector<std::string> raw;
  for (int i = 0; i < kEvents; ++i) raw.push_back(raw_event(i));
  raw.push_back("\x0b\x00\x01 this is not thrift");  // poison
  produce_raw(mc.bootstraps(), "furrow-raw", raw);

  const enrich::Pipeline pipeline(enrich::PipelineConfig{});
  const sources::PayloadProcessor processor(pipeline, sources::InputFormat::kThriftBinary);
  StageOptions o;
  o.brokers = mc.bootstraps();
  o.quiet = true;
  {
    std::thread stopper([&] {
      // Stop once every output is on the topics.
      auto good = testing::read_topic(o.brokers, "furrow-enriched", 3, kEvents, 30000);
      auto bad = testing::read_topic(o.brokers, "furrow-bad", 1, 1, 10000);
      EXPECT_EQ(good.size(), static_cast<std::size_t>(kEvents));
      EXPECT_EQ(bad.size(), 1u);
      if (!bad.empty()) {
        EXPECT_NE(bad[0].value.find("collector_payload_format_violation"), std::string::npos);
      }
      request_stop();
    });
    Status st = run_enrich_stage(o, processor);
    stopper.join();
    ASSERT_TRUE(st.ok()) << st.message();
  }
  const auto dir = test::temp_dir("kafka-stage");
  const std::string db = (dir / "events.db").string();
  auto target = sinks::parse_db_target("sqlite:" + db);
  ASSERT_TRUE(target.ok());
  for (const char* group : {"load-a", "load-b"}) {
    // The second group replays the whole topic: the loader must skip every event.
    o.group = group;
    std::thread stopper([&] {
      for (int i = 0; i < 300; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (sqlite_count(db, "select count(*) from atomic_events") == kEvents &&
            sqlite_count(db, "select count(*) from bad_rows") == 1 && i > 20) {
          break;
        }
      }
      request_stop();
    });
    Status st = run_load_stage(o, *target, sinks::LoaderOptions{});
    stopper.join();
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(sqlite_count(db, "select count(*) from atomic_events"), kEvents) << group;
    EXPECT_EQ(sqlite_count(db, "select count(distinct event_id) from atomic_events"), kEvents);
    EXPECT_EQ(sqlite_count(db, "select count(*) from bad_rows"), 1);
  }
  std::filesystem::remove_all(dir);
}

TEST(StageMetrics, RendersCountersLatencyAndNoLagWithoutConsumer) {
  StageMetrics m("enrich");
  m.records = 5;
  m.good = 4;
  m.bad = 1;
  m.observe_delivery(0.003);
  const std::string out = m.render(nullptr);
  EXPECT_NE(out.find("furrow_kafka_records_total{stage=\"enrich\"} 5\n"), std::string::npos);
  EXPECT_NE(out.find("furrow_kafka_good_total{stage=\"enrich\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("furrow_kafka_delivery_seconds_bucket{stage=\"enrich\",le=\"0.0025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(out.find("furrow_kafka_delivery_seconds_bucket{stage=\"enrich\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(out.find("consumer_lag{"), std::string::npos);
  const std::string stats = R"({"brokers":{"a":{"txretries":3},"b":{"txretries":4}}})";
  EXPECT_EQ(retries_from_stats(stats.data(), stats.size()), 7u);
  EXPECT_EQ(retries_from_stats("not json", 8), 0u);
  const std::string brokers =
      R"({"brokers":{"b:1/bootstrap":{"nodeid":-1,"state":"UP"},"b:1/1":{"nodeid":1,"state":"UP"},)"
      R"("b:2/2":{"nodeid":2,"state":"DOWN"}}})";
  EXPECT_EQ(brokers_up_from_stats(brokers.data(), brokers.size()), 1);
  EXPECT_EQ(brokers_up_from_stats("[]", 2), -1);
}

}  // namespace
}  // namespace furrow::kafka
