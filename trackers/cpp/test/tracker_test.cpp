// The tracker's events on the wire: every event type's parameters, the subject, contexts, true
// timestamps, base64 and plain JSON, POST (payload_data 1-0-4) and GET, and refused input.
#include "furrow/tracker/tracker.h"

#include <gtest/gtest.h>

#include <set>

#include "test_helpers.h"
#include "test_server.h"

namespace ft = furrow::tracker;
using namespace std::chrono_literals;
using ft::test::base64_decode;
using ft::test::is_uuid_v4;
using ft::test::parse_json;
using ft::test::parse_query;
using ft::test::TestServer;

namespace {

using Params = std::map<std::string, std::string>;

// The complete key set of payload_data 1-0-4 (additionalProperties false).
const std::set<std::string> kPayloadDataKeys = {
    "tna",    "aid",    "p",       "dtm",    "tz",    "e",     "tid",     "eid",    "tv",
    "duid",   "nuid",   "uid",     "vid",    "ip",    "res",   "url",     "page",   "refr",
    "fp",     "ctype",  "cookie",  "lang",   "f_pdf", "f_qt",  "f_realp", "f_wma",  "f_dir",
    "f_fla",  "f_java", "f_gears", "f_ag",   "cd",    "ds",    "cs",      "vp",     "mac",
    "pp_mix", "pp_max", "pp_miy",  "pp_may", "ad_ba", "ad_ca", "ad_ad",   "ad_uid", "tr_id",
    "tr_af",  "tr_tt",  "tr_tx",   "tr_sh",  "tr_ci", "tr_st", "tr_co",   "tr_cu",  "ti_id",
    "ti_sk",  "ti_nm",  "ti_na",   "ti_ca",  "ti_pr", "ti_qu", "ti_cu",   "sa",     "sn",
    "st",     "sp",     "se_ca",   "se_ac",  "se_la", "se_pr", "se_va",   "ue_na",  "ue_pr",
    "ue_px",  "co",     "cx",      "ua",     "tnuid", "stm",   "sid",     "ttm"};

struct Harness {
  explicit Harness(ft::TrackerConfig tc = {}, ft::Method method = ft::Method::kPost,
                   ft::Subject subject = {}) {
    ft::EmitterConfig ec;
    ec.collector_url = server.url();
    ec.method = method;
    ec.retry_base = 5ms;
    ec.retry_cap = 20ms;
    std::string error;
    emitter = ft::Emitter::create(ec, &error);
    EXPECT_TRUE(emitter) << error;
    if (tc.app_id.empty()) tc.app_id = "app";
    if (tc.tracker_namespace.empty()) tc.tracker_namespace = "ns";
    tracker = std::make_unique<ft::Tracker>(emitter, tc, subject);
  }
  // Every event the server received, in order, as parameter maps (POST elements or GET queries).
  std::vector<Params> events() {
    EXPECT_TRUE(tracker->flush(10s));
    std::vector<Params> out;
    for (const auto& r : server.requests()) {
      if (r.method == "GET") {
        EXPECT_EQ(r.target.rfind("/i?", 0), 0u) << r.target;
        out.push_back(parse_query(r.target.substr(3)));
        continue;
      }
      EXPECT_EQ(r.target, "/com.snowplowanalytics.snowplow/tp2");
      EXPECT_NE(r.headers.find("Content-Type: application/json; charset=utf-8"), std::string::npos)
          << r.headers;
      auto doc = parse_json(r.body);
      EXPECT_FALSE(doc.HasParseError()) << r.body;
      EXPECT_STREQ(doc["schema"].GetString(),
                   "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4");
      for (const auto& e : doc["data"].GetArray()) {
        Params p;
        for (rapidjson::SizeType i = 0; i < e.MemberCount(); ++i) {
          const auto& m = *(e.MemberBegin() + i);
          EXPECT_TRUE(m.value.IsString()) << m.name.GetString() << " is not a string";
          EXPECT_TRUE(kPayloadDataKeys.count(m.name.GetString())) << m.name.GetString();
          p[m.name.GetString()] = m.value.GetString();
        }
        out.push_back(std::move(p));
      }
    }
    return out;
  }

