#include "enrich/enrichments/cross_navigation_config/cross_navigation_config.h"

#include <gtest/gtest.h>

#include "enrich/enrichments/test_helpers.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {
namespace {

// TV-13 (ParseCrossDomainSpec): "abc" alone has no timestamp → no context; with a timestamp the
// context carries the ISO form of 1426245561368 (2015-03-13 11:19:21.368).
TEST(CrossNavigation, Tv13Golden) {
  EXPECT_FALSE(cross_navigation_context("abc").has_value());
  EXPECT_FALSE(cross_navigation_context("").has_value());
  EXPECT_FALSE(cross_navigation_context("abc.not-a-timestamp").has_value());
  EXPECT_EQ(
      cross_navigation_context("abc.1426245561368").value_or(""),
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0","data":{"domain_user_id":"abc","timestamp":"2015-03-13T11:19:21.368Z","session_id":null,"user_id":null,"source_id":null,"source_platform":null,"reason":null}})");
}

TEST(CrossNavigation, FullLinkerWithBase64UrlParts) {
  // user id "user@x" / source "app-1" / reason "link click", base64url without padding.
  std::string sp =
      "4da6ee6d6d69aa18.1381188927100.75d0fc90-cef4-11e4-8830-0800200c9a66.dXNlckB4.YXBwLTE.web."
      "bGluayBjbGljaw";
  EXPECT_EQ(
      cross_navigation_context(sp).value_or(""),
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0","data":{"domain_user_id":"4da6ee6d6d69aa18","timestamp":"2013-10-07T23:35:27.100Z","session_id":"75d0fc90-cef4-11e4-8830-0800200c9a66","user_id":"user@x","source_id":"app-1","source_platform":"web","reason":"link click"}})");
}

TEST(CrossNavigation, AppliesFromPageQuery) {
  auto e = make_cross_navigation(
      testing::config_of(testing::config_json("com.snowplowanalytics.snowplow.enrichments",
                                              "cross_navigation_config", "1-0-0", "{}")),
      {});
  ASSERT_TRUE(e.ok()) << e.error().message;
  testing::TestEvent t;
  t.ev[event::Field::page_urlquery] = "gclid=x&_sp=4da6ee6d6d69aa18.1381188927100";
  (*e)->apply(t.ctx);
  ASSERT_EQ(t.ctx.pending_contexts().size(), 1u);
  EXPECT_NE(t.ctx.pending_contexts()[0].find("\"timestamp\":\"2013-10-07T23:35:27.100Z\""),
            std::string::npos);
  testing::TestEvent none;
  none.ctx.mutable_page_query() = parse_query("_sp=");
  (*e)->apply(none.ctx);
  EXPECT_TRUE(none.ctx.pending_contexts().empty());
  EXPECT_TRUE(none.ctx.failures().empty());
}

}  // namespace
}  // namespace furrow::enrich::enrichments
