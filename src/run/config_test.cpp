#include "run/config.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace furrow::run {
namespace {

TEST(RunConfig, DefaultsNeedNoFile) {
  auto c = parse_run_config("", "t.yaml", "/base");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 8080);
  EXPECT_TRUE(c->token.empty());
  // Models and dashboard refreshes take spare CPU only (where the system allows it).
  EXPECT_TRUE(c->models_idle_priority);
  EXPECT_EQ(c->models_chunk_events, 50'000u);
}

TEST(RunConfig, ReadsEveryKeyAndResolvesRelativePaths) {
  auto c = parse_run_config(R"(
run:
  host: 0.0.0.0
  port: 9090
  data_dir: data
  dashboard_path: /dash/
  iglu_registry: /abs/registry
  enrichments: enr
  enrich_threads: 2
  commit_interval_ms: 100
  models_interval_ms: 0
  models_cost_factor: 9
  models_idle_priority: false
  models_chunk_events: 20000
  max_lag_mb: 64
  auth: {token: abcdefabcdefabcdef123, secure_cookie: true}
  micro: {enabled: false, max_events: 10, max_mb: 2}
collector:
  cookie: {enabled: false}
)",
                            "t.yaml", "/base");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 9090);
  EXPECT_EQ(c->data_dir, "/base/data");
  EXPECT_EQ(c->iglu_registry, "/abs/registry");
  EXPECT_EQ(c->enrichments, "/base/enr");
  EXPECT_EQ(c->enrich_threads, 2u);
  EXPECT_EQ(c->models_interval_ms, 0);
  EXPECT_EQ(c->models_cost_factor, 9u);
  EXPECT_FALSE(c->models_idle_priority);  // the default is true
  EXPECT_EQ(c->models_chunk_events, 20'000u);
  EXPECT_EQ(c->max_lag_bytes, 64ull << 20);
  EXPECT_EQ(c->token, "abcdefabcdefabcdef123");
  EXPECT_TRUE(c->secure_cookie);
  EXPECT_FALSE(c->micro_enabled);
  EXPECT_EQ(c->micro_max_bytes, 2u << 20);
  EXPECT_TRUE(c->collector_from_file);
  EXPECT_FALSE(c->collector.cookie.enabled);
}

TEST(RunConfig, ErrorsNameTheKey) {
  auto typo = parse_run_config("run:\n  prot: 1\n", "t.yaml", "/");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("run.prot: unknown key"), std::string::npos);
  auto factor = parse_run_config("run:\n  models_cost_factor: 0\n", "t.yaml", "/");
  ASSERT_FALSE(factor.ok());
  EXPECT_NE(factor.error().message.find("run.models_cost_factor: 1..100"), std::string::npos);
  auto chunk = parse_run_config("run:\n  models_chunk_events: 10\n", "t.yaml", "/");
  ASSERT_FALSE(chunk.ok());
  EXPECT_NE(chunk.error().message.find("run.models_chunk_events: 1000..10000000"),
            std::string::npos);
  auto range = parse_run_config("run:\n  port: 70000\n", "t.yaml", "/");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("run.port"), std::string::npos);
  EXPECT_FALSE(parse_run_config("run:\n  auth: {password: x}\n", "t.yaml", "/").ok());
  EXPECT_FALSE(parse_run_config("run: [1]\n", "t.yaml", "/").ok());
  EXPECT_FALSE(parse_run_config("run:\n  port: [\n", "t.yaml", "/").ok());
}

TEST(RunConfig, TheExampleFileLoads) {
  auto c = load_run_config(test::source_dir() / "examples/furrow.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "127.0.0.1");
}

}  // namespace
}  // namespace furrow::run