  TestServer server;
  std::shared_ptr<ft::Emitter> emitter;
  std::unique_ptr<ft::Tracker> tracker;
};

ft::EventCommon geo_context() {
  ft::EventCommon c;
  c.contexts.emplace_back(
      "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
      R"({"latitude": 1.5, "longitude": -2})");
  return c;
}

// The {"schema","data"} inside ue_px after checking the unstruct_event envelope.
std::string inner_event(const Params& p) {
  auto doc = parse_json(base64_decode(p.at("ue_px")));
  EXPECT_STREQ(doc["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc["data"].Accept(w);
  return buf.GetString();
}

}  // namespace

TEST(Tracker, PageViewWithCommonFields) {
  Harness h;
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto r = h.tracker->track(ft::PageView{
      .url = "https://a.example/p?q=1", .title = "Title ü", .referrer = "https://r.example/"});
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(is_uuid_v4(r.event_id)) << r.event_id;
  auto events = h.events();
  ASSERT_EQ(events.size(), 1u);
  auto& e = events[0];
  EXPECT_EQ(e["e"], "pv");
  EXPECT_EQ(e["url"], "https://a.example/p?q=1");
  EXPECT_EQ(e["page"], "Title ü");
  EXPECT_EQ(e["refr"], "https://r.example/");
  EXPECT_EQ(e["eid"], r.event_id);
  EXPECT_EQ(e["tv"], "furrow-cpp-0.1.0");
  EXPECT_EQ(e["aid"], "app");
  EXPECT_EQ(e["tna"], "ns");
  EXPECT_EQ(e["p"], "srv");
  const long long dtm = std::stoll(e["dtm"]);
  const long long stm = std::stoll(e["stm"]);
  EXPECT_GE(dtm, before);
  EXPECT_GE(stm, dtm);
  EXPECT_LT(stm - dtm, 10000);
  EXPECT_EQ(e.count("ttm"), 0u);
  EXPECT_EQ(e.count("cx"), 0u) << "no contexts, no cx";
  EXPECT_EQ(e.count("uid"), 0u) << "empty values are never sent";
}

TEST(Tracker, SubjectFieldsAndPerEventOverride) {
  ft::Subject s;
  s.set_user_id("u1")
      .set_screen_resolution(1920, 1080)
      .set_viewport(800, 600)
      .set_color_depth(24)
      .set_language("en-GB")
      .set_timezone("Europe/London")
      .set_ip_address("192.0.2.1")
      .set_useragent("UA/1")
      .set_domain_user_id("d-1")
      .set_network_user_id("n-1");
  Harness h({}, ft::Method::kPost, s);
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "c", .action = "a"}));
  ft::EventCommon other;
  other.subject = ft::Subject{}.set_user_id("u2").set_platform("cnsl");
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "c", .action = "a", .common = other}));
  h.tracker->set_subject(ft::Subject{}.set_user_id("u3"));
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "c", .action = "a"}));
  auto events = h.events();
  ASSERT_EQ(events.size(), 3u);
  const Params expected = {{"uid", "u1"},       {"res", "1920x1080"}, {"vp", "800x600"},
                           {"cd", "24"},        {"lang", "en-GB"},    {"tz", "Europe/London"},
                           {"ip", "192.0.2.1"}, {"ua", "UA/1"},       {"duid", "d-1"},
                           {"tnuid", "n-1"},    {"p", "srv"}};
  for (const auto& [k, v] : expected) EXPECT_EQ(events[0][k], v) << k;
  EXPECT_EQ(events[1]["uid"], "u2");
  EXPECT_EQ(events[1]["p"], "cnsl");
  EXPECT_EQ(events[1].count("res"), 0u);
  EXPECT_EQ(events[2]["uid"], "u3");
  EXPECT_EQ(h.tracker->subject().user_id, "u3");
}

TEST(Tracker, StructuredEventValues) {
  Harness h;
  ASSERT_TRUE(h.tracker->track(ft::Structured{
      .category = "shop", .action = "add", .label = "sku 1", .property = "red", .value = 12.5}));
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "shop", .action = "add", .value = 3.0}));
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "shop", .action = "add", .value = 0.1}));
  auto events = h.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["e"], "se");
  EXPECT_EQ(events[0]["se_ca"], "shop");
  EXPECT_EQ(events[0]["se_ac"], "add");
  EXPECT_EQ(events[0]["se_la"], "sku 1");
  EXPECT_EQ(events[0]["se_pr"], "red");
  EXPECT_EQ(events[0]["se_va"], "12.5");
  EXPECT_EQ(events[1]["se_va"], "3");
  EXPECT_EQ(events[2]["se_va"], "0.1");
}

