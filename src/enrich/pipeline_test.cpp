#include "enrich/pipeline.h"

#include <furrow/version.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "common/base64.h"
#include "common/time_format.h"
#include "enrich/convert.h"
#include "enrich/enrichments/cookie_extractor_config/cookie_extractor_config.h"
#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"
#include "enrich/enrichments/http_header_extractor_config/http_header_extractor_config.h"
#include "event/tsv.h"

namespace furrow::enrich {
namespace {

using event::Field;

constexpr int64_t kNow = 1700000000000;          // 2023-11-14 22:13:20.000
constexpr int64_t kCollectorMs = 1381188930000;  // 2013-10-07 23:35:30.000
constexpr const char* kNuid = "c5f3a09f-75f8-4309-bec5-fea560f78455";

event::CollectorPayload get(std::string qs) {
  event::CollectorPayload cp;
  cp.ip_address = "10.0.0.9";
  cp.timestamp = kCollectorMs;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-stdout";
  cp.user_agent = "Mozilla/5.0 (X11)\tTest";
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  cp.querystring = std::move(qs);
  cp.headers = std::vector<std::string>{"Host: c.example"};
  cp.hostname = "c.example";
  cp.network_user_id = kNuid;
  return cp;
}

PipelineConfig base_config() {
  PipelineConfig c;
  c.fixed_now_ms = kNow;
  c.registry_retry_initial_ms = 1;
  c.registry_retry_max_ms = 2;
  return c;
}

Output run(const Pipeline& p, const event::CollectorPayload& cp) {
  Output out;
  p.process_payload(cp, "thrift", out);
  return out;
}

event::EnrichedEvent good_event(const Output& out) {
  event::EnrichedEvent ev;
  EXPECT_EQ(out.good.size(), 1u) << (out.bad.empty() ? std::string("no output") : out.bad[0]);
  if (out.good.empty()) return ev;
  std::string err;
  EXPECT_TRUE(event::read_tsv(out.good[0], ev, err)) << err;
  return ev;
}

event::EnrichedEvent enrich(std::string qs, PipelineConfig cfg = base_config()) {
  Pipeline p(std::move(cfg));
  return good_event(run(p, get(std::move(qs))));
}

rapidjson::Document bad_row(const Output& out, std::string_view type) {
  rapidjson::Document d;
  EXPECT_EQ(out.bad.size(), 1u);
  EXPECT_TRUE(out.good.empty());
  if (out.bad.empty()) return d;
  d.Parse(out.bad[0].c_str());
  EXPECT_FALSE(d.HasParseError()) << out.bad[0];
  const std::string schema = d["schema"].GetString();
  EXPECT_NE(schema.find("/" + std::string(type) + "/"), std::string::npos) << out.bad[0];
  return d;
}

rapidjson::Document bad(std::string qs, std::string_view type, PipelineConfig cfg = base_config()) {
  Pipeline p(std::move(cfg));
  return bad_row(run(p, get(std::move(qs))), type);
}

// dataReports of the atomic-schema message: path -> message.
std::multimap<std::string, std::string> atomic_reports(const rapidjson::Document& d) {
  std::multimap<std::string, std::string> out;
  for (const auto& m : d["data"]["failure"]["messages"].GetArray()) {
    if (!m.HasMember("schemaKey") ||
        std::string(m["schemaKey"].GetString()) !=
            "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0") {
      continue;
    }
    for (const auto& r : m["error"]["dataReports"].GetArray()) {
      out.emplace(r["path"].GetString(), r["message"].GetString());
    }
  }
  return out;
}

std::string b64(std::string_view s) {
  return common::base64url_encode(s);
}

// ---- Phase 1: initial fields and parameter mapping -------------------------------------

TEST(Pipeline, InitialFieldsFromThePayload) {
  event::EnrichedEvent ev = enrich("e=pv&p=web&tv=js-3.5.0");
  EXPECT_EQ(ev[Field::v_collector], "ssc-3.4.0-stdout");
  EXPECT_EQ(ev[Field::v_etl], std::string("furrow-enrich-") + kVersion);
  EXPECT_EQ(ev[Field::etl_tstamp], "2023-11-14 22:13:20.000");
  EXPECT_EQ(ev[Field::collector_tstamp], "2013-10-07 23:35:30.000");
  EXPECT_EQ(ev[Field::network_userid], kNuid);
  EXPECT_EQ(ev[Field::user_ipaddress], "10.0.0.9");
  EXPECT_EQ(ev[Field::useragent], "Mozilla/5.0 (X11)    Test");
  EXPECT_EQ(ev[Field::event_id].size(), 36u);
  EXPECT_EQ(ev[Field::event_id][14], '4');
  EXPECT_EQ(ev[Field::event], "page_view");
  EXPECT_EQ(ev[Field::event_vendor], "com.snowplowanalytics.snowplow");
  EXPECT_EQ(ev[Field::event_name], "page_view");
  EXPECT_EQ(ev[Field::event_format], "jsonschema");
  EXPECT_EQ(ev[Field::event_version], "1-0-0");
  EXPECT_EQ(ev[Field::derived_tstamp], "2013-10-07 23:35:30.000");
  EXPECT_EQ(enrich("e=pv")[Field::event_id] == enrich("e=pv")[Field::event_id], false);
}

TEST(Pipeline, MapsEveryParameterKind) {
  event::EnrichedEvent ev = enrich(
      "e=se&eid=550E8400-E29B-41D4-A716-446655440000&p=mob&aid=my+app&tna=cf&tv=js-0.11.1&cv=clj-0."
      "5.0-tom-0.0.4"
      "&tid=028288&dtm=1364219529188&stm=1364219529190&ttm=1364219529000&tz=Europe%2FLondon&uid="
      "alex+123"
      "&duid=9795bd0203804cd1&nuid=n1&sid=75D0FC90-CEF4-11E4-8830-0800200C9A66&vid=41&ip=216.160."
      "83.56"
      "&ua=Custom%09UA&fp=2876815413&page=Psychic%20Bazaar%09Shop&res=2560x1440&vp=2560x935&ds="
      "2543x1273"
      "&cd=32&cs=UTF-8&lang=en-GB&cookie=1&f_pdf=1&f_fla=1&f_java=0&f_dir=0&f_qt=1&f_realp=0&f_wma="
      "1"
      "&f_gears=0&f_ag=1&se_ca=ecomm&se_ac=add&se_la=%CE%A7%CE%B1%CF%81%CE%B9%CF%84%CE%AF%CE%BD%CE%"
      "B7"
      "&se_pr=1&se_va=35708.23&tr_id=o1&tr_af=aff&tr_tt=8000&tr_tx=200&tr_sh=50.50&tr_ci=London"
      "&tr_st=England&tr_co=UK&tr_cu=GBP&ti_id=o1&ti_sk=sku&ti_nm=Name&ti_ca=cat&ti_pr=1E%2B3&ti_"
      "qu=2"
      "&ti_cu=EUR&pp_mix=21&pp_max=214&pp_miy=251&pp_may=517&unknown=ignored&flag");
  const std::map<Field, std::string> want = {
      {Field::event, "struct"},
      {Field::event_id, "550e8400-e29b-41d4-a716-446655440000"},
      {Field::platform, "mob"},
      {Field::app_id, "my app"},
      {Field::name_tracker, "cf"},
      {Field::v_tracker, "js-0.11.1"},
      {Field::v_collector, "clj-0.5.0-tom-0.0.4"},
      {Field::txn_id, "28288"},
      {Field::dvce_created_tstamp, "2013-03-25 13:52:09.188"},
      {Field::dvce_sent_tstamp, "2013-03-25 13:52:09.190"},
      {Field::true_tstamp, "2013-03-25 13:52:09.000"},
      {Field::derived_tstamp, "2013-03-25 13:52:09.000"},
      {Field::os_timezone, "Europe/London"},
      {Field::user_id, "alex 123"},
      {Field::domain_userid, "9795bd0203804cd1"},
      {Field::network_userid, "n1"},
      {Field::domain_sessionid, "75d0fc90-cef4-11e4-8830-0800200c9a66"},
      {Field::domain_sessionidx, "41"},
      {Field::user_ipaddress, "216.160.83.56"},
      {Field::useragent, "Custom    UA"},
      {Field::user_fingerprint, "2876815413"},
      {Field::page_title, "Psychic Bazaar    Shop"},
      {Field::dvce_screenwidth, "2560"},
      {Field::dvce_screenheight, "1440"},
      {Field::br_viewwidth, "2560"},
      {Field::br_viewheight, "935"},
      {Field::doc_width, "2543"},
      {Field::doc_height, "1273"},
      {Field::br_colordepth, "32"},
      {Field::doc_charset, "UTF-8"},
      {Field::br_lang, "en-GB"},
      {Field::br_cookies, "1"},
      {Field::br_features_pdf, "1"},
      {Field::br_features_flash, "1"},
      {Field::br_features_java, "0"},
      {Field::br_features_director, "0"},
      {Field::br_features_quicktime, "1"},
      {Field::br_features_realplayer, "0"},
      {Field::br_features_windowsmedia, "1"},
      {Field::br_features_gears, "0"},
      {Field::br_features_silverlight, "1"},
      {Field::se_category, "ecomm"},
      {Field::se_action, "add"},
      {Field::se_label, "Χαριτίνη"},
      {Field::se_property, "1"},
      {Field::se_value, "35708.23"},
      {Field::tr_orderid, "o1"},
      {Field::tr_affiliation, "aff"},
      {Field::tr_total, "8000"},
      {Field::tr_tax, "200"},
      {Field::tr_shipping, "50.50"},
      {Field::tr_city, "London"},
      {Field::tr_state, "England"},
      {Field::tr_country, "UK"},
      {Field::tr_currency, "GBP"},
      {Field::ti_orderid, "o1"},
      {Field::ti_sku, "sku"},
      {Field::ti_name, "Name"},
      {Field::ti_category, "cat"},
      {Field::ti_price, "1000"},
      {Field::ti_quantity, "2"},
      {Field::ti_currency, "EUR"},
      {Field::pp_xoffset_min, "21"},
      {Field::pp_xoffset_max, "214"},
      {Field::pp_yoffset_min, "251"},
      {Field::pp_yoffset_max, "517"},
      {Field::event_vendor, "com.google.analytics"},
      {Field::event_name, "event"},
  };
  for (const auto& [f, v] : want) EXPECT_EQ(ev[f], v) << event::field_name(f);
}

TEST(Pipeline, LegacyAliasesAndEmptyValues) {
  event::EnrichedEvent ev =
      enrich("e=ev&ev_ca=c&ev_ac=a&ev_la=l&ev_pr=p&ev_va=1.5&ti_na=n&aid=&tid=null");
  EXPECT_EQ(ev[Field::event], "struct");
  EXPECT_EQ(ev[Field::se_category], "c");
  EXPECT_EQ(ev[Field::se_value], "1.5");
  EXPECT_EQ(ev[Field::ti_name], "n");
  EXPECT_EQ(ev[Field::app_id], "");  // "aid=" is null
  EXPECT_EQ(ev[Field::txn_id], "");  // "null" for an int is null
}

TEST(Pipeline, NetworkUserIdPrecedenceTnuidNuidCookie) {
  EXPECT_EQ(enrich("e=pv")[Field::network_userid], kNuid);
  EXPECT_EQ(enrich("e=pv&nuid=from-nuid")[Field::network_userid], "from-nuid");
  EXPECT_EQ(enrich("tnuid=from-tnuid&e=pv&nuid=from-nuid")[Field::network_userid], "from-tnuid");
}

TEST(Pipeline, ClientIpFromHeadersThenIpParam) {
  event::CollectorPayload cp = get("e=pv");
  cp.headers = std::vector<std::string>{"X-Forwarded-For: 203.0.113.195, 70.41.3.18", "Host: a"};
  Pipeline p(base_config());
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "203.0.113.195");
  cp.headers = std::vector<std::string>{"Forwarded: for=192.0.2.60", "Accept: x"};
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "10.0.0.9");
  cp.headers = std::vector<std::string>{"Forwarded: for=192.0.2.60"};
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "192.0.2.60");
  cp.headers =
      std::vector<std::string>{"Forwarded: for=192.0.2.60", "x-forwarded-for: \"[2001:DB8::1]\""};
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "2001:db8::1");
  cp.headers = std::vector<std::string>{"X-Forwarded-For: unknown", "X-Forwarded-For: 4.4.4.4"};
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "4.4.4.4");
  cp.querystring = "e=pv&ip=1.1.1.1%2C2.2.2.2";
  EXPECT_EQ(good_event(run(p, cp))[Field::user_ipaddress], "1.1.1.1");
}

