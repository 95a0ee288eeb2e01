#include "protocol/adapter.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "support/test_support.h"

namespace furrow::protocol {
namespace {

using event::CollectorPayload;
using event::RawEvent;

CollectorPayload get_payload(std::string path, std::optional<std::string> qs) {
  CollectorPayload c;
  c.ip_address = "10.1.2.3";
  c.timestamp = 1700000000123;
  c.encoding = "UTF-8";
  c.collector = "ssc-3.4.0-stdout";
  c.user_agent = "Mozilla/5.0";
  c.referer_uri = "https://example.com/page";
  c.path = std::move(path);
  c.querystring = std::move(qs);
  c.headers = std::vector<std::string>{"Host: collector.example.com", "User-Agent: Mozilla/5.0"};
  c.hostname = "collector.example.com";
  c.network_user_id = "C5F3A09F-75F8-4309-BEC5-FEA560F78455";
  return c;
}

struct Outcome {
  bool ok = false;
  std::vector<RawEvent> events;
  AdapterError error;
};

Outcome run(const CollectorPayload& c, std::string_view loader = "thrift") {
  Outcome o;
  o.ok = adapt(c, loader, o.events, o.error);
  return o;
}

std::string param(const RawEvent& e, std::string_view name) {
  const std::string* v = e.parameters.get(name);
  return v ? *v : std::string("<absent>");
}

TEST(Adapt, SnowplowFixturesAreTp1GetsOrAFormatViolation) {
  // Snowplow's ThriftLoaderSpec payloads: three tp1 GETs, one GET without a query string (which the
  // tp1 adapter rejects) and one with a wrong schema URI.
  int events = 0, violations = 0, empty = 0;
  bool saw_tv01 = false;
  for (const auto& line :
       test::read_lines(test::shared_dir() / "data/snowplow-fixtures/collector-payloads.b64")) {
    if (line.empty()) continue;
    std::string bytes;
    ASSERT_TRUE(common::base64_decode(line, bytes));
    auto c = event::decode_thrift(bytes);
    ASSERT_TRUE(c.ok());
    auto o = run(*c);
    if (!o.ok && o.error.kind == AdapterError::Kind::kAdapter) {
      ++empty;
      EXPECT_FALSE(c->querystring.has_value());
      EXPECT_EQ(o.error.version, "tp1");
      continue;
    }
    if (!o.ok) {
      ++violations;
      EXPECT_EQ(o.error.kind, AdapterError::Kind::kCollectorPayloadFormat);
      ASSERT_EQ(o.error.messages_json.size(), 1u);
      EXPECT_NE(o.error.messages_json[0].find(
                    "{\"error\":\"verifying record as "
                    "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-* "
                    "failed: found "),
                std::string::npos)
          << o.error.messages_json[0];
      continue;
    }
    ASSERT_EQ(o.events.size(), 1u);
    ++events;
    const RawEvent& e = o.events[0];
    EXPECT_EQ(e.vendor, "com.snowplowanalytics.snowplow");
    EXPECT_EQ(e.version, "tp1");
    if (c->querystring == "testParam=3&testParam2=4") {
      saw_tv01 = true;
      EXPECT_EQ(param(e, "testParam"), "3");
      EXPECT_EQ(param(e, "testParam2"), "4");
      EXPECT_EQ(e.parameters.size(), 2u);
      EXPECT_EQ(e.timestamp, 1389833398278);
      EXPECT_EQ(e.ip_address, "127.0.0.1");
      EXPECT_EQ(e.user_id, "c5f3a09f-75f8-4309-bec5-fea560f78455");
      EXPECT_EQ(e.hostname, "127.0.0.1");
      EXPECT_EQ(e.headers.size(), 8u);
      EXPECT_EQ(e.loader_name, "thrift");
      EXPECT_EQ(e.encoding, "UTF-8");
    }
  }
  EXPECT_EQ(events, 3);
  EXPECT_EQ(violations, 1);
  EXPECT_EQ(empty, 1);
  EXPECT_TRUE(saw_tv01);
}

TEST(Adapt, Tv02QueryDecoding) {
  auto o = run(get_payload("/i",
                           "e=pp&co=%7B%22page%22%3A%7B%22page_type%22%3A%22test%22%2C%22last_"
                           "updated%24tms%22%3A1393372800000%7D%2C%22"
                           "user%22%3A%7B%22user_type%22%3A%22tester%22%7D%7D&uid=alex+123&tz="
                           "Europe%2FLondon&p=mob&url=file%3A%2F%2F"
                           "file%3A%2F%2F%2FUsers%2Falex%2FDevelopment%2Fdev-environment%2Fdemo%"
                           "2F1-tracker%2Fevents.html%2F"
                           "overridden-url%2F"));
  ASSERT_TRUE(o.ok);
  const RawEvent& e = o.events[0];
  EXPECT_EQ(param(e, "uid"), "alex 123");
  EXPECT_EQ(param(e, "tz"), "Europe/London");
  EXPECT_EQ(param(e, "p"), "mob");
  EXPECT_EQ(param(e, "co"),
            "{\"page\":{\"page_type\":\"test\",\"last_updated$tms\":1393372800000},\"user\":{"
            "\"user_type\":\"tester\"}}");
  EXPECT_EQ(param(e, "url"),
            "file://file:///Users/alex/Development/dev-environment/demo/1-tracker/events.html/"
            "overridden-url/");
}

TEST(Adapt, Tp2GetFillsContextAndKeepsLastDuplicate) {
  auto c = get_payload("/com.snowplowanalytics.snowplow/tp2",
                       "e=pv&aid=a&flag&empty=&aid=b&page=Hi%20there");
  c.headers->push_back("X-Forwarded-For: 203.0.113.9, 10.0.0.1");
  auto o = run(c, "cloudfront");
  ASSERT_TRUE(o.ok);
  ASSERT_EQ(o.events.size(), 1u);
  const RawEvent& e = o.events[0];
  EXPECT_EQ(e.vendor, "com.snowplowanalytics.snowplow");
  EXPECT_EQ(e.version, "tp2");
  ASSERT_EQ(e.parameters.size(), 5u);
  EXPECT_EQ(e.parameters.items()[1].name, "aid");
  EXPECT_EQ(param(e, "aid"), "b");
  EXPECT_TRUE(e.parameters.contains("flag"));
  EXPECT_EQ(e.parameters.get("flag"), nullptr);
  EXPECT_EQ(param(e, "empty"), "");
  EXPECT_EQ(param(e, "page"), "Hi there");
  EXPECT_EQ(e.ip_address, "203.0.113.9");
  EXPECT_EQ(e.user_id, "c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_EQ(e.useragent, "Mozilla/5.0");
  EXPECT_EQ(e.referer_uri, "https://example.com/page");
  EXPECT_EQ(e.hostname, "collector.example.com");
  EXPECT_EQ(e.timestamp, 1700000000123);
  EXPECT_EQ(e.loader_name, "cloudfront");
  EXPECT_EQ(e.headers.size(), 3u);
  EXPECT_FALSE(e.content_type.has_value());
}

TEST(Adapt, PathRouting) {
  for (const char* path :
       {"/i", "/ice.png", "/ice.png?x", "/i?x=1", "/com.snowplowanalytics.snowplow/tp1",
        "com.snowplowanalytics.snowplow/tp1/"}) {
    auto o = run(get_payload(path, "e=pv"));
    ASSERT_TRUE(o.ok) << path;
    EXPECT_EQ(o.events[0].version, "tp1") << path;
  }
  for (const char* path : {"/", "/a/b/c", "//a/b", "/ix", ""}) {
    auto o = run(get_payload(path, "e=pv"));
    ASSERT_FALSE(o.ok) << path;
    EXPECT_EQ(o.error.kind, AdapterError::Kind::kCollectorPayloadFormat);
    EXPECT_EQ(o.error.messages_json[0],
              "{\"payloadField\":\"path\",\"value\":\"" + std::string(path) +
                  "\",\"expectation\":\"path does not match (/)vendor/version(/) nor is a legacy "
                  "/i(ce.png) request\"}");
  }
  auto unknown = run(get_payload("/com.acme/v9", "e=pv"));
  ASSERT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error.kind, AdapterError::Kind::kAdapter);
  EXPECT_EQ(unknown.error.vendor, "com.acme");
  EXPECT_EQ(unknown.error.version, "v9");
  EXPECT_EQ(unknown.error.messages_json,
            std::vector<std::string>{
                "{\"field\":\"vendor/version\",\"value\":\"com.acme/v9\",\"expectation\":\"vendor/"
                "version combination is not supported\"}"});
}

TEST(Adapt, CollectorPayloadFormatViolations) {
  auto bad_qs = run(get_payload("/i", "e=pv&page=Hello World"));
  ASSERT_FALSE(bad_qs.ok);
  EXPECT_EQ(bad_qs.error.kind, AdapterError::Kind::kCollectorPayloadFormat);
  EXPECT_EQ(bad_qs.error.messages_json[0],
            "{\"payloadField\":\"querystring\",\"value\":\"e=pv&page=Hello "
            "World\",\"expectation\":\"could not extract "
            "name-value pairs from querystring with encoding UTF-8: Illegal character in query at "
            "index 33: "
            "http://localhost/?e=pv&page=Hello World\"}");
  EXPECT_FALSE(run(get_payload("/i", "a={}")).ok);
  EXPECT_FALSE(run(get_payload("/i", "a=%zz")).ok);

  auto no_path = get_payload("/i", "e=pv");
  no_path.path.reset();
  auto o = run(no_path);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"payloadField\":\"path\",\"value\":null,\"expectation\":\"request does not contain "
            "a path\"}");

