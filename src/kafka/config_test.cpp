#include "kafka/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "support/test_support.h"

namespace furrow::kafka {
namespace {

TEST(KafkaConfig, ParsesEverySection) {
  auto c = parse_kafka_config(YAML::Load(R"(
brokers: [a:9092, b:9092]
topics: {raw: r, enriched: e, bad: b}
group: g
max_pending_bytes: 4096
delivery_timeout_ms: 1500
batch_records: 10
batch_linger_ms: 5
properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN}
producer: {linger.ms: 2}
consumer: {session.timeout.ms: 6000}
)"),
                              "f.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->brokers, "a:9092,b:9092");
  EXPECT_EQ(c->raw_topic, "r");
  EXPECT_EQ(c->enriched_topic, "e");
  EXPECT_EQ(c->bad_topic, "b");
  EXPECT_EQ(c->group, "g");
  EXPECT_EQ(c->max_pending_bytes, 4096u);
  EXPECT_EQ(c->delivery_timeout_ms, 1500);
  EXPECT_EQ(c->batch_records, 10u);
  ASSERT_EQ(c->properties.size(), 2u);
  EXPECT_EQ(c->properties[0].first, "security.protocol");
  EXPECT_EQ(c->properties[0].second, "SASL_SSL");
  ASSERT_EQ(c->producer_properties.size(), 1u);
  ASSERT_EQ(c->consumer_properties.size(), 1u);
}

TEST(KafkaConfig, ErrorsNameFileAndKey) {
  auto c = parse_kafka_config(YAML::Load("brokers: x\nbrokerz: y\n"), "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("f.yaml: kafka.brokerz"), std::string::npos)
      << c.error().message;
  c = parse_kafka_config(YAML::Load("topics: {rwa: x}\n"), "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("topics.rwa"), std::string::npos);
  c = parse_kafka_config(YAML::Load("delivery_timeout_ms: soon\n"), "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("delivery_timeout_ms: must be an integer"), std::string::npos);
}

TEST(KafkaConfig, GuaranteesCannotBeOverridden) {
  for (const char* p : {"enable.auto.commit", "acks", "enable.idempotence", "group.id"}) {
    auto c = parse_kafka_config(YAML::Load(std::string("properties: {") + p + ": x}"), "f.yaml");
    ASSERT_FALSE(c.ok()) << p;
    EXPECT_NE(c.error().message.find(p), std::string::npos);
  }
}

TEST(KafkaConfig, ClientConfEnforcesAcksIdempotenceAndManualCommit) {
  KafkaConfig c;
  c.brokers = "127.0.0.1:1";
  c.properties = {{"client.id", "mine"}};
  auto pc = make_client_conf(c, ClientKind::kProducer, "");
  ASSERT_TRUE(pc.ok()) << pc.error().message;
  char v[128];
  size_t n = sizeof v;
  ASSERT_EQ(rd_kafka_conf_get(*pc, "enable.idempotence", v, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(v, "true");
  n = sizeof v;
  ASSERT_EQ(rd_kafka_conf_get(*pc, "acks", v, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(v, "-1");  // all
  n = sizeof v;
  ASSERT_EQ(rd_kafka_conf_get(*pc, "client.id", v, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(v, "mine");
  rd_kafka_conf_destroy(*pc);

  auto cc = make_client_conf(c, ClientKind::kConsumer, "grp");
  ASSERT_TRUE(cc.ok());
  n = sizeof v;
  ASSERT_EQ(rd_kafka_conf_get(*cc, "enable.auto.commit", v, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(v, "false");
  n = sizeof v;
  ASSERT_EQ(rd_kafka_conf_get(*cc, "group.id", v, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(v, "grp");
  rd_kafka_conf_destroy(*cc);
}

TEST(KafkaConfig, IdempotenceHasItsOwnKeyAndStaysOnByDefault) {
  auto on = parse_kafka_config(YAML::Load("brokers: 127.0.0.1:1\n"), "f.yaml");
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->idempotence);
  auto off = parse_kafka_config(YAML::Load("brokers: 127.0.0.1:1\nidempotence: false\n"), "f.yaml");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->idempotence);
  auto bad = parse_kafka_config(YAML::Load("idempotence: maybe\n"), "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("idempotence: must be true or false"), std::string::npos);

  char v[128];
  for (const bool idem : {true, false}) {
    KafkaConfig c;
    c.brokers = "127.0.0.1:1";
    c.idempotence = idem;
    auto pc = make_client_conf(c, ClientKind::kProducer, "");
    ASSERT_TRUE(pc.ok()) << pc.error().message;
    size_t n = sizeof v;
    ASSERT_EQ(rd_kafka_conf_get(*pc, "enable.idempotence", v, &n), RD_KAFKA_CONF_OK);
    EXPECT_STREQ(v, idem ? "true" : "false");
    n = sizeof v;
    ASSERT_EQ(rd_kafka_conf_get(*pc, "acks", v, &n), RD_KAFKA_CONF_OK);
    EXPECT_STREQ(v, "-1");  // acks=all either way
    rd_kafka_conf_destroy(*pc);
  }
}

TEST(KafkaConfig, UnknownLibrdkafkaPropertyIsAnError) {
  KafkaConfig c;
  c.brokers = "127.0.0.1:1";
  c.consumer_properties = {{"no.such.property", "1"}};
  auto cc = make_client_conf(c, ClientKind::kConsumer, "g");
  ASSERT_FALSE(cc.ok());
  EXPECT_NE(cc.error().message.find("kafka.consumer.no.such.property"), std::string::npos)
      << cc.error().message;
  c.consumer_properties.clear();
  c.brokers.clear();
  EXPECT_FALSE(make_client_conf(c, ClientKind::kConsumer, "g").ok());
}

TEST(KafkaConfig, LoadsTheKafkaSectionOfAFile) {
  auto dir = test::temp_dir("kafka-config");
  const auto path = (dir / "furrow.yaml").string();
  std::ofstream(path) << "collector: {port: 1}\nkafka:\n  brokers: h:1\n  group: x\n";
  EXPECT_TRUE(has_kafka_section(path));
  auto c = load_kafka_config(path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->brokers, "h:1");
  std::ofstream(path) << "collector: {port: 1}\n";
  EXPECT_FALSE(has_kafka_section(path));
  EXPECT_FALSE(load_kafka_config(path).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace furrow::kafka