// ---- Phase 1 failures: atomic errors are accumulated into one schema_violations row ------

TEST(Pipeline, AtomicErrorsAreAccumulatedWithParameterPaths) {
  auto d =
      bad("e=xx&p=desktop&tid=a&res=1&f_pdf=yes&eid=nope&sid=1-2-3&se_va=1.2.3&dtm=v&vid=&aid=fine",
          "schema_violations");
  const auto reports = atomic_reports(d);
  const std::multimap<std::string, std::string> want = {
      {"e", "Not a valid event type"},
      {"p", "Not a valid platform"},
      {"tid", "Cannot be converted to java.lang.Integer"},
      {"res", "Does not conform to regex (\\d+)x(\\d+)"},
      {"f_pdf", "Cannot be converted to Boolean-like java.lang.Byte"},
      {"eid", "Not a valid UUID"},
      {"sid", "Not a valid UUID"},
      {"se_va",
       "Cannot be converted to java.math.BigDecimal. Error : Character array contains more than "
       "one decimal point."},
      {"dtm", "Not in the expected format: ms since epoch"},
      {"vid", "Cannot be converted to java.lang.Integer"},
  };
  EXPECT_EQ(reports, want);
  const auto& msgs = d["data"]["failure"]["messages"];
  ASSERT_EQ(msgs.Size(), 1u);
  const auto& report = msgs[0]["error"]["dataReports"][0];
  EXPECT_STREQ(msgs[0]["error"]["error"].GetString(), "ValidationError");
  EXPECT_STREQ(report["keyword"].GetString(), "atomic_field_parse_error");
  EXPECT_TRUE(report["targets"].IsArray());
  // The partially enriched event keeps what was valid; the raw event is the input.
  const auto& enriched = d["data"]["payload"]["enriched"];
  EXPECT_STREQ(enriched["app_id"].GetString(), "fine");
  EXPECT_TRUE(enriched["event"].IsNull());
  EXPECT_STREQ(d["data"]["payload"]["raw"]["parameters"][0]["name"].GetString(), "e");
  EXPECT_STREQ(d["data"]["failure"]["timestamp"].GetString(), "2023-11-14T22:13:20.000Z");
}

