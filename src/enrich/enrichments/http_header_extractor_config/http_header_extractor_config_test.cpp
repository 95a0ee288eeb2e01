#include "enrich/enrichments/http_header_extractor_config/http_header_extractor_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"

namespace furrow::enrich::enrichments {
namespace {

std::shared_ptr<const Enrichment> make(const std::string& params) {
  auto e = make_http_header_extractor(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                              "http_header_extractor_config", "1-0-0", params)),
      {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : nullptr;
}

TEST(HttpHeaderExtractor, FullMatchOnNameValuesTrimmed) {
  auto e = make(R"({"headersPattern":"X-Forwarded-.*|Host"})");
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.raw.headers = {"Host:  example.com ", "X-Forwarded-For: 1.2.3.4", "My-Host: no",
                   "X-Forwarded-Proto:https", "application/json"};
  e->apply(t.ctx);
  ASSERT_EQ(t.ctx.pending_contexts().size(), 3u);
  EXPECT_EQ(
      t.ctx.pending_contexts()[0],
      R"({"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"Host","value":"example.com"}})");
  EXPECT_EQ(
      t.ctx.pending_contexts()[1],
      R"({"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Forwarded-For","value":"1.2.3.4"}})");
  EXPECT_EQ(
      t.ctx.pending_contexts()[2],
      R"({"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Forwarded-Proto","value":"https"}})");
}

TEST(HttpHeaderExtractor, MatchAllAndInvalidPattern) {
  auto all = make(R"({"headersPattern":".*"})");
  ASSERT_NE(all, nullptr);
  testing::TestEvent t;
  t.raw.headers = {"A: 1", "B: 2"};
  all->apply(t.ctx);
  EXPECT_EQ(t.ctx.pending_contexts().size(), 2u);
  auto bad = make_http_header_extractor(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                              "http_header_extractor_config", "1-0-0",
                                              R"({"headersPattern":"(unclosed"})")),
      {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("headersPattern"), std::string::npos);
}

TEST(HttpHeaderExtractor, RememberedMatchesStayPerEnrichment) {
  // The per-thread memo of name matches: two enrichments with different patterns, and one that
  // replaces a destroyed one, each answer for themselves on the same names, event after event.
  auto host = make(R"({"headersPattern":"Host"})");
  auto other = make(R"({"headersPattern":"(?i)x-.*"})");
  ASSERT_NE(host, nullptr);
  ASSERT_NE(other, nullptr);
  for (int round = 0; round < 3; ++round) {
    testing::TestEvent a, b;
    a.raw.headers = b.raw.headers = {"Host: h", "X-A: 1", "x-b: 2", "Accept: */*"};
    host->apply(a.ctx);
    other->apply(b.ctx);
    ASSERT_EQ(a.ctx.pending_contexts().size(), 1u);
    EXPECT_NE(a.ctx.pending_contexts()[0].find(R"("name":"Host")"), std::string::npos);
    ASSERT_EQ(b.ctx.pending_contexts().size(), 2u);
    EXPECT_NE(b.ctx.pending_contexts()[1].find(R"("name":"x-b","value":"2")"), std::string::npos);
  }
  host.reset();
  auto accept = make(R"({"headersPattern":"Accept"})");
  ASSERT_NE(accept, nullptr);
  testing::TestEvent c;
  c.raw.headers = {"Host: h", "Accept: */*"};
  accept->apply(c.ctx);
  ASSERT_EQ(c.ctx.pending_contexts().size(), 1u);
  EXPECT_NE(c.ctx.pending_contexts()[0].find(R"("name":"Accept")"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
