#include "sources/generator.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <set>

#include "common/base64.h"
#include "common/url_codec.h"

namespace furrow::sources {
namespace {

std::vector<GeneratedPayload> generate(GeneratorConfig cfg, int n, uint32_t max_events = 10) {
  Generator g(cfg);
  std::vector<GeneratedPayload> out(static_cast<std::size_t>(n));
  for (auto& p : out) g.next(max_events, p);
  return out;
}

event::CollectorPayload decode_line(const std::string& line) {
  std::string bytes;
  EXPECT_TRUE(common::base64_decode(line, bytes));
  auto r = event::decode_thrift(bytes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : event::CollectorPayload{};
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  GeneratorConfig cfg;
  cfg.seed = 42;
  cfg.malformed_share = 0.1;
  auto a = generate(cfg, 3000);
  auto b = generate(cfg, 3000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].line, b[i].line) << i;
    ASSERT_EQ(a[i].events, b[i].events);
  }
  cfg.seed = 43;
  auto c = generate(cfg, 100);
  int same = 0;
  for (std::size_t i = 0; i < c.size(); ++i) same += c[i].line == a[i].line;
  EXPECT_EQ(same, 0);
}

// payload_data 1-0-4's complete key set (spec 1.3): POSTed events may use nothing else.
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

TEST(Generator, WellFormedPayloadsFollowTheProtocol) {
  GeneratorConfig cfg;
  cfg.seed = 7;
  auto payloads = generate(cfg, 4000);
  std::map<std::string, int> event_types;
  int get = 0, post = 0, ipv6 = 0, search = 0, utm = 0, cx = 0, ue_px = 0;
  for (const auto& gp : payloads) {
    ASSERT_EQ(gp.malformed, MalformedKind::kNone);
    const auto p = decode_line(gp.line);
    EXPECT_EQ(p.schema, event::kCollectorPayloadSchema);
    ASSERT_TRUE(p.path && p.timestamp && p.network_user_id && p.headers && p.user_agent);
    EXPECT_EQ(p.network_user_id->size(), 36u);
    for (const auto& h : *p.headers) {
      if (h.find("X-Forwarded-For: ") == 0 && h.find(':', 17) != std::string::npos) ++ipv6;
    }
    if (p.ip_address->find(':') != std::string::npos) ++ipv6;
    std::vector<std::map<std::string, std::string>> events;
    if (gp.post) {
      ++post;
      EXPECT_EQ(*p.path, "/com.snowplowanalytics.snowplow/tp2");
      EXPECT_EQ(*p.content_type, "application/json; charset=utf-8");
      EXPECT_EQ(p.headers->back(), "application/json; charset=UTF-8");  // bare, last (spec 2.4)
      rapidjson::Document d;
      ASSERT_FALSE(d.Parse(p.body->c_str()).HasParseError()) << *p.body;
      EXPECT_STREQ(d["schema"].GetString(),
                   "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4");
      ASSERT_EQ(d["data"].Size(), gp.events);
      for (const auto& ev : d["data"].GetArray()) {
        std::map<std::string, std::string> m;
        for (const auto& kv : ev.GetObject()) {
          EXPECT_TRUE(kPayloadDataKeys.count(kv.name.GetString())) << kv.name.GetString();
          ASSERT_TRUE(kv.value.IsString()) << kv.name.GetString();
          m[kv.name.GetString()] = kv.value.GetString();
        }
        events.push_back(m);
      }
    } else {
      ++get;
      EXPECT_EQ(gp.events, 1u);
      ASSERT_TRUE(p.querystring);
      std::string why;
      EXPECT_TRUE(common::is_valid_uri_query(*p.querystring, &why)) << why;
      std::map<std::string, std::string> m;
      common::for_each_raw_pair(*p.querystring, [&](std::string_view k, auto v) {
        m[std::string(k)] = v ? common::url_decode(*v) : "";
      });
      events.push_back(m);
    }
    for (auto& m : events) {
      for (const char* k : {"e", "p", "tv", "eid", "dtm", "stm", "duid", "url"}) {
        EXPECT_TRUE(m.count(k)) << k;
      }
      ++event_types[m["e"]];
      if (m.count("refr") && m["refr"].find("q=") != std::string::npos) ++search;
      if (m["url"].find("utm_campaign=") != std::string::npos) ++utm;
      cx += m.count("cx");
      ue_px += m.count("ue_px");
      if (m["e"] == "ue") {
        EXPECT_TRUE(m.count("ue_pr") || m.count("ue_px"));
      }
      if (m["e"] == "tr") {
        EXPECT_TRUE(m.count("tr_id") && m.count("tr_tt"));
      }
      if (m["e"] == "ti") {
        EXPECT_TRUE(m.count("ti_sk") && m.count("ti_qu"));
      }
      if (m["e"] == "pp") {
        EXPECT_TRUE(m.count("pp_mix") && m.count("pp_may"));
      }
      if (m["e"] == "se") {
        EXPECT_TRUE(m.count("se_ca") && m.count("se_ac"));
      }
    }
  }
  for (const char* e : {"pv", "pp", "se", "ue", "tr", "ti"}) EXPECT_GT(event_types[e], 50) << e;
  EXPECT_GT(get, 1000);
  EXPECT_GT(post, 1000);
  EXPECT_GT(ipv6, 100);
  EXPECT_GT(search, 500);
  EXPECT_GT(utm, 200);
  EXPECT_GT(cx, 100);
  EXPECT_GT(ue_px, 50);
}

TEST(Generator, MalformedShareAndKinds) {
  GeneratorConfig cfg;
  cfg.seed = 9;
  cfg.malformed_share = 0.2;
  auto payloads = generate(cfg, 5000);
  std::map<MalformedKind, int> kinds;
  for (const auto& p : payloads) {
    if (p.malformed != MalformedKind::kNone) {
      ++kinds[p.malformed];
      EXPECT_EQ(p.events, 1u);
    }
  }
  int total = 0;
  for (auto& [k, n] : kinds) total += n;
  EXPECT_GT(total, 900);
  EXPECT_LT(total, 1100);
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(MalformedKind::kCount) - 1);
  for (auto& [k, n] : kinds) EXPECT_NE(malformed_kind_name(k), "unknown");

  cfg.malformed_share = 0;
  for (const auto& p : generate(cfg, 2000)) EXPECT_EQ(p.malformed, MalformedKind::kNone);
  cfg.malformed_share = 1;
  for (const auto& p : generate(cfg, 200)) EXPECT_NE(p.malformed, MalformedKind::kNone);
}

TEST(Generator, RespectsTheEventBudget) {
  GeneratorConfig cfg;
  Generator g(cfg);
  GeneratedPayload p;
  for (int i = 0; i < 500; ++i) {
    g.next(2, p);
    EXPECT_GE(p.events, 1u);
    EXPECT_LE(p.events, 2u);
  }
}

}  // namespace
}  // namespace furrow::sources