TEST(Pipeline, Tv11TimestampsAndRedshiftYearCheck) {
  EXPECT_EQ(enrich("e=pv&dtm=1")[Field::dvce_created_tstamp], "1970-01-01 00:00:00.001");
  auto d = bad("e=pv&dtm=1111111111111111", "schema_violations");
  EXPECT_EQ(atomic_reports(d).find("dtm")->second,
            "Formatting as 37179-09-17 07:18:31.111 is not Redshift-compatible");
  event::CollectorPayload cp = get("e=pv");
  cp.timestamp = 1111111111111111;
  Pipeline p(base_config());
  auto c = bad_row(run(p, cp), "schema_violations");
  EXPECT_EQ(atomic_reports(c).find("collector_tstamp")->second,
            "Formatting as 37179-09-17 07:18:31.111 is not Redshift-compatible");
}

TEST(Pipeline, EventTypeRulesTv11) {
  EXPECT_EQ(enrich("e=tr")[Field::event_name], "transaction");
  EXPECT_EQ(enrich("e=ti")[Field::event_name], "transaction_item");
  EXPECT_EQ(enrich("e=pp")[Field::event_name], "page_ping");
  EXPECT_EQ(atomic_reports(bad("e=evnt", "schema_violations")).count("e"), 1u);
  EXPECT_EQ(atomic_reports(bad("e=", "schema_violations")).count("e"), 1u);
  // ad_impression is a valid type but has no schema: an enrichment failure; so is a missing e.
  auto ad = bad("e=ad", "enrichment_failures");
  EXPECT_STREQ(ad["data"]["failure"]["messages"][0]["message"]["field"].GetString(), "event");
  EXPECT_STREQ(ad["data"]["failure"]["messages"][0]["message"]["value"].GetString(),
               "ad_impression");
  EXPECT_TRUE(ad["data"]["failure"]["messages"][0]["enrichment"].IsNull());
  auto none = bad("p=web", "enrichment_failures");
  EXPECT_TRUE(none["data"]["failure"]["messages"][0]["message"]["value"].IsNull());
}

// ---- Self-describing JSON (spec 1.4, TV-05, TV-06, TV-16) ---------------------------------

TEST(Pipeline, Tv05TransactionWithBase64ContextsReserialised) {
  event::EnrichedEvent ev = enrich(
      "e=tr&tr_id=order-123&tr_af=psychicbazaar&tr_tt=8000&tr_tx=200&tr_sh=50&tr_ci=London&tr_st="
      "England"
      "&tr_co=UK&dtm=1364177017342&tid=028288&cx="
      "eyJkYXRhIjpbeyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dG"
      "ljcy5zbm93cGxvdy91cmlfcmVkaXJlY3QvanNvbnNjaGVtYS8xLTAtMCIsImRhdGEiOnsidXJpIjoiaHR0cDovL3Nub3"
      "dwbG93YW5"
      "hbHl0aWNzLmNvbS8ifX1dLCJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh"
      "0cy9qc29u"
      "c2NoZW1hLzEtMC0wIn0=");
  EXPECT_EQ(ev[Field::event], "transaction");
  EXPECT_EQ(ev[Field::tr_orderid], "order-123");
  EXPECT_EQ(ev[Field::tr_total], "8000");
  EXPECT_EQ(ev[Field::tr_shipping], "50");
  EXPECT_EQ(ev[Field::txn_id], "28288");
  EXPECT_EQ(
      ev[Field::contexts],
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0","data":{"uri":"http://snowplowanalytics.com/"}}]})");
}

TEST(Pipeline, Tv06UnstructEventFromUePx) {
  event::EnrichedEvent ev = enrich(
      "e=ue&ue_px="
      "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy91bnN0cnVjdF9ldmVudC9qc29uc2No"
      "ZW1hLzEtMC0wIiwiZGF0YSI6eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy5pbnB1"
      "dC1hZGFwdGVy"
      "cy9zZWdtZW50X3dlYmhvb2tfY29uZmlnL2pzb25zY2hlbWEvMS0wLTAiLCJkYXRhIjp7InZlbmRvciI6Is6nzrHPgc65"
      "z4TOr869zrcg"
      "TkVXIFVuaWNvZGUgdGVzdCIsIm5hbWUiOiJhbGV4K3Rlc3RAc25vd3Bsb3dhbmFseXRpY3MuY29tIiwicGFyYW1ldGVy"
      "cyI6eyJtYXBw"
      "aW5ncyI6eyJldmVudHNQZXJNb250aCI6IjwgMSBtaWxsaW9uIiwic2VydmljZVR5cGUiOiJ1bnN1cmUifX19fX0=");
  EXPECT_EQ(ev[Field::event], "unstruct");
  EXPECT_EQ(ev[Field::unstruct_event],
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/"
            "1-0-0\",\"data\":{\"schema\":"
            "\"iglu:com.snowplowanalytics.snowplow.input-adapters/segment_webhook_config/"
            "jsonschema/1-0-0\",\"data\":{"
            "\"vendor\":\"Χαριτίνη NEW Unicode "
            "test\",\"name\":\"alex+test@snowplowanalytics.com\",\"parameters\":{"
            "\"mappings\":{\"eventsPerMonth\":\"< 1 million\",\"serviceType\":\"unsure\"}}}}}");
  EXPECT_EQ(ev[Field::event_vendor], "com.snowplowanalytics.snowplow.input-adapters");
  EXPECT_EQ(ev[Field::event_name], "segment_webhook_config");
  EXPECT_EQ(ev[Field::event_format], "jsonschema");
  EXPECT_EQ(ev[Field::event_version], "1-0-0");
}

TEST(Pipeline, Tv16SelfDescribingExample) {
  event::EnrichedEvent ev = enrich(
      "e=ue&ue_px="
      "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy91bnN0cnVjdF9ldmVudC9qc29uc2No"
      "ZW1hLzEtMC0wIiwiZGF0YSI6eyJzY2hlbWEiOiJpZ2x1OmNvbS5teV9jb21wYW55L3ZpZXdlZF9wcm9kdWN0L2pzb25z"
      "Y2hlbWEvMS0w"
      "LTAiLCJkYXRhIjp7InByb2R1Y3RfaWQiOiJBU08wMTA0MyIsInByaWNlIjo0OS45NX19fQ==&dtm=1665398554151"
      "&stm=1665398554153&vid=29&vp=693x1302&ds=678x9015&url=https%3A%2F%2Fwww.example.com%2F");
  EXPECT_EQ(ev[Field::event_vendor], "com.my_company");
  EXPECT_EQ(ev[Field::event_name], "viewed_product");
  EXPECT_EQ(ev[Field::event_version], "1-0-0");
  EXPECT_EQ(ev[Field::dvce_created_tstamp], "2022-10-10 10:42:34.151");
  EXPECT_EQ(ev[Field::dvce_sent_tstamp], "2022-10-10 10:42:34.153");
  EXPECT_EQ(ev[Field::domain_sessionidx], "29");
  EXPECT_EQ(ev[Field::br_viewwidth], "693");
  EXPECT_EQ(ev[Field::br_viewheight], "1302");
  EXPECT_EQ(ev[Field::doc_width], "678");
  EXPECT_EQ(ev[Field::doc_height], "9015");
  EXPECT_EQ(ev[Field::page_urlport], "443");
  EXPECT_EQ(ev[Field::page_urlpath], "/");
  EXPECT_NE(ev[Field::unstruct_event].find("\"price\":49.95"), std::string::npos)
      << ev[Field::unstruct_event];
}

TEST(Pipeline, SelfDescribingFailuresAreSchemaViolations) {
  auto not_json = bad("e=pv&co=%7Bnope", "schema_violations");
  const auto& m0 = not_json["data"]["failure"]["messages"][0];
  EXPECT_STREQ(m0["field"].GetString(), "contexts");
  EXPECT_STREQ(m0["value"].GetString(), "{nope");
  EXPECT_TRUE(m0["error"].IsString());

  auto not_iglu = bad("e=pv&co=" + b64(R"({"data":[]})").insert(0, ""), "schema_violations");
  (void)not_iglu;
  auto legacy =
      bad("e=pv&co=%7B%22page%22%3A%7B%22page_type%22%3A%22test%22%7D%7D", "schema_violations");
  EXPECT_STREQ(legacy["data"]["failure"]["messages"][0]["error"].GetString(), "INVALID_SCHEMA");
  EXPECT_TRUE(legacy["data"]["failure"]["messages"][0]["json"].IsObject());

  auto mismatch =
      bad("e=ue&ue_pr=" + std::string("%7B%22schema%22%3A%22iglu%3Acom.acme%2Fx%2Fjsonschema%2F1-0-"
                                      "0%22%2C%22data%22%3A%7B%7D%7D"),
          "schema_violations");
  const auto& mm = mismatch["data"]["failure"]["messages"][0];
  EXPECT_STREQ(mm["schemaKey"].GetString(), "iglu:com.acme/x/jsonschema/1-0-0");
  EXPECT_STREQ(mm["schemaCriterion"].GetString(),
               "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*");

  // Bad base64 is an atomic parse error on the parameter; an inner entity that is not an SDJ is
  // NotIglu.
  EXPECT_EQ(atomic_reports(bad("e=pv&cx=%21%21%21", "schema_violations")).count("cx"), 1u);
  auto entity = bad(
      "e=pv&cx=" +
          b64(R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"not-iglu","data":{}}]})"),
      "schema_violations");
  EXPECT_STREQ(entity["data"]["failure"]["messages"][0]["error"].GetString(), "INVALID_IGLUURI");
}

