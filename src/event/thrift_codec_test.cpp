#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "event/collector_payload.h"
#include "support/test_support.h"

namespace furrow::event {
namespace {

std::vector<std::string> fixture_records() {
  std::vector<std::string> out;
  for (const auto& line :
       test::read_lines(test::shared_dir() / "data/snowplow-fixtures/collector-payloads.b64")) {
    if (line.empty()) continue;
    std::string bytes;
    EXPECT_TRUE(common::base64_decode(line, bytes));
    out.push_back(std::move(bytes));
  }
  return out;
}

TEST(ThriftCodec, DecodesEverySnowplowFixture) {
  auto records = fixture_records();
  ASSERT_EQ(records.size(), 5u);
  int real_schema = 0;
  for (const auto& r : records) {
    auto c = decode_thrift(r);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->path.has_value());
    EXPECT_TRUE(c->timestamp.has_value());
    if (c->schema == kCollectorPayloadSchema) ++real_schema;
    // Re-encoding reproduces Snowplow's bytes exactly: same field order, same encoding.
    EXPECT_EQ(encode_thrift(*c), r);
  }
  EXPECT_EQ(real_schema, 4);
}

TEST(ThriftCodec, Tv01FieldsExactly) {
  const CollectorPayload* tv01 = nullptr;
  std::vector<CollectorPayload> decoded;
  for (const auto& r : fixture_records()) decoded.push_back(*decode_thrift(r));
  for (const auto& c : decoded) {
    if (c.querystring == "testParam=3&testParam2=4") tv01 = &c;
  }
  ASSERT_NE(tv01, nullptr);
  EXPECT_EQ(tv01->ip_address, "127.0.0.1");
  EXPECT_EQ(tv01->timestamp, 1389833398278);
  EXPECT_EQ(tv01->encoding, "UTF-8");
  EXPECT_EQ(tv01->collector, "ssc-0.0.1-Stdout");
  EXPECT_EQ(tv01->user_agent,
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/31.0.1650.63 Safari/537.36");
  EXPECT_EQ(tv01->path, "/i");
  ASSERT_TRUE(tv01->headers.has_value());
  ASSERT_EQ(tv01->headers->size(), 8u);
  EXPECT_EQ((*tv01->headers)[0], "Cookie: sp=c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ((*tv01->headers)[1], "Accept-Language: en-US, en");
  EXPECT_EQ(tv01->hostname, "127.0.0.1");
  EXPECT_EQ(tv01->network_user_id, "c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ(tv01->schema, kCollectorPayloadSchema);
  EXPECT_FALSE(tv01->body.has_value());
  EXPECT_FALSE(tv01->referer_uri.has_value());
}

CollectorPayload full_payload() {
  CollectorPayload c;
  c.ip_address = "10.0.0.1";
  c.timestamp = 1700000000123;
  c.encoding = "UTF-8";
  c.collector = "furrow-0.1.0-stdout";
  c.user_agent = "Mozilla/5.0 \xCE\xA7";
  c.referer_uri = "https://example.com/a?b=c";
  c.path = "/com.snowplowanalytics.snowplow/tp2";
  c.querystring = "aid=x";
  c.body = std::string("{\"a\":\"\0b\"}", 10);
  c.headers = std::vector<std::string>{"Host: example.com", "application/json"};
  c.content_type = "application/json";
  c.hostname = "example.com";
  c.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  return c;
}

TEST(ThriftCodec, RoundTripsEveryField) {
  auto c = full_payload();
  auto bytes = encode_thrift(c);
  // Field 100 comes first and the schema (31337) last, before the stop byte.
  EXPECT_EQ(bytes.substr(0, 3), std::string("\x0b\x00\x64", 3));
  EXPECT_EQ(bytes.back(), '\0');
  EXPECT_NE(bytes.find(std::string(kCollectorPayloadSchema) + '\0'), std::string::npos);
  auto back = decode_thrift(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, c);

  CollectorPayload minimal;
  minimal.path = "/i";
  auto m = decode_thrift(encode_thrift(minimal));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, minimal);
  EXPECT_FALSE(m->headers.has_value());
}

TEST(ThriftCodec, TruncatedInputIsAnErrorAtEveryLength) {
  auto bytes = encode_thrift(full_payload());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_thrift(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of length " << n << " decoded";
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(ThriftCodec, HostileLengthsAndGarbageAreErrors) {
  // A string field claiming 2 GiB - 1 bytes.
  std::string huge("\x0b\x00\x64\x7f\xff\xff\xff", 7);
  EXPECT_FALSE(decode_thrift(huge).ok());
  // Negative string length.
  EXPECT_FALSE(decode_thrift(std::string("\x0b\x00\x64\xff\xff\xff\xfe", 7)).ok());
  // Headers list claiming 1e9 elements.
  EXPECT_FALSE(decode_thrift(std::string("\x0f\x01\x5e\x0b\x3b\x9a\xca\x00", 8)).ok());
  // Unknown field type byte.
  EXPECT_FALSE(decode_thrift(std::string("\x7e\x00\x01\x00", 4)).ok());
  EXPECT_FALSE(decode_thrift("").ok());
  EXPECT_FALSE(decode_thrift("not thrift at all").ok());
  // Deeply nested unknown structs stop at libthrift's recursion limit instead of the stack's.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += std::string("\x0c\x00\x01", 3);
  EXPECT_FALSE(decode_thrift(deep).ok());
}

TEST(ThriftCodec, UnknownFieldsAndWrongTypesAreSkipped) {
  // An unknown i32 field 7, then path written as an i64 (wrong type: skipped), then stop.
  std::string bytes("\x08\x00\x07\x00\x00\x00\x05\x0a\x01\x40\x00\x00\x00\x00\x00\x00\x00\x01\x00",
                    19);
  auto r = decode_thrift(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->path.has_value());
  EXPECT_TRUE(r->schema.empty());
}

}  // namespace
}  // namespace furrow::event
