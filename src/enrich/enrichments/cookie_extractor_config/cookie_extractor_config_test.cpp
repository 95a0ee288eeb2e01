#include "enrich/enrichments/cookie_extractor_config/cookie_extractor_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"

namespace furrow::enrich::enrichments {
namespace {

TEST(CookieExtractor, ExtractsConfiguredCookiesInHeaderOrder) {
  auto e = make_cookie_extractor(testing::config_of(testing::config_json(
                                     "com.snowplowanalytics.snowplow", "cookie_extractor_config",
                                     "1-0-0", R"({"cookies":["sp","_ga"]})")),
                                 {});
  ASSERT_TRUE(e.ok()) << e.error().message;
  testing::TestEvent t;
  t.raw.headers = {"Host: example.com", "Cookie: _ga=GA1.2.3; other=1; sp=c5f3a09f",
                   "cookie: sp=second", "X-Cookie: sp=not-a-cookie-header", "application/json"};
  (*e)->apply(t.ctx);
  ASSERT_EQ(t.ctx.pending_contexts().size(), 3u);
  EXPECT_EQ(
      t.ctx.pending_contexts()[0],
      R"({"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"_ga","value":"GA1.2.3"}})");
  EXPECT_EQ(
      t.ctx.pending_contexts()[1],
      R"({"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"sp","value":"c5f3a09f"}})");
  EXPECT_EQ(
      t.ctx.pending_contexts()[2],
      R"({"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"sp","value":"second"}})");
  testing::TestEvent none;
  none.raw.headers = {"Cookie: a=b"};
  (*e)->apply(none.ctx);
  EXPECT_TRUE(none.ctx.pending_contexts().empty());
}

TEST(CookieExtractor, RequiresCookieList) {
  auto e = make_cookie_extractor(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow",
                                              "cookie_extractor_config", "1-0-0", "{}")),
      {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("data.parameters.cookies"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