TEST(Pipeline, JsonDepthIsLimited) {
  std::string deep =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:a/b/jsonschema/1-0-0","data":)";
  for (int i = 0; i < 60; ++i) deep += "[";
  for (int i = 0; i < 60; ++i) deep += "]";
  deep += "}]}";
  auto d = bad("e=pv&cx=" + b64(deep), "schema_violations");
  EXPECT_NE(
      std::string(d["data"]["failure"]["messages"][0]["error"].GetString()).find("deeper than 50"),
      std::string::npos);
  PipelineConfig cfg = base_config();
  cfg.max_json_depth = 100;
  EXPECT_FALSE(enrich("e=pv&cx=" + b64(deep), cfg)[Field::contexts].empty());
}

// ---- Iglu validation through the seam ----------------------------------------------------

class FakeValidator : public iglu::SchemaValidator {
 public:
  iglu::ValidationOutcome validate(std::string_view uri, const rapidjson::Value&) override {
    calls++;
    iglu::ValidationOutcome o;
    if (uri.find("/bad/") != std::string_view::npos) {
      o.status = iglu::ValidationOutcome::Status::kInvalid;
      o.error_json =
          R"({"error":"ValidationError","dataReports":[{"message":"$.x: is missing","path":"$","keyword":"required","targets":["x"]}]})";
    } else if (uri.find("/missing/") != std::string_view::npos) {
      o.status = iglu::ValidationOutcome::Status::kNotFound;
      o.error_json = R"({"error":"ResolutionError","lookupHistory":[]})";
    } else if (uri.find("/flaky/") != std::string_view::npos && outages > 0) {
      outages--;
      o.status = iglu::ValidationOutcome::Status::kInfrastructure;
    } else if (uri.find("/old/") != std::string_view::npos) {
      o.superseded_by = "1-0-2";
    }
    return o;
  }
  std::atomic<int> calls{0};
  std::atomic<int> outages{0};
};

std::string contexts_of(std::initializer_list<std::string> entities) {
  std::string s =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)";
  bool first = true;
  for (const auto& e : entities) {
    if (!first) s += ',';
    s += e;
    first = false;
  }
  return s + "]}";
}

TEST(Pipeline, InvalidAndMissingEntitiesBecomeSchemaViolations) {
  auto v = std::make_shared<FakeValidator>();
  PipelineConfig cfg = base_config();
  cfg.validator = v;
  auto d = bad(
      "e=pv&cx=" +
          b64(contexts_of({R"({"schema":"iglu:com.acme/good/jsonschema/1-0-0","data":{"a":1}})",
                           R"({"schema":"iglu:com.acme/bad/jsonschema/1-0-0","data":{}})",
                           R"({"schema":"iglu:com.acme/missing/jsonschema/1-0-0","data":{}})"})),
      "schema_violations", cfg);
  const auto& msgs = d["data"]["failure"]["messages"];
  ASSERT_EQ(msgs.Size(), 2u);
  EXPECT_STREQ(msgs[0]["schemaKey"].GetString(), "iglu:com.acme/bad/jsonschema/1-0-0");
  EXPECT_STREQ(msgs[0]["error"]["error"].GetString(), "ValidationError");
  EXPECT_STREQ(msgs[1]["error"]["error"].GetString(), "ResolutionError");
  // The valid entity is kept in the partially enriched event.
  const std::string contexts = d["data"]["payload"]["enriched"]["contexts"].GetString();
  EXPECT_NE(contexts.find("com.acme/good"), std::string::npos);
  EXPECT_EQ(contexts.find("com.acme/bad"), std::string::npos);
}

TEST(Pipeline, RegistryOutageIsRetriedNeverABadRow) {
  auto v = std::make_shared<FakeValidator>();
  v->outages = 3;
  PipelineConfig cfg = base_config();
  cfg.validator = v;
  event::EnrichedEvent ev = enrich(
      "e=pv&cx=" +
          b64(contexts_of({R"({"schema":"iglu:com.acme/flaky/jsonschema/1-0-0","data":{}})"})),
      cfg);
  EXPECT_NE(ev[Field::contexts].find("com.acme/flaky"), std::string::npos);
  EXPECT_EQ(v->outages.load(), 0);
  EXPECT_EQ(v->calls.load(), 5);  // outer envelope + 3 outages + 1 success
}

TEST(Pipeline, SupersededSchemaIsRewrittenWithValidationInfo) {
  auto v = std::make_shared<FakeValidator>();
  PipelineConfig cfg = base_config();
  cfg.validator = v;
  event::EnrichedEvent ev = enrich(
      "e=ue&ue_px=" +
          b64(R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/old/jsonschema/1-0-0","data":{"k":"v"}}})"),
      cfg);
  EXPECT_NE(ev[Field::unstruct_event].find("\"iglu:com.acme/old/jsonschema/1-0-2\""),
            std::string::npos);
  EXPECT_EQ(ev[Field::event_version], "1-0-2");
  EXPECT_EQ(
      ev[Field::derived_contexts],
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0","data":{"originalSchema":"iglu:com.acme/old/jsonschema/1-0-0","validatedWith":"1-0-2"}}]})");
}

// ---- Phase 2: built-in steps ---------------------------------------------------------------

struct TstampCase {
  const char* dtm;
  const char* stm;
  int64_t collector;
  const char* ttm;
  const char* derived;
};

int64_t ms(const char* tsv) {
  int64_t v = 0;
  EXPECT_TRUE(parse_tsv_tstamp(tsv, v)) << tsv;
  return v;
}