  auto bad_nuid = get_payload("/i", "e=pv");
  bad_nuid.network_user_id = "not-a-uuid";
  o = run(bad_nuid);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"payloadField\":\"networkUserId\",\"value\":\"not-a-uuid\",\"expectation\":\"not "
            "valid UUID\"}");

  auto bad_schema = get_payload("/i", "e=pv");
  bad_schema.schema = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0";
  o = run(bad_schema);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"error\":\"verifying record as "
            "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-* failed: "
            "found iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0\"}");
  bad_schema.schema = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-7";
  EXPECT_TRUE(run(bad_schema).ok);

  // Every violation is reported, in Snowplow's order.
  auto all = get_payload("/a/b/c", "x y");
  all.network_user_id = "zz";
  all.schema = "nope";
  o = run(all);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.messages_json.size(), 4u);
}

TEST(Adapt, Tp1NeedsAQueryString) {
  auto o = run(get_payload("/i", std::nullopt));
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.kind, AdapterError::Kind::kAdapter);
  EXPECT_EQ(o.error.messages_json[0],
            "{\"field\":\"querystring\",\"value\":null,\"expectation\":\"empty querystring: not a "
            "valid URI redirect\"}");
  EXPECT_FALSE(run(get_payload("/i", "")).ok);
}

TEST(Adapt, NetworkUserIdIsCanonicalised) {
  auto c = get_payload("/i", "e=pv");
  c.network_user_id = "1-2-3-4-5";
  auto o = run(c);
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.events[0].user_id, "00000001-0002-0003-0004-000000000005");
  c.network_user_id.reset();
  o = run(c);
  ASSERT_TRUE(o.ok);
  EXPECT_FALSE(o.events[0].user_id.has_value());
}

TEST(Adapt, OutputIsAppendedAndUntouchedOnFailure) {
  std::vector<RawEvent> out(2);
  AdapterError error;
  ASSERT_FALSE(adapt(get_payload("/i", "a b"), "thrift", out, error));
  EXPECT_EQ(out.size(), 2u);
  ASSERT_TRUE(adapt(get_payload("/i", "e=pv"), "thrift", out, error));
  EXPECT_EQ(out.size(), 3u);
}

}  // namespace
}  // namespace furrow::protocol
