#include "event/bad_row.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace furrow::event {
namespace {

const Processor kProc{"furrow-enrich", "0.1.0"};
constexpr int64_t kNow = 1574258700123;  // 2019-11-20T14:05:00.123Z

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str(), s.size());
  EXPECT_FALSE(d.HasParseError()) << s;
  return d;
}

CollectorPayload sample_payload() {
  CollectorPayload cp;
  cp.ip_address = "127.0.0.1";
  cp.timestamp = 1389833398278;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-stdout";
  cp.user_agent = "curl/8";
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  cp.querystring = "e=pv&flag&x=a%20b+c";
  cp.headers = std::vector<std::string>{"Host: a", "application/json"};
  cp.content_type = "application/json";
  cp.body = "{}";
  cp.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  return cp;
}

TEST(BadRow, CollectorPayloadFormatViolationHasExactShape) {
  const std::string row = collector_payload_format_violation(
      kProc, kNow, "thrift", R"({"error":"invalid thrift"})", "AAEC");
  EXPECT_EQ(
      row,
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0",)"
      R"("data":{"processor":{"artifact":"furrow-enrich","version":"0.1.0"},)"
      R"("failure":{"timestamp":"2019-11-20T14:05:00.123Z","loader":"thrift","message":{"error":"invalid thrift"}},)"
      R"("payload":"AAEC"}})");
}

TEST(BadRow, CollectorPayloadJsonListsDecodedQueryAndNulls) {
  CollectorPayload cp = sample_payload();
  cp.hostname.reset();
  EXPECT_EQ(
      collector_payload_json(cp),
      R"({"vendor":"com.snowplowanalytics.snowplow","version":"tp2",)"
      R"("querystring":[{"name":"e","value":"pv"},{"name":"flag","value":null},{"name":"x","value":"a b c"}],)"
      R"("contentType":"application/json","body":"{}","collector":"ssc-3.4.0-stdout","encoding":"UTF-8",)"
      R"("hostname":null,"timestamp":"2014-01-16T00:49:58.278Z","ipAddress":"127.0.0.1","useragent":"curl/8",)"
      R"("refererUri":null,"headers":["Host: a","application/json"],)"
      R"("networkUserId":"c5f3a09f-75f8-4309-bec5-fea560f78455"})");
  cp.path = "/i";
  EXPECT_NE(collector_payload_json(cp).find(R"("version":"tp1")"), std::string::npos);
}