TEST(Pipeline, Tv10DerivedTimestamp) {
  const TstampCase cases[] = {
      {"2014-04-29 12:00:54.555", nullptr, ms("2014-04-29 09:00:54.000"), nullptr,
       "2014-04-29 09:00:54.000"},
      {nullptr, nullptr, ms("2014-04-29 09:00:54.000"), nullptr, "2014-04-29 09:00:54.000"},
      {"2014-04-29 09:00:54.001", "2014-04-29 09:00:54.000", ms("2014-04-29 09:00:54.000"), nullptr,
       "2014-04-29 09:00:54.000"},
      {"2014-04-29 09:00:54.000", "2014-04-29 09:00:54.001", ms("2014-04-29 09:00:54.000"), nullptr,
       "2014-04-29 09:00:53.999"},
      {"2024-06-30 09:00:00.000", "2024-08-09 09:00:00.000", ms("2024-08-09 11:30:00.000"), nullptr,
       "2024-06-30 11:30:00.000"},
      {"2024-06-15 09:00:00.000", "2024-06-15 09:00:00.010", ms("2024-06-15 09:00:00.005"), nullptr,
       "2024-06-15 08:59:59.995"},
      {"2014-04-29 09:00:54.001", "2014-04-29 09:00:54.000", ms("2014-04-29 09:00:54.000"),
       "2000-01-01 00:00:00.000", "2000-01-01 00:00:00.000"},
  };
  Pipeline p(base_config());
  for (const auto& c : cases) {
    std::string qs = "e=pv";
    if (c.dtm) qs += "&dtm=" + std::to_string(ms(c.dtm));
    if (c.stm) qs += "&stm=" + std::to_string(ms(c.stm));
    if (c.ttm) qs += "&ttm=" + std::to_string(ms(c.ttm));
    event::CollectorPayload cp = get(qs);
    cp.timestamp = c.collector;
    EXPECT_EQ(good_event(run(p, cp))[Field::derived_tstamp], c.derived) << qs;
  }
}

TEST(Pipeline, Tv08DerivedTstampSessionAndCrossDomain) {
  event::EnrichedEvent ev = enrich(
      "e=pp&stm=1381188927572&dtm=1381188927571&sid=75d0fc90-cef4-11e4-8830-0800200c9a66"
      "&url=http%3A%2F%2Fwww.example.com%2F%3Fa%3D1%26gclid%3DCI6thtbxhboCFTMctAod0FcAdQ%26_sp%"
      "3D4da6ee6d6d69aa18.1381188927100");
  EXPECT_EQ(ev[Field::dvce_created_tstamp], "2013-10-07 23:35:27.571");
  EXPECT_EQ(ev[Field::dvce_sent_tstamp], "2013-10-07 23:35:27.572");
  EXPECT_EQ(ev[Field::derived_tstamp], "2013-10-07 23:35:29.999");
  EXPECT_EQ(ev[Field::domain_sessionid], "75d0fc90-cef4-11e4-8830-0800200c9a66");
  EXPECT_EQ(ev[Field::refr_domain_userid], "4da6ee6d6d69aa18");
  EXPECT_EQ(ev[Field::refr_dvce_tstamp], "2013-10-07 23:35:27.100");
}

TEST(Pipeline, Tv13CrossDomainParameter) {
  const std::string page = "&url=http%3A%2F%2Fa.example%2F%3F";
  event::EnrichedEvent one = enrich("e=pv" + page + "_sp%3Dabc");
  EXPECT_EQ(one[Field::refr_domain_userid], "abc");
  EXPECT_EQ(one[Field::refr_dvce_tstamp], "");
  event::EnrichedEvent two = enrich("e=pv" + page + "_sp%3Dabc.1426245561368");
  EXPECT_EQ(two[Field::refr_domain_userid], "abc");
  EXPECT_EQ(two[Field::refr_dvce_tstamp], "2015-03-13 11:19:21.368");
  event::EnrichedEvent empty = enrich("e=pv" + page + "_sp%3D");
  EXPECT_EQ(empty[Field::refr_domain_userid], "");
  auto d = bad("e=pv" + page + "_sp%3Dabc.not-a-timestamp", "enrichment_failures");
  const auto& m = d["data"]["failure"]["messages"][0]["message"];
  EXPECT_STREQ(m["field"].GetString(), "sp_dtm");
  EXPECT_STREQ(m["value"].GetString(), "not-a-timestamp");
  EXPECT_STREQ(m["expectation"].GetString(), "Not in the expected format: ms since epoch");
}

TEST(Pipeline, Tv21PageAndRefererSplitting) {
  event::EnrichedEvent a = enrich("e=pv&url=https%3A%2F%2Fsnowplow.io%2F");
  EXPECT_EQ(a[Field::page_urlscheme], "https");
  EXPECT_EQ(a[Field::page_urlhost], "snowplow.io");
  EXPECT_EQ(a[Field::page_urlport], "443");
  EXPECT_EQ(a[Field::page_urlpath], "/");
  EXPECT_EQ(a[Field::page_urlquery], "");
  EXPECT_EQ(a[Field::page_urlfragment], "");
  event::EnrichedEvent c = enrich("e=pv&url=http%3A%2F%2Fexample.com%3A8080%2Fa%20b");
  EXPECT_EQ(c[Field::page_url], "http://example.com:8080/a%20b");
  EXPECT_EQ(c[Field::page_urlport], "8080");
  EXPECT_EQ(c[Field::page_urlpath], "/a%20b");
  // No url parameter: the Referer header is the page URL; page_referrer only ever comes from refr.
  event::CollectorPayload cp = get("e=pv");
  cp.referer_uri = "https://shop.example/p?x=1";
  Pipeline p(base_config());
  event::EnrichedEvent d = good_event(run(p, cp));
  EXPECT_EQ(d[Field::page_url], "https://shop.example/p?x=1");
  EXPECT_EQ(d[Field::page_urlquery], "x=1");
  EXPECT_EQ(d[Field::page_referrer], "");
  cp.querystring = "e=pv&url=http%3A%2F%2Fwins.example%2F";
  EXPECT_EQ(good_event(run(p, cp))[Field::page_urlhost], "wins.example");
  event::EnrichedEvent r = enrich(
      "e=pv&refr=http%3A%2F%2Fwww.psychicbazaar.com%2Fcrystals%2F335-howlite-tumble-stone.html%"
      "3Fview%3Dprint%23detail");
  EXPECT_EQ(r[Field::refr_urlscheme], "http");
  EXPECT_EQ(r[Field::refr_urlhost], "www.psychicbazaar.com");
  EXPECT_EQ(r[Field::refr_urlport], "80");
  EXPECT_EQ(r[Field::refr_urlpath], "/crystals/335-howlite-tumble-stone.html");
  EXPECT_EQ(r[Field::refr_urlquery], "view=print");
  EXPECT_EQ(r[Field::refr_urlfragment], "detail");
  auto bad_url = bad("e=pv&url=http%3A%2F%2F%5B%3A%3A1%2Fx", "enrichment_failures");
  EXPECT_NE(std::string(bad_url["data"]["failure"]["messages"][0]["message"]["error"].GetString())
                .rfind("Provided URI [http://[::1/x] could not be parsed", 0),
            std::string::npos);
}

TEST(Pipeline, MissingCollectorVersionIsAnEnrichmentFailure) {
  auto d = bad("e=pv&cv=", "enrichment_failures");
  const auto& m = d["data"]["failure"]["messages"][0];
  EXPECT_TRUE(m["enrichment"].IsNull());
  EXPECT_STREQ(m["message"]["field"].GetString(), "v_collector");
  EXPECT_TRUE(m["message"]["value"].IsNull());
  EXPECT_STREQ(m["message"]["expectation"].GetString(), "should be set");
}