TEST(Tracker, ScreenViewAndTimingUseTheirSchemas) {
  Harness h;
  const std::string prev = "5b2e8f3a-1c4d-4e6f-8a9b-0c1d2e3f4a5b";
  ASSERT_TRUE(h.tracker->track(ft::ScreenView{.name = "menu",
                                              .type = "modal",
                                              .previous_name = "home",
                                              .previous_id = prev,
                                              .transition_type = "push"}));
  ASSERT_TRUE(h.tracker->track(ft::ScreenView{.name = "x", .id = prev}));
  ASSERT_TRUE(h.tracker->track(
      ft::Timing{.category = "load", .variable = "map", .timing_ms = 1234, .label = "l"}));
  auto events = h.events();
  ASSERT_EQ(events.size(), 3u);
  for (auto& e : events) EXPECT_EQ(e["e"], "ue");
  auto sv = parse_json(inner_event(events[0]));
  EXPECT_STREQ(sv["schema"].GetString(),
               "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0");
  EXPECT_STREQ(sv["data"]["name"].GetString(), "menu");
  EXPECT_TRUE(is_uuid_v4(sv["data"]["id"].GetString()));
  EXPECT_STREQ(sv["data"]["type"].GetString(), "modal");
  EXPECT_STREQ(sv["data"]["previousName"].GetString(), "home");
  EXPECT_STREQ(sv["data"]["previousId"].GetString(), prev.c_str());
  EXPECT_STREQ(sv["data"]["transitionType"].GetString(), "push");
  EXPECT_FALSE(sv["data"].HasMember("previousType"));
  EXPECT_EQ(inner_event(events[1]),
            R"({"schema":"iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0",)"
            R"("data":{"name":"x","id":")" +
                prev + R"("}})");
  EXPECT_EQ(inner_event(events[2]),
            R"({"schema":"iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0",)"
            R"("data":{"category":"load","variable":"map","timing":1234,"label":"l"}})");
}

TEST(Tracker, SelfDescribingWithContextsAndTrueTimestamp) {
  Harness h;
  auto common = geo_context();
  common.contexts.emplace_back("iglu:com.example/thing/jsonschema/1-0-0", R"({"n":[1,2]})");
  common.true_timestamp_ms = 1600000000000;
  ASSERT_TRUE(h.tracker->track(ft::SelfDescribing{
      .event = ft::SelfDescribingJson("iglu:com.example/evt/jsonschema/1-0-0", R"({ "a" : "b" })"),
      .common = common}));
  auto events = h.events();
  ASSERT_EQ(events.size(), 1u);
  auto& e = events[0];
  EXPECT_EQ(inner_event(e),
            R"({"schema":"iglu:com.example/evt/jsonschema/1-0-0","data":{"a":"b"}})");
  EXPECT_EQ(e["ttm"], "1600000000000");
  EXPECT_EQ(e["cx"].find_first_of("+/="), std::string::npos);
  EXPECT_EQ(
      base64_decode(e["cx"]),
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",)"
      R"("data":{"latitude":1.5,"longitude":-2}},)"
      R"({"schema":"iglu:com.example/thing/jsonschema/1-0-0","data":{"n":[1,2]}}]})");
}

TEST(Tracker, PlainJsonWhenBase64IsOff) {
  ft::TrackerConfig tc;
  tc.encode_base64 = false;
  Harness h(tc);
  ASSERT_TRUE(h.tracker->track(ft::SelfDescribing{
      .event = ft::SelfDescribingJson("iglu:com.example/evt/jsonschema/1-0-0", R"({"a":1})"),
      .common = geo_context()}));
  auto events = h.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count("ue_px"), 0u);
  EXPECT_EQ(events[0].count("cx"), 0u);
  EXPECT_EQ(events[0]["ue_pr"],
            R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
            R"("data":{"schema":"iglu:com.example/evt/jsonschema/1-0-0","data":{"a":1}}})");
  EXPECT_NE(events[0]["co"].find("geolocation_context"), std::string::npos);
}

