#include "iglu/schema_key.h"

#include <gtest/gtest.h>

#include "iglu/json_schema.h"

namespace furrow::iglu {
namespace {

TEST(SchemaKey, ParsesAndPrintsIgluUris) {
  auto k =
      SchemaKey::parse("iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-12");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->vendor, "com.snowplowanalytics.snowplow");
  EXPECT_EQ(k->name, "ua_parser_context");
  EXPECT_EQ(k->format, "jsonschema");
  EXPECT_EQ(k->version, (SchemaVer{1, 0, 12}));
  EXPECT_EQ(k->uri(), "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-12");
  EXPECT_EQ(k->path(), "com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-12");
}

TEST(SchemaKey, RejectsMalformedKeys) {
  for (const char* bad :
       {"", "iglu:", "com.acme/x/jsonschema/1-0-0", "iglu:com.acme/x/jsonschema/1-0",
        "iglu:com.acme/x/jsonschema/1-0-0-0", "iglu:com.acme/x/jsonschema/1-a-0",
        "iglu:com.acme/x/json schema/1-0-0", "iglu:com.acme/x.y/jsonschema/1-0-0",
        "iglu:com.acme/x/jsonschema/-1-0-0", "iglu:com.acme/x/jsonschema/1-0-0/",
        "iglu:com.acme//jsonschema/1-0-0", "iglu:com.acme/x/jsonschema/1-0-9999999999"}) {
    EXPECT_FALSE(SchemaKey::parse(bad)) << bad;
  }
  std::string long_vendor(kMaxKeyPart + 1, 'a');
  EXPECT_FALSE(SchemaKey::parse("iglu:" + long_vendor + "/x/jsonschema/1-0-0"));
  EXPECT_TRUE(SchemaKey::parse("iglu:" + long_vendor.substr(1) + "/x/jsonschema/1-0-0"));
}

TEST(SchemaVer, OrdersByModelRevisionAddition) {
  EXPECT_LT((SchemaVer{1, 0, 2}), (SchemaVer{1, 0, 10}));
  EXPECT_LT((SchemaVer{1, 9, 9}), (SchemaVer{2, 0, 0}));
  EXPECT_EQ(SchemaVer::parse("10-2-3")->str(), "10-2-3");
}

TEST(SchemaCriterion, MatchesWildcards) {
  auto c = SchemaCriterion::parse("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->matches(
      *SchemaKey::parse("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1")));
  EXPECT_FALSE(c->matches(
      *SchemaKey::parse("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-1-0")));
  EXPECT_FALSE(c->matches(
      *SchemaKey::parse("iglu:com.snowplowanalytics.snowplow/context/jsonschema/1-0-0")));
  auto any = SchemaCriterion::parse("iglu:com.acme/e/jsonschema/2-*-*");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->matches(*SchemaKey::parse("iglu:com.acme/e/jsonschema/2-3-4")));
  EXPECT_FALSE(any->matches(*SchemaKey::parse("iglu:com.acme/e/jsonschema/1-3-4")));
  EXPECT_EQ(any->uri(), "iglu:com.acme/e/jsonschema/2-*-*");
  EXPECT_FALSE(SchemaCriterion::parse("iglu:com.acme/e/jsonschema/1-*-0"));
}

TEST(Formats, ChecksDraft4StringFormats) {
  EXPECT_TRUE(is_date_time("2024-02-29T23:59:60Z"));
  EXPECT_FALSE(is_date_time("2023-02-29T10:00:00Z"));
  EXPECT_TRUE(is_date_time("1996-12-19T16:39:57.123-08:00"));
  EXPECT_FALSE(is_date_time("1996-12-19 16:39:57Z"));
  EXPECT_TRUE(is_email("joe.bloggs@example.com"));
  EXPECT_FALSE(is_email("joe.bloggs.example.com"));
  EXPECT_TRUE(is_hostname("collector.example.com"));
  EXPECT_FALSE(is_hostname("under_score.example.com"));
  EXPECT_TRUE(is_ipv4("192.168.0.1"));
  EXPECT_FALSE(is_ipv4("192.168.0.01"));
  EXPECT_TRUE(is_ipv6("::ffff:192.168.0.1"));
  EXPECT_FALSE(is_ipv6("12345::"));
  EXPECT_TRUE(is_uri("https://example.com:8080/a?b=c#d"));
  EXPECT_FALSE(is_uri("/relative/path"));
}

}  // namespace
}  // namespace furrow::iglu