// ---- Configured enrichments: order, contexts newest-first, failures -----------------------

class TestEnrichment : public Enrichment {
 public:
  TestEnrichment(std::string name, Step step, std::vector<std::string>* trace, bool fail = false)
      : name_(std::move(name)), step_(step), trace_(trace), fail_(fail) {}
  std::string_view name() const override { return name_; }
  Step step() const override { return step_; }
  void apply(EventContext& ctx) const override {
    std::string seen = name_ + ":q=" + std::to_string(ctx.page_query().size()) +
                       ":vendor=" + ctx.event()[Field::event_vendor] +
                       ":refr=" + ctx.event()[Field::refr_urlhost];
    trace_->push_back(seen);
    ctx.add_derived_context(R"({"schema":"iglu:com.acme/)" + name_ +
                            R"(/jsonschema/1-0-0","data":{"n":1}})");
    ctx.add_derived_context(R"({"schema":"iglu:com.acme/)" + name_ +
                            R"(/jsonschema/1-0-0","data":{"n":2}})");
    if (fail_)
      ctx.add_failure("iglu:com.acme/" + name_ + "_config/jsonschema/1-0-0", name_,
                      R"({"error":"boom"})");
  }

 private:
  std::string name_;
  Step step_;
  std::vector<std::string>* trace_;
  bool fail_;
};

TEST(Pipeline, EnrichmentsRunInStepOrderAroundBuiltins) {
  std::vector<std::string> trace;
  PipelineConfig cfg = base_config();
  cfg.enrichments = {std::make_shared<TestEnrichment>("ip", Step::kIpLookups, &trace),
                     std::make_shared<TestEnrichment>("ua", Step::kUaParser, &trace),
                     std::make_shared<TestEnrichment>("camp", Step::kCampaignAttribution, &trace),
                     std::make_shared<TestEnrichment>("refp", Step::kRefererParser, &trace)};
  event::EnrichedEvent ev =
      enrich("e=pv&url=http%3A%2F%2Fa.example%2F%3Fx%3D1%26y&refr=http%3A%2F%2Fr.example%2F", cfg);
  const std::vector<std::string> want = {
      "ua:q=0:vendor=:refr=",             // step 6: before the referer split
      "refp:q=0:refr=r.example",          // step 8: after the split, before query parse
      "camp:q=2:vendor=:refr=r.example",  // step 10: page query available
      "ip:q=2:vendor=com.snowplowanalytics.snowplow:refr=r.example",  // step 18: after schema
                                                                      // fields
  };
  ASSERT_EQ(trace.size(), 4u);
  EXPECT_EQ(trace[0], want[0]);
  EXPECT_EQ(trace[1].substr(0, 9), "refp:q=0:");
  EXPECT_NE(trace[1].find("refr=r.example"), std::string::npos);
  EXPECT_EQ(trace[2], want[2]);
  EXPECT_EQ(trace[3], want[3]);
  // Newest group first, each group in its own order.
  const std::string& dc = ev[Field::derived_contexts];
  const auto pos = [&](const std::string& s) { return dc.find(s); };
  EXPECT_LT(pos("com.acme/ip/"), pos("com.acme/camp/"));
  EXPECT_LT(pos("com.acme/camp/"), pos("com.acme/refp/"));
  EXPECT_LT(pos("com.acme/refp/"), pos("com.acme/ua/"));
  EXPECT_LT(pos("com.acme/ip/jsonschema/1-0-0\",\"data\":{\"n\":1}"),
            pos("com.acme/ip/jsonschema/1-0-0\",\"data\":{\"n\":2}"));
  EXPECT_EQ(
      dc.rfind(
          R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)",
          0),
      0u);
}

TEST(Pipeline, EnrichmentFailureNamesTheEnrichmentAndOthersStillRun) {
  std::vector<std::string> trace;
  PipelineConfig cfg = base_config();
  cfg.enrichments = {std::make_shared<TestEnrichment>("first", Step::kUaParser, &trace, true),
                     std::make_shared<TestEnrichment>("second", Step::kAnonIp, &trace)};
  auto d = bad("e=pv", "enrichment_failures", cfg);
  EXPECT_EQ(trace.size(), 2u);
  const auto& m = d["data"]["failure"]["messages"][0];
  EXPECT_STREQ(m["enrichment"]["schemaKey"].GetString(),
               "iglu:com.acme/first_config/jsonschema/1-0-0");
  EXPECT_STREQ(m["enrichment"]["identifier"].GetString(), "first");
  EXPECT_STREQ(m["message"]["error"].GetString(), "boom");
}

TEST(Pipeline, InvalidDerivedContextIsASchemaViolation) {
  std::vector<std::string> trace;
  auto v = std::make_shared<FakeValidator>();
  PipelineConfig cfg = base_config();
  cfg.validator = v;
  cfg.enrichments = {std::make_shared<TestEnrichment>("bad", Step::kUaParser, &trace)};
  auto d = bad("e=pv", "schema_violations", cfg);
  EXPECT_STREQ(d["data"]["failure"]["messages"][0]["schemaKey"].GetString(),
               "iglu:com.acme/bad/jsonschema/1-0-0");
}

// ---- Phase 3: length limits and record size -----------------------------------------------

TEST(Pipeline, OverlongFieldsFailUnlessAcceptInvalid) {
  const std::string long_aid(256, 'a');
  auto d = bad("e=pv&aid=" + long_aid + "&tr_cu=EURO", "schema_violations");
  const auto reports = atomic_reports(d);
  EXPECT_EQ(reports.find("app_id")->second, "Field is longer than maximum allowed size 255");
  EXPECT_EQ(reports.find("tr_currency")->second, "Field is longer than maximum allowed size 3");
  EXPECT_STREQ(
      d["data"]["failure"]["messages"][0]["error"]["dataReports"][0]["keyword"].GetString(),
      "atomic_field_length_exceeded");
  // 255 characters of two UTF-8 bytes each are within the limit (Java counts characters).
  std::string greek;
  for (int i = 0; i < 255; ++i) greek += "%CE%A7";
  EXPECT_EQ(java_length(enrich("e=pv&aid=" + greek)[Field::app_id]), 255u);
  PipelineConfig cfg = base_config();
  cfg.accept_invalid = true;
  EXPECT_EQ(enrich("e=pv&aid=" + long_aid, cfg)[Field::app_id], long_aid);
}

TEST(Pipeline, OversizedRecordsBecomeSizeViolations) {
  PipelineConfig cfg = base_config();
  cfg.max_record_bytes = 600;
  auto d = bad("e=pv&page=" + std::string(700, 'x'), "size_violation", cfg);
  EXPECT_EQ(d["data"]["failure"]["maximumAllowedSizeBytes"].GetInt(), 600);
  EXPECT_GT(d["data"]["failure"]["actualSizeBytes"].GetInt(), 700);
  EXPECT_STREQ(d["data"]["failure"]["expectation"].GetString(),
               "Enriched event exceeds the maximum allowed size of 600 bytes");
  EXPECT_EQ(std::string(d["data"]["payload"].GetString()).size(), 60u);
}