TEST(Tracker, GetSendsOneEventPerRequestWithStm) {
  Harness h({}, ft::Method::kGet);
  ASSERT_TRUE(h.tracker->track(ft::PageView{.url = "https://a.example/x y?z=1&w=ü"}));
  ASSERT_TRUE(h.tracker->track(ft::Structured{.category = "c+d", .action = "a"}));
  auto events = h.events();
  ASSERT_EQ(h.server.count(), 2u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["url"], "https://a.example/x y?z=1&w=ü");
  EXPECT_EQ(events[1]["se_ca"], "c+d") << "a literal + must travel as %2B";
  for (auto& e : events) EXPECT_FALSE(e["stm"].empty());
  for (const auto& r : h.server.requests()) {
    // Only unreserved characters and %XX: valid for java.net.URI on the enrich side.
    for (char c : r.target.substr(3)) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_.~%&=", c))
          << "raw '" << c << "' in " << r.target;
    }
  }
}

TEST(Tracker, InvalidInputIsRefusedAndNothingIsStored) {
  Harness h;
  auto r = h.tracker->track(ft::PageView{});
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("url"), std::string::npos) << r.error;
  EXPECT_TRUE(r.event_id.empty());
  EXPECT_FALSE(h.tracker->track(ft::Structured{.category = "c"}));
  EXPECT_FALSE(h.tracker->track(ft::ScreenView{}));
  EXPECT_FALSE(h.tracker->track(ft::Timing{.category = "c"}));
  EXPECT_FALSE(h.tracker->track(ft::Structured{
      .category = "c", .action = "a", .value = std::numeric_limits<double>::infinity()}));
  auto bad_json = h.tracker->track(
      ft::SelfDescribing{.event = ft::SelfDescribingJson("iglu:a/b/jsonschema/1-0-0", "{\"a\":")});
  EXPECT_FALSE(bad_json);
  EXPECT_NE(bad_json.error.find("not JSON"), std::string::npos) << bad_json.error;
  EXPECT_FALSE(h.tracker->track(
      ft::SelfDescribing{.event = ft::SelfDescribingJson("iglu:a/b/jsonschema/1-0", "{}")}));
  ft::EventCommon bad_context;
  bad_context.contexts.emplace_back("not-iglu", "{}");
  auto r2 = h.tracker->track(ft::PageView{.url = "https://a/", .common = bad_context});
  EXPECT_FALSE(r2);
  EXPECT_NE(r2.error.find("invalid context"), std::string::npos) << r2.error;
  EXPECT_EQ(h.emitter->pending(), 0u);
  EXPECT_EQ(h.events().size(), 0u);
}

TEST(Tracker, WithoutAnEmitterEverythingIsRefused) {
  ft::Tracker t(nullptr, {});
  auto r = t.track(ft::PageView{.url = "https://a/"});
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("no emitter"), std::string::npos) << r.error;
  EXPECT_FALSE(t.flush(10ms));
}

TEST(SelfDescribingJson, IgluUris) {
  EXPECT_TRUE(ft::is_iglu_uri("iglu:com.acme-x/my_event/jsonschema/1-0-12"));
  EXPECT_FALSE(ft::is_iglu_uri("iglu:com.acme/ev/jsonschema/1-0"));
  EXPECT_FALSE(ft::is_iglu_uri("iglu:com.acme/ev/jsonschema/1-0-x"));
  EXPECT_FALSE(ft::is_iglu_uri("iglu:com.acme/e.v/jsonschema/1-0-0"));
  EXPECT_FALSE(ft::is_iglu_uri("iglu:/ev/jsonschema/1-0-0"));
  EXPECT_FALSE(ft::is_iglu_uri("http:com.acme/ev/jsonschema/1-0-0"));
  EXPECT_FALSE(ft::is_iglu_uri("iglu:com.acme/ev/jsonschema/1-0-0/extra"));
  ft::SelfDescribingJson ok("iglu:a/b/c/1-0-0", " [1, {\"x\": null}] ");
  EXPECT_TRUE(ok.valid());
  EXPECT_EQ(ok.to_json(), R"({"schema":"iglu:a/b/c/1-0-0","data":[1,{"x":null}]})");
  EXPECT_FALSE(ft::SelfDescribingJson("iglu:a/b/c/1-0-0", "{} {}").valid()) << "trailing value";
  EXPECT_FALSE(ft::SelfDescribingJson("iglu:a/b/c/1-0-0", std::string(100000, '[')).valid());
}