TEST(BadRow, AdapterAndTrackerProtocolRowsCarryVendorVersionMessages) {
  const CollectorPayload cp = sample_payload();
  const std::vector<std::string> msgs = {
      R"({"field":"contentType","value":"text/plain","expectation":"x"})"};
  auto tp = parse(
      tracker_protocol_violations(kProc, kNow, "com.snowplowanalytics.snowplow", "tp2", msgs, cp));
  EXPECT_STREQ(
      tp["schema"].GetString(),
      "iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1");
  const auto& f = tp["data"]["failure"];
  EXPECT_STREQ(f["vendor"].GetString(), "com.snowplowanalytics.snowplow");
  EXPECT_STREQ(f["version"].GetString(), "tp2");
  EXPECT_STREQ(f["messages"][0]["field"].GetString(), "contentType");
  EXPECT_STREQ(tp["data"]["payload"]["body"].GetString(), "{}");
  auto ad = parse(adapter_failures(kProc, kNow, "com.acme", "v9", msgs, cp));
  EXPECT_STREQ(ad["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0");
  // data keys in the order processor, failure, payload
  auto it = ad["data"].MemberBegin();
  EXPECT_STREQ(it->name.GetString(), "processor");
  EXPECT_STREQ((++it)->name.GetString(), "failure");
  EXPECT_STREQ((++it)->name.GetString(), "payload");
}

TEST(BadRow, SchemaViolationsAndEnrichmentFailuresCarryTypedEnrichedAndRaw) {
  EnrichedEvent ev;
  ev[Field::event_id] = "550e8400-e29b-41d4-a716-446655440000";
  ev[Field::txn_id] = "28288";
  ev[Field::br_cookies] = "1";
  ev[Field::geo_latitude] = "47.2513";
  ev[Field::se_value] = "12.90";
  ev[Field::collector_tstamp] = "2014-01-16 00:49:58.278";
  ev[Field::contexts] = R"({"schema":"iglu:x/y/jsonschema/1-0-1","data":[]})";
  RawEvent raw;
  raw.vendor = "com.snowplowanalytics.snowplow";
  raw.version = "tp2";
  raw.parameters.set("e", "pv");
  raw.parameters.set("flag", std::nullopt);
  raw.timestamp = 1389833398278;
  raw.headers = {"X-Forwarded-For: 1.2.3.4"};
  raw.user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  const std::vector<std::string> msgs = {
      R"({"schemaKey":"iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0","error":{"error":"ValidationError","dataReports":[]}})"};

  auto sv = parse(schema_violations(kProc, kNow, msgs, ev, raw));
  EXPECT_STREQ(sv["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1");
  const auto& enriched = sv["data"]["payload"]["enriched"];
  EXPECT_EQ(enriched.MemberCount(), 131u);
  EXPECT_TRUE(enriched["txn_id"].IsInt());
  EXPECT_EQ(enriched["txn_id"].GetInt(), 28288);
  EXPECT_EQ(enriched["br_cookies"].GetInt(), 1);
  EXPECT_TRUE(enriched["geo_latitude"].IsNumber());
  EXPECT_STREQ(enriched["se_value"].GetString(), "12.90");
  EXPECT_STREQ(enriched["contexts"].GetString(),
               R"({"schema":"iglu:x/y/jsonschema/1-0-1","data":[]})");
  EXPECT_TRUE(enriched["app_id"].IsNull());
  const auto& r = sv["data"]["payload"]["raw"];
  EXPECT_STREQ(r["parameters"][0]["name"].GetString(), "e");
  EXPECT_TRUE(r["parameters"][1]["value"].IsNull());
  EXPECT_STREQ(r["loaderName"].GetString(), "thrift");
  EXPECT_STREQ(r["timestamp"].GetString(), "2014-01-16T00:49:58.278Z");
  EXPECT_STREQ(r["userId"].GetString(), "c5f3a09f-75f8-4309-bec5-fea560f78455");
  EXPECT_STREQ(sv["data"]["failure"]["messages"][0]["schemaKey"].GetString(),
               "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0");

  auto ef = parse(enrichment_failures(kProc, kNow,
                                      {R"({"enrichment":null,"message":{"error":"x"}})"}, ev, raw));
  EXPECT_STREQ(ef["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1");
  EXPECT_TRUE(ef["data"]["failure"]["messages"][0]["enrichment"].IsNull());
}

TEST(BadRow, SizeViolationTruncatesPayloadToATenth) {
  const std::string payload(1000, 'a');
  auto d = parse(size_violation(kProc, kNow, 100, 1000,
                                "Enriched event exceeds the maximum allowed size of 100 bytes",
                                payload));
  EXPECT_STREQ(d["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0");
  EXPECT_EQ(d["data"]["failure"]["maximumAllowedSizeBytes"].GetInt(), 100);
  EXPECT_EQ(d["data"]["failure"]["actualSizeBytes"].GetInt(), 1000);
  EXPECT_EQ(std::string(d["data"]["payload"].GetString()), std::string(10, 'a'));
  // A cut inside a multi-byte character backs off to the character boundary.
  auto u = parse(size_violation(kProc, kNow, 20, 40, "x", "a\xCE\xA7\xCE\xA7\xCE\xA7\xCE\xA7"));
  EXPECT_STREQ(u["data"]["payload"].GetString(), "a");
}

TEST(BadRow, InvalidUtf8AndControlCharsStayValidJson) {
  std::string out;
  append_json_string("a\tb\"\xff", out);
  EXPECT_EQ(out, "\"a\\tb\\\"\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace furrow::event