TEST(Pipeline, GoodLinesAppendedToABufferMatchTheVectorOutput) {
  // The streaming runner's mode (Output::good_text): same line plus '\n', counted, nothing in
  // `good`; the buffer's earlier content is kept, also when a line is too long and becomes a
  // size_violation instead.
  const auto payload = get("e=pv&page=Hello&aid=site");
  Pipeline p(base_config());
  Output vec;
  p.process_payload(payload, "thrift", vec);
  ASSERT_EQ(vec.good.size(), 1u);
  std::string buffer = "earlier\n";
  Output direct;
  direct.good_text = &buffer;
  p.process_payload(payload, "thrift", direct);
  EXPECT_TRUE(direct.good.empty());
  EXPECT_EQ(direct.good_appended, 1u);
  EXPECT_EQ(direct.good_count(), 1u);
  // event_id (column 7) is random per event: compare everything else.
  auto without_id = [](std::string line) {
    const std::size_t a = line.find(
        '\t',
        line.find(
            '\t',
            line.find('\t', line.find('\t', line.find('\t', line.find('\t') + 1) + 1) + 1) + 1) +
            1);
    const std::size_t b = line.find('\t', a + 1);
    return line.erase(a, b - a);
  };
  ASSERT_EQ(buffer.substr(0, 8), "earlier\n");
  ASSERT_EQ(buffer.back(), '\n');
  EXPECT_EQ(without_id(buffer.substr(8, buffer.size() - 9)), without_id(vec.good[0]));

  PipelineConfig small = base_config();
  small.max_record_bytes = 600;
  Pipeline limited(std::move(small));
  std::string kept = "earlier\n";
  Output over;
  over.good_text = &kept;
  limited.process_payload(get("e=pv&page=" + std::string(700, 'x')), "thrift", over);
  EXPECT_EQ(kept, "earlier\n");
  EXPECT_EQ(over.good_count(), 0u);
  ASSERT_EQ(over.bad.size(), 1u);
  EXPECT_NE(over.bad[0].find("size_violation"), std::string::npos);
}

// Counts its calls; fails on struct events (their bad rows then carry the RawEvent the fast path
// fetches from adapt()), reads the anonymous flag into a context.
class CountingEnrichment : public Enrichment {
 public:
  CountingEnrichment(std::atomic<int>* calls, std::atomic<int>* on_views)
      : calls_(calls), on_views_(on_views) {}
  std::string_view name() const override { return "counting"; }
  Step step() const override { return Step::kAnonIp; }
  void apply(EventContext& ctx) const override {
    ++*calls_;
    // On the fast path the RawEvent carries no headers or parameters: they come from the views.
    if (ctx.raw().headers.empty() && ctx.raw().parameters.empty() && !ctx.headers().empty()) {
      ++*on_views_;
    }
    ctx.add_derived_context(std::string(R"({"schema":"iglu:com.acme/anon/jsonschema/1-0-0",)") +
                            R"("data":{"a":)" + (ctx.anonymous() ? "true" : "false") + "}}");
    if (ctx.event()[Field::event] == "struct") {
      ctx.add_failure("iglu:com.acme/counting/jsonschema/1-0-0", "counting", R"({"error":"se"})");
    }
  }

 private:
  std::atomic<int>* calls_;
  std::atomic<int>* on_views_;
};

// The payloads of ViewFastPathMatchesTheGeneralPath through `config` with the parameter-view fast
// path on and off: same good lines, same bad rows, same order, in both output modes.
void expect_fast_path_matches_general_path(const PipelineConfig& config) {
  // POST payloads that the fast path takes (or starts and abandons at a bad event).
  auto post = [](std::string events) {
    event::CollectorPayload cp = get("");
    cp.querystring.reset();
    cp.content_type = "application/json";
    cp.referer_uri = "https://ref.example/from?q=1";
    cp.headers =
        std::vector<std::string>{"Host: c.example", "X-Forwarded-For: 198.51.100.4",
                                 "Cookie: sp=abc; other=1", "SP-Anonymous: *", "application/json"};
    cp.body = R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",)"
              R"("data":[)" +
              events + "]}";
    return cp;
  };
  const std::string ctx =
      b64(R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
          R"({"schema":"iglu:com.acme/c/jsonschema/1-0-0","data":{"a":1.5,"b":"x\ty"}}]})");
  const std::string ue =
      R"({\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\",)"
      R"(\"data\":{\"schema\":\"iglu:com.acme/e/jsonschema/1-0-0\",\"data\":{\"k\":\"v\"}}})";
  const std::string pv =
      R"({"e":"pv","p":"web","tv":"js-3.0","eid":"6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e01",)"
      R"("url":"https://shop.example:8080/a/b?_sp=d1.1700000000000&utm_source=x#frag",)"
      R"("page":"Tab\there \"quoted\" \u00e9","refr":"http://www.google.com/search?q=a+b",)"
      R"("dtm":"1381188929000","stm":"1381188930500","res":"1024x768","cookie":"1",)"
      R"("duid":"d1","vid":"3","sid":"7c0d2a0e-0b8e-4e0f-9b9a-0f6c2f0b8e02","ua":"Agent/1",)"
      R"("cx":")" +
      ctx + R"("})";
  const std::string se =
      R"({"e":"se","p":"mob","tv":"t","eid":"6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e03",)"
      R"("se_ca":"cat","se_ac":"act","se_va":"12.5","tr_tt":"3"})";
  const std::string un = R"({"e":"ue","p":"web","tv":"t","eid":"6a0a1f0e-8b8e-4e0f-9b9a-)"
                         R"(0f6c2f0b8e04","ue_pr":")" +
                         ue + R"("})";
  const std::string bad_ts = R"({"e":"pv","p":"web","tv":"t","eid":"6a0a1f0e-8b8e-4e0f-9b9a-)"
                             R"(0f6c2f0b8e05","dtm":"soon"})";
  const std::string bad_ev = R"({"e":"zz","p":"web","tv":"t","eid":"6a0a1f0e-8b8e-4e0f-9b9a-)"
                             R"(0f6c2f0b8e06"})";
  const std::vector<std::string> bodies = {pv,
                                           pv + "," + se + "," + un,
                                           pv + "," + bad_ts + "," + se,
                                           se + "," + bad_ev,
                                           bad_ts,
                                           un + "," + pv + "," + std::string(un)};
  Pipeline fast(config);
  PipelineConfig general_config = config;
  general_config.view_fast_path = false;
  Pipeline general(std::move(general_config));
  for (const auto& events : bodies) {
    const auto cp = post(events);
    const Output a = run(fast, cp);
    const Output b = run(general, cp);
    EXPECT_EQ(a.good, b.good) << events;
    EXPECT_EQ(a.bad, b.bad) << events;
    EXPECT_FALSE(a.good.empty() && a.bad.empty()) << events;
    // The streaming mode: what the fast path appended before a bad event is taken back.
    std::string text = "earlier\n";
    Output streamed;
    streamed.good_text = &text;
    fast.process_payload(cp, "thrift", streamed);
    std::string want = "earlier\n";
    for (const auto& line : b.good) want += line + "\n";
    EXPECT_EQ(text, want) << events;
    EXPECT_EQ(streamed.good_appended, b.good.size()) << events;
    EXPECT_EQ(streamed.bad, b.bad) << events;
  }
  // GET requests (tp2 and tp1): good, bad, repeated names (general path), unknown names.
  const std::string ue_json =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
      R"("data":{"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{"k":"v"}}})";
  const std::vector<std::string> queries = {
      "e=pv&url=http%3A%2F%2Fa.example%2Fp%3Fq%3D1%23f&page=T%C3%A9+x&tv=js&p=web&zz=1&nuid",
      "e=se&se_ca=a&ev_ca=b&se_va=1.50&tv=t&p=mob&eid=6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e07",
      "e=pv&e=se&tv=t&p=web",
      "e=pv&dtm=x&tv=t&p=web",
      "e=ue&tv=t&p=web&ue_px=" + b64(ue_json),
      "e=pv&tv=t&p=web&zz=1&aid=a&zz=2&yy",
      "zz=1"};
  for (const std::string& qs : queries) {
    for (const std::string path : {"/com.snowplowanalytics.snowplow/tp2", "/i"}) {
      auto cp = get(qs);
      cp.path = path;
      const Output a = run(fast, cp);
      const Output b = run(general, cp);
      // Without eid, event_id is random: compare the rest.
      ASSERT_EQ(a.good.size(), b.good.size()) << qs;
      for (std::size_t i = 0; i < a.good.size(); ++i) {
        event::EnrichedEvent x, y;
        std::string err;
        ASSERT_TRUE(event::read_tsv(a.good[i], x, err)) << err;
        ASSERT_TRUE(event::read_tsv(b.good[i], y, err)) << err;
        if (qs.find("eid=") == std::string::npos) x[Field::event_id] = y[Field::event_id];
        EXPECT_EQ(x.values, y.values) << qs;
      }
      ASSERT_EQ(a.bad.size(), b.bad.size()) << qs;
      EXPECT_EQ(a.good.size() + a.bad.size(), 1u) << qs;
    }
  }
  // The mixed payload really has both outcomes.
  const Output mixed = run(fast, post(pv + "," + bad_ts + "," + un));
  EXPECT_EQ(mixed.good.size(), 2u);
  EXPECT_EQ(mixed.bad.size(), 1u);
}

