#include <gtest/gtest.h>

#include <random>

#include "event/collector_payload.h"
#include "protocol/ip_address.h"
#include "protocol/json_util.h"
#include "protocol/uuid_check.h"

namespace furrow::protocol {
namespace {

TEST(CompactJson, KeepsNumbersAndOrderAndFindsChildren) {
  CompactJson c;
  std::string error;
  ASSERT_TRUE(
      compact_json(" { \"b\" : 1.50 , \"a\" : [ 1E3, -0, \"x\\u00e9\\n\" ] , \"b\":2 } ", c, error))
      << error;
  EXPECT_EQ(c.text, "{\"b\":1.50,\"a\":[1E3,-0,\"x\xC3\xA9\\n\"],\"b\":2}");
  EXPECT_EQ(c.root, '{');
  ASSERT_EQ(c.children.size(), 3u);
  EXPECT_EQ(c.child(1), "[1E3,-0,\"x\xC3\xA9\\n\"]");
  EXPECT_EQ(c.member("b"), "2");  // last duplicate
  EXPECT_FALSE(c.member("zz").has_value());

  ASSERT_TRUE(compact_json("[ {\"x\":null}, true ,\"s\"]", c, error));
  ASSERT_EQ(c.children.size(), 3u);
  EXPECT_EQ(c.child(0), "{\"x\":null}");
  EXPECT_EQ(c.child(1), "true");
  EXPECT_EQ(c.child(2), "\"s\"");

  ASSERT_TRUE(
      compact_json("{\"schema\":\"s\",\"data\":[1]}", c, error, std::string_view("{\"new\":0}")));
  EXPECT_EQ(c.text, "{\"schema\":\"s\",\"data\":[{\"new\":0},1]}");
  ASSERT_TRUE(compact_json("{\"data\":[]}", c, error, std::string_view("{}")));
  EXPECT_EQ(c.text, "{\"data\":[{}]}");
  ASSERT_TRUE(compact_json("{\"data\":{\"k\":[1]}}", c, error, std::string_view("{}")));
  EXPECT_EQ(c.text, "{\"data\":{\"k\":[1]}}");  // only a top-level data array gets the entity
}

TEST(CompactJson, RejectsBadInputAndDepth) {
  CompactJson c;
  std::string error;
  EXPECT_FALSE(compact_json("", c, error));
  EXPECT_FALSE(compact_json("{} x", c, error));
  EXPECT_FALSE(compact_json("{\"a\":}", c, error));
  EXPECT_EQ(error.rfind("invalid json: ", 0), 0u);
  std::string ok_depth(kMaxJsonDepth, '[');
  ok_depth += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(compact_json(ok_depth, c, error)) << error;
  std::string too_deep(kMaxJsonDepth + 1, '[');
  too_deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(compact_json(too_deep, c, error));
  EXPECT_NE(error.find("depth"), std::string::npos);
  std::string huge(100000, '[');
  EXPECT_FALSE(compact_json(huge, c, error));  // iterative parser: no stack overflow
}

TEST(SchemaUri, ParsesLikeIgluCore) {
  SchemaKeyParts k;
  EXPECT_EQ(parse_schema_uri("iglu:com.acme-x_y/my_event/jsonschema/10-0-12", k), nullptr);
  EXPECT_EQ(k.vendor, "com.acme-x_y");
  EXPECT_EQ(k.name, "my_event");
  EXPECT_EQ(k.model, 10);
  EXPECT_EQ(k.addition, 12);
  EXPECT_STREQ(parse_schema_uri("iglu:com.acme/e/jsonschema/1-0", k), "INVALID_SCHEMAVER");
  EXPECT_STREQ(parse_schema_uri("iglu:com.acme/e/jsonschema/0-0-0", k), "INVALID_SCHEMAVER");
  EXPECT_STREQ(parse_schema_uri("iglu:com.acme/e/jsonschema/1-01-0", k), "INVALID_SCHEMAVER");
  EXPECT_STREQ(parse_schema_uri("iglu:com.acme/e.x/jsonschema/1-0-0", k), "INVALID_IGLUURI");
  EXPECT_STREQ(parse_schema_uri("com.acme/e/jsonschema/1-0-0", k), "INVALID_IGLUURI");
  EXPECT_STREQ(parse_schema_uri("iglu:com.acme/e/1-0-0", k), "INVALID_IGLUURI");
  EXPECT_STREQ(parse_schema_uri("", k), "INVALID_IGLUURI");
}

// adapt()/adapt_views() accept event::kCollectorPayloadSchema by one compare before parsing: the
// constant must be a text the parsed rule (snowplow vendor, CollectorPayload, thrift, 1-0-*)
// accepts.
TEST(SchemaUri, CollectorPayloadConstantMeetsTheParsedRule) {
  SchemaKeyParts k;
  ASSERT_EQ(parse_schema_uri(event::kCollectorPayloadSchema, k), nullptr);
  EXPECT_EQ(k.vendor, "com.snowplowanalytics.snowplow");
  EXPECT_EQ(k.name, "CollectorPayload");
  EXPECT_EQ(k.format, "thrift");
  EXPECT_EQ(k.model, 1);
  EXPECT_EQ(k.revision, 0);
}

TEST(IpAddress, ForwardedHeadersAsSnowplowReadsThem) {
  using V = std::vector<std::string>;
  std::optional<std::string> fallback = "10.0.0.1";
  EXPECT_EQ(extract_ip_address(V{}, fallback), "10.0.0.1");
  EXPECT_EQ(extract_ip_address(V{"Host: x", "X-Forwarded-For: 203.0.113.5, 70.1.2.3"}, fallback),
            "203.0.113.5");
  EXPECT_EQ(extract_ip_address(V{"x-forwarded-for: \"[2001:DB8::1]\""}, fallback), "2001:db8::1");
  EXPECT_EQ(extract_ip_address(V{"X-Forwarded-For: unknown"}, fallback), "10.0.0.1");
  // Forwarded counts only when nothing else follows it; X-Forwarded-For always wins.
  EXPECT_EQ(extract_ip_address(V{"Forwarded: for=192.0.2.60;proto=http"}, fallback), "192.0.2.60");
  EXPECT_EQ(extract_ip_address(V{"Forwarded: for=192.0.2.60", "Accept: */*"}, fallback),
            "10.0.0.1");
  EXPECT_EQ(
      extract_ip_address(V{"Forwarded: for=192.0.2.60", "X-Forwarded-For: 1.2.3.4"}, fallback),
      "1.2.3.4");
  EXPECT_FALSE(extract_ip_address(V{}, std::nullopt).has_value());
  EXPECT_EQ(extract_ip_address("128.101.101.101, 10.0.0.1", "1.1.1.1"), "128.101.101.101");
  EXPECT_EQ(extract_ip_address("-", "1.1.1.1"), "1.1.1.1");
  EXPECT_EQ(leading_ip("1.2.3.4567"), "1.2.3.456");
  EXPECT_EQ(leading_ip("1234.1.1.1"), "1234.1.1.1");  // not a quad: read as the hex/colon run
}

TEST(Uuid, JavaFromStringSemantics) {
  EXPECT_EQ(canonical_uuid("C5F3A09F-75F8-4309-BEC5-FEA560F78455"),
            "c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ(canonical_uuid("1-2-3-4-5"), "00000001-0002-0003-0004-000000000005");
  EXPECT_FALSE(canonical_uuid("c5f3a09f75f84309bec5fea560f78455").has_value());
  EXPECT_FALSE(canonical_uuid("c5f3a09f-75f8-4309-bec5-fea560f784551").has_value());
  EXPECT_FALSE(canonical_uuid("g5f3a09f-75f8-4309-bec5-fea560f78455").has_value());
  EXPECT_FALSE(canonical_uuid("1--3-4-5").has_value());
  EXPECT_FALSE(canonical_uuid("").has_value());
}

// The one-pass form check against the general group-by-group rule, on random edits of a UUID
// (every byte class at every position, insertions and removals), into one reused string.
TEST(Uuid, OnePassFormAgreesWithTheGroupRule) {
  const std::string base = "C5F3A09F-75f8-4309-BEC5-fea560f78455";
  const std::string alphabet = "0123456789abcdefABCDEFgGzZ-_ \x80\xff";
  std::mt19937 rng(17);
  std::string reused;
  int accepted = 0;
  auto expect_same = [&](const std::string& s) {
    const std::optional<std::string> general = canonical_uuid(s);
    const bool ok = canonical_uuid(s, reused);
    EXPECT_EQ(ok, general.has_value()) << s;
    if (ok && general) {
      EXPECT_EQ(reused, *general) << s;
    }
    accepted += ok ? 1 : 0;
  };
  for (std::size_t at = 0; at < base.size(); ++at) {
    for (int c = 0; c < 256; ++c) {  // every byte value at every position
      std::string s = base;
      s[at] = static_cast<char>(c);
      expect_same(s);
    }
  }
  for (int i = 0; i < 4000; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (s.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s[at] = c;
          break;
        case 1:
          s.insert(at, 1, c);
          break;
        default:
          if (at < s.size()) s.erase(at, 1);
          break;
      }
    }
    expect_same(s);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(accepted, 500);
}

}  // namespace
}  // namespace furrow::protocol