TEST(Pipeline, ViewFastPathMatchesTheGeneralPath) {
  expect_fast_path_matches_general_path(base_config());
}

TEST(Pipeline, ViewFastPathWithEnrichmentsMatchesTheGeneralPath) {
  // The enrichments that read the request headers and every parameter, and one that fails on
  // some events, on the fast path (views, payload headers) and on the general path (RawEvents).
  std::atomic<int> calls{0}, on_views{0};
  PipelineConfig config = base_config();
  config.enrichments = {
      std::make_shared<enrichments::CookieExtractorEnrichment>(std::vector<std::string>{"sp"}),
      std::make_shared<enrichments::HttpHeaderExtractorEnrichment>(std::make_unique<RE2>(".*")),
      std::make_shared<enrichments::EventFingerprintEnrichment>(
          std::vector<std::string>{"eid", "stm"}, *enrichments::Hasher::by_name("MD5")),
      std::make_shared<CountingEnrichment>(&calls, &on_views)};
  expect_fast_path_matches_general_path(config);

  // Each enrichment runs once per event on the fast path, bad events included: pv, se (an
  // enrichment failure) and pv again; the malformed dtm fails before any enrichment.
  Pipeline fast(config);
  event::CollectorPayload cp = get("");
  cp.querystring.reset();
  cp.content_type = "application/json";
  cp.headers = std::vector<std::string>{"Cookie: sp=abc", "Accept-Language: fr"};
  const std::string pv = R"({"e":"pv","p":"web","tv":"t","url":"https://a.example/"})";
  cp.body = R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",)"
            R"("data":[)" +
            pv + R"(,{"e":"se","p":"web","tv":"t","se_ca":"c","se_ac":"a"},)" +
            R"({"e":"pv","p":"web","tv":"t","dtm":"soon"},)" + pv + "]}";
  calls = 0;
  on_views = 0;
  const Output out = run(fast, cp);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(on_views.load(), 3);
  ASSERT_EQ(out.good.size(), 2u);
  ASSERT_EQ(out.bad.size(), 2u);
  EXPECT_NE(out.bad[0].find("enrichment_failures"), std::string::npos);
  EXPECT_NE(out.bad[0].find(R"("se_ca")"), std::string::npos);  // the raw parameters
  EXPECT_NE(out.bad[1].find("schema_violations"), std::string::npos);
  event::EnrichedEvent ev;
  std::string err;
  ASSERT_TRUE(event::read_tsv(out.good[0], ev, err)) << err;
  EXPECT_NE(ev[Field::derived_contexts].find(R"({"name":"sp","value":"abc"})"), std::string::npos);
  EXPECT_NE(ev[Field::derived_contexts].find(R"({"name":"Accept-Language","value":"fr"})"),
            std::string::npos);
  // e, p, tv, url in name order, each as name U+001F value U+001F.
  std::string preimage = "e|pv|p|web|tv|t|url|https://a.example/|";
  std::replace(preimage.begin(), preimage.end(), '|', '\x1f');
  EXPECT_EQ(ev[Field::event_fingerprint], enrichments::Hasher::by_name("MD5")->hex(preimage));
}

// ---- Whole-payload bad rows ------------------------------------------------------------------

TEST(Pipeline, UndecodableThriftIsACollectorPayloadFormatViolation) {
  Pipeline p(base_config());
  Output out;
  p.process_thrift(std::string("\x0b\x00\x64\x7f\xff\xff\xff", 7), out);
  auto d = bad_row(out, "collector_payload_format_violation");
  EXPECT_STREQ(d["data"]["failure"]["loader"].GetString(), "thrift");
  EXPECT_STREQ(d["data"]["payload"].GetString(),
               common::base64_encode(std::string("\x0b\x00\x64\x7f\xff\xff\xff", 7)).c_str());
  EXPECT_TRUE(d["data"]["failure"]["message"].IsObject());

  Output out2;
  p.reject_raw("cloudfront", "#garbage line", "not a CloudFront access log line", out2);
  auto r = bad_row(out2, "collector_payload_format_violation");
  EXPECT_STREQ(r["data"]["failure"]["loader"].GetString(), "cloudfront");
  EXPECT_STREQ(r["data"]["failure"]["message"]["error"].GetString(),
               "not a CloudFront access log line");
  EXPECT_STREQ(r["data"]["payload"].GetString(), "#garbage line");
}

TEST(Pipeline, ThriftRoundTripProducesTheSameEvent) {
  Pipeline p(base_config());
  Output out;
  p.process_thrift(event::encode_thrift(get("e=pv&aid=x")), out);
  EXPECT_EQ(good_event(out)[Field::app_id], "x");
}

TEST(Pipeline, AdapterAndTrackerProtocolFailures) {
  Pipeline p(base_config());
  event::CollectorPayload cp = get("e=pv");
  cp.path = "/com.acme.unknown/v9";
  auto a = bad_row(run(p, cp), "adapter_failures");
  EXPECT_STREQ(a["data"]["payload"]["vendor"].GetString(), "com.acme.unknown");
  EXPECT_TRUE(a["data"]["failure"]["messages"].IsArray());

  event::CollectorPayload post = get("");
  post.querystring.reset();
  post.body = "{}";
  post.content_type = "text/plain";
  auto t = bad_row(run(p, post), "tracker_protocol_violations");
  EXPECT_STREQ(t["data"]["failure"]["vendor"].GetString(), "com.snowplowanalytics.snowplow");
  EXPECT_STREQ(t["data"]["failure"]["version"].GetString(), "tp2");
}

TEST(Pipeline, SharedAcrossThreads) {
  Pipeline p(base_config());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        Output out;
        p.process_payload(get("e=pv&aid=t" + std::to_string(t) + "&vid=" + std::to_string(i)),
                          "thrift", out);
        event::EnrichedEvent ev;
        std::string err;
        if (out.good.size() == 1 && event::read_tsv(out.good[0], ev, err) &&
            ev[Field::app_id] == "t" + std::to_string(t) &&
            ev[Field::domain_sessionidx] == std::to_string(i)) {
          good++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace furrow::enrich
