#include "enrich/direct_tsv.h"

#include <furrow/version.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "common/time_format.h"
#include "enrich/enrichment.h"
#include "enrich/param_map.h"
#include "enrich/pipeline.h"
#include "event/bad_row.h"
#include "event/enriched_event.h"
#include "protocol/param_keys.h"

namespace furrow::enrich {
namespace {

constexpr int64_t kNow = 1700000000000;
constexpr int64_t kCollectorMs = 1381188930000;
constexpr const char* kCollector = "ssc-3.4.0-stdout";
constexpr const char* kNuid = "c5f3a09f-75f8-4309-bec5-fea560f78455";
constexpr const char* kUserAgent = "Mozilla/5.0 (X11)\tTest";

PipelineConfig config(bool direct) {
  PipelineConfig c;
  c.fixed_now_ms = kNow;
  c.direct_tsv = direct;
  return c;
}

// One tracked event: parameters in their order (names may repeat in POST bodies).
using Params = std::vector<std::pair<std::string, std::string>>;

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

event::CollectorPayload base_payload(const std::optional<std::string>& referer) {
  event::CollectorPayload cp;
  cp.ip_address = "10.0.0.9";
  cp.timestamp = kCollectorMs;
  cp.encoding = "UTF-8";
  cp.collector = kCollector;
  cp.user_agent = kUserAgent;
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  cp.headers = std::vector<std::string>{"Host: c.example"};
  cp.hostname = "c.example";
  cp.network_user_id = kNuid;
  cp.referer_uri = referer;
  return cp;
}

event::CollectorPayload get_payload(const Params& params, const std::optional<std::string>& ref) {
  event::CollectorPayload cp = base_payload(ref);
  std::string qs;
  for (const auto& [name, value] : params) {
    if (!qs.empty()) qs += '&';
    qs += name + "=" + url_encode(value);
  }
  cp.querystring = qs;
  return cp;
}

event::CollectorPayload post_payload(const std::vector<Params>& events,
                                     const std::optional<std::string>& ref) {
  event::CollectorPayload cp = base_payload(ref);
  cp.content_type = "application/json";
  std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[)";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) body += ',';
    body += '{';
    for (std::size_t k = 0; k < events[i].size(); ++k) {
      if (k) body += ',';
      event::append_json_string(events[i][k].first, body);
      body += ':';
      event::append_json_string(events[i][k].second, body);
    }
    body += '}';
  }
  body += "]}";
  cp.body = body;
  return cp;
}

const std::string kContexts =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
    R"({"schema":"iglu:com.acme/c/jsonschema/1-0-0","data":{"a":1.5,"b":"x\ty","c":[1,{"d":null}]}},)"
    R"({"schema":"iglu:com.acme.more/long_context_name_here/jsonschema/2-1-3","data":{}}]})";
const std::string kUnstruct =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
    R"("data":{"schema":"iglu:com.acme/link_click/jsonschema/1-0-1","data":{"k":"v \u00e9"}}})";

// Random events covering every mapped parameter with valid values, values that need tsv
// cleaning, values over their column's limit, and values the conversions or parsers refuse.
class EventMaker {
 public:
  explicit EventMaker(uint32_t seed) : rng_(seed) {}

  // `faults`: whether invalid values may be drawn (else every value converts and the event is a
  // good one, unless a value is over its length limit, which `faults` also guards).
  Params make(bool faults, bool with_eid) {
    faults_ = faults;
    Params p;
    // (ad_impression has no built-in event schema: a failure, as in Snowplow.)
    p.emplace_back("e", pick({"pv", "pp", "se", "ue", "tr", "ti", "ev"}, {"ad", "zz", "", "PV"}));
    if (with_eid) {
      p.emplace_back("eid", pick({"6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e01",
                                  "6A0A1F0E-8B8E-4E0F-9B9A-0F6C2F0B8E02"},
                                 {"not-a-uuid", "6a0a1f0e8b8e4e0f9b9a0f6c2f0b8e01"}));
    }
    p.emplace_back("p", pick({"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset"},
                             {"xx", "WEB"}));
    p.emplace_back("tv", text("tv"));
    for (const char* name :
         {"aid",   "tna",   "uid",   "duid",  "nuid",  "tnuid", "ua",    "fp",    "page",  "cd",
          "cs",    "lang",  "tz",    "se_ca", "se_ac", "se_la", "se_pr", "tr_id", "tr_af", "tr_ci",
          "tr_st", "tr_co", "tr_cu", "ti_id", "ti_sk", "ti_nm", "ti_ca", "ti_cu"}) {
      if (chance(3)) p.emplace_back(name, text(name));
    }
    for (const char* name : {"tid", "vid", "ti_qu", "pp_mix", "pp_max", "pp_miy", "pp_may"}) {
      if (chance(3))
        p.emplace_back(name, pick({"0", "12", "-5", "2147483647", "007", "+3"},
                                  {"x", "99999999999", "-", ""}));
    }
    for (const char* name : {"se_va", "tr_tt", "tr_tx", "tr_sh", "ti_pr"}) {
      if (chance(4)) p.emplace_back(name, pick({"12.5", "1e3", "-0.00", "7", "0.1E-2"}, {"abc"}));
    }
    for (const char* name : {"cookie", "f_pdf", "f_fla", "f_java", "f_dir", "f_qt", "f_realp",
                             "f_wma", "f_gears", "f_ag"}) {
      if (chance(3)) p.emplace_back(name, pick({"0", "1"}, {"2", "true"}));
    }
    for (const char* name : {"res", "vp", "ds"}) {
      if (chance(2))
        p.emplace_back(
            name, pick({"1024x768", "01x2", "0x0", "1x2147483647"}, {"x", "99999999999x1", "12"}));
    }
    for (const char* name : {"dtm", "stm", "ttm"}) {
      if (chance(2))
        p.emplace_back(name, pick({"1381188929000", "1381188931500", "0", "+1381188929000"},
                                  {"soon", "99999999999999999", "253402300800000"}));
    }
    if (chance(3)) p.emplace_back("ip", pick({"1.2.3.4", "1.2.3.4, 5.6.7.8", " 9.9.9.9|x"}, {}));
    if (chance(2)) {
      p.emplace_back("url",
                     pick({"https://shop.example:8080/a/b?_sp=d1.1700000000000&x=1#frag",
                           "http://a.example/p?q=1&_sp=abc", "https://x.example/a b?_sp=u.1.w",
                           "https://x.example/?_sp=%09tab.1381188929000", "HTTPS://X.example",
                           "http://x.example:443/p?_sp=&y"},
                          {"http://[bad", "https://x.example/?_sp=d.notanumber",
                           "https://x.example/?_sp=u.v.w"}));
    }
    if (chance(3)) {
      p.emplace_back("refr", pick({"http://www.google.com/search?q=a+b", "https://ref.example",
                                   "android-app://com.example.app/x"},
                                  {"http://[bad"}));
    }
    if (chance(2)) {
      const std::size_t k = rng_() % 4;
      const std::string bad = "{\"schema\":\"iglu:x\",\"data\":[]}";
      if (k == 0) p.emplace_back("co", faults_ && chance(4) ? bad : kContexts);
      if (k == 1) p.emplace_back("cx", common::base64url_encode(kContexts));
      if (k == 2 && faults_) p.emplace_back("cx", "!!!");
    }
    if (chance(3)) {
      const std::size_t k = rng_() % 3;
      if (k == 0) p.emplace_back("ue_pr", kUnstruct);
      if (k == 1) p.emplace_back("ue_px", common::base64url_encode(kUnstruct));
      if (k == 2 && faults_) p.emplace_back("ue_pr", "{not json");
    }
    if (p[0].second == "ue" && !faults_) {
      bool any = false;
      for (const auto& [name, value] : p) any = any || name == "ue_pr" || name == "ue_px";
      if (!any) p.emplace_back("ue_pr", kUnstruct);  // (an unstruct event needs its event)
    }
    std::shuffle(p.begin() + 1, p.end(), rng_);
    return p;
  }

 private:
  bool chance(unsigned one_in) { return rng_() % one_in == 0; }
  std::string pick(std::initializer_list<const char*> good,
                   std::initializer_list<const char*> bad) {
    if (faults_ && bad.size() != 0 && chance(8)) return *(bad.begin() + rng_() % bad.size());
    return *(good.begin() + rng_() % good.size());
  }
  // Text of 0-40 bytes (letters, punctuation, UTF-8); with faults also tabs, controls and DEL,
  // and sometimes 200-600 bytes (over the 255-byte limit of most string columns).
  std::string text(const char* param) {
    const int id = protocol::param_key_id(param);
    EXPECT_GE(id, 0) << param;
    const event::Field column = param_table().mapping[static_cast<std::size_t>(id)].field;
    const std::size_t limit = event::field_info(column).max_length;
    static const std::vector<std::string> kPieces = {
        "a", "Z", "0", " ", "-", "/", "\"", "\\", "\xc3\xa9", "\xe2\x82\xac", "x.y", "%"};
    static const std::vector<std::string> kDirty = {"\t", "\n", "\r", "\x01", "\x7f"};
    std::size_t n = rng_() % 41;
    if (faults_ && chance(10)) n = 200 + rng_() % 400;
    // Without faults: within the column's limit in bytes (so also in UTF-16 units).
    if (!faults_ && limit != 0) n = std::min<std::size_t>(n, limit);
    std::string s;
    for (int tries = 0; s.size() < n && tries < 100; ++tries) {
      const std::string& piece =
          faults_ && chance(12) ? kDirty[rng_() % kDirty.size()] : kPieces[rng_() % kPieces.size()];
      if (faults_ || s.size() + piece.size() <= n) s += piece;
    }
    return s;
  }

  std::mt19937 rng_;
  bool faults_ = false;
};

// Field 7 (event_id) blanked: events without `eid` get a random one.
std::string without_event_id(std::string line) {
  std::size_t start = 0;
  for (int tabs = 0; tabs < 6; ++tabs) start = line.find('\t', start) + 1;
  const std::size_t end = line.find('\t', start);
  EXPECT_EQ(end - start, 36u) << line;
  line.erase(start, end - start);
  return line;
}

// The writer itself against the EnrichedEvent path (direct_tsv = false), event by event: where the
// general path writes a good line the writer must write the same line or decline; where it writes
// a bad row the writer must decline; events made without faults must not be declined (so a writer
// that declines everything fails here).
// Runs `pipeline` on `cp` with its good lines streamed into a text that already holds a line, and
// expects that text to be the earlier line followed by `want`'s good lines, and `want`'s bad rows.
void expect_streamed_output(const Pipeline& pipeline, const event::CollectorPayload& cp,
                            const Output& want) {
  std::string text = "earlier\n";
  Output streamed;
  streamed.good_text = &text;
  pipeline.process_payload(cp, "thrift", streamed);
  std::string lines = "earlier\n";
  for (const auto& line : want.good) lines += line + "\n";
  EXPECT_EQ(text, lines);
  EXPECT_EQ(streamed.good_appended, want.good.size());
  EXPECT_EQ(streamed.bad, want.bad);
}

TEST(DirectTsv, WritesTheGeneralPathsLineOrDeclines) {
  const Pipeline general(config(false));
  ValidationSettings vs;
  std::string etl;
  append_tsv_tstamp(kNow, etl);
  const std::string v_etl = std::string("furrow-enrich-") + kVersion;
  DirectRun run;
  run.collector_name = kCollector;
  run.v_etl = v_etl;
  run.etl_tstamp = etl;
  run.vs = &vs;
  EventMaker maker(12345);
  std::mt19937 rng(7);
  int written = 0, declined_good = 0, bad = 0;
  for (int round = 0; round < 3000; ++round) {
    const bool faults = round % 2 == 1;
    const bool with_eid = round % 7 != 3;
    const Params params = maker.make(faults, with_eid);
    std::optional<std::string> ref;
    if (rng() % 3 == 0) ref = "https://from.example/where?_sp=r1.1381188929000";
    // GET: one event; repeated names are not in `params` (make never repeats one).
    Output want;
    general.process_payload(get_payload(params, ref), "thrift", want);
    ASSERT_EQ(want.good.size() + want.bad.size(), 1u);

    event::RawEvent raw;
    raw.timestamp = kCollectorMs;
    raw.ip_address = "10.0.0.9";
    raw.useragent = kUserAgent;
    raw.referer_uri = ref;
    raw.user_id = kNuid;
    std::vector<protocol::ParamView> views;
    for (const auto& [name, value] : params)
      views.push_back({name, value, protocol::param_key_id(name)});
    std::string got = "before\n";
    const bool ok = write_direct_tsv(run, raw, views, got, round % 3 == 0);
    if (!ok) {
      EXPECT_EQ(got, "before\n");
      if (want.good.empty()) {
        // Events made without faults are good ones.
        EXPECT_TRUE(faults) << want.bad[0];
        ++bad;
      } else {
        ++declined_good;
        // Declining a good event is only allowed for what the writer leaves to the general path
        // on purpose; events without faults have none of it.
        EXPECT_TRUE(faults) << want.good[0];
      }
      continue;
    }
    ++written;
    ASSERT_EQ(want.good.size(), 1u) << want.bad[0];
    std::string line = got.substr(7);
    if (round % 3 == 0) {
      ASSERT_FALSE(line.empty());
      EXPECT_EQ(line.back(), '\n');
      line.pop_back();
    }
    if (with_eid) {
      EXPECT_EQ(line, want.good[0]);
    } else {
      EXPECT_EQ(without_event_id(line), without_event_id(want.good[0]));
    }
  }
  // Both outcomes and the over-limit declines really happen.
  EXPECT_GT(written, 1000) << declined_good << " good events declined, " << bad << " bad";
  EXPECT_GT(bad, 100);
  EXPECT_GT(declined_good, 0);
}

// Whole payloads (POST bodies of 1-5 events with repeated names, GET requests) through the
// pipeline with the writer on and off, in both output modes: same lines, same bad rows.
TEST(DirectTsv, PipelineOutputIsTheSameWithAndWithoutTheWriter) {
  const Pipeline direct(config(true));
  const Pipeline general(config(false));
  PipelineConfig limits_off = config(true);
  limits_off.accept_invalid = true;
  const Pipeline direct_no_limits(limits_off);
  limits_off.direct_tsv = false;
  const Pipeline general_no_limits(limits_off);
  EventMaker maker(99);
  std::mt19937 rng(3);
  for (int round = 0; round < 600; ++round) {
    const bool faults = round % 3 == 0;
    std::vector<Params> events(1 + rng() % 5);
    for (auto& e : events) {
      e = maker.make(faults && rng() % 2 == 0, true);
      // A valid eid: a bad row carries the event's id, which is random without one.
      for (auto& [name, value] : e) {
        if (name == "eid")
          value = "6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e0" + std::to_string(rng() % 10);
      }
      if (rng() % 10 == 0) e.push_back(e[1 + rng() % (e.size() - 1)]);  // a repeated name
    }
    std::optional<std::string> ref;
    if (rng() % 2 == 0) ref = "https://from.example/x";
    const event::CollectorPayload cp =
        rng() % 4 == 0 ? get_payload(events[0], ref) : post_payload(events, ref);
    for (const auto* pair : {&direct, &direct_no_limits}) {
      const Pipeline& a = *pair;
      const Pipeline& b = pair == &direct ? general : general_no_limits;
      Output x, y;
      a.process_payload(cp, "thrift", x);
      b.process_payload(cp, "thrift", y);
      EXPECT_EQ(x.good, y.good);
      EXPECT_EQ(x.bad, y.bad);
      expect_streamed_output(a, cp, y);
    }
  }
}

// Values of 255 two-byte characters: 510 bytes, within app_id's limit of 255 UTF-16 units; the
// writer declines (byte limit) and the general path writes the line. One more is too long.
TEST(DirectTsv, ValuesOverTheByteLimitAreLeftToTheUtf16Rule) {
  const Pipeline direct(config(true));
  std::string v;
  for (int i = 0; i < 255; ++i) v += "\xc3\xa9";
  Output out;
  direct.process_payload(get_payload({{"e", "pv"}, {"p", "web"}, {"tv", "t"}, {"aid", v}}, {}),
                         "thrift", out);
  ASSERT_EQ(out.good.size(), 1u);
  EXPECT_NE(out.good[0].find(v), std::string::npos);
  Output over;
  direct.process_payload(
      get_payload({{"e", "pv"}, {"p", "web"}, {"tv", "t"}, {"aid", v + "a"}}, {}), "thrift", over);
  EXPECT_EQ(over.good.size(), 0u);
  ASSERT_EQ(over.bad.size(), 1u);
  EXPECT_NE(over.bad[0].find("atomic_field_length_exceeded"), std::string::npos);
}

// Lines longer than max_record_bytes become size_violation rows, as on the general path.
TEST(DirectTsv, OverlongLinesAreLeftToTheGeneralPath) {
  PipelineConfig c = config(true);
  c.max_record_bytes = 400;
  const Pipeline direct(c);
  c.direct_tsv = false;
  const Pipeline general(c);
  const auto cp =
      get_payload({{"e", "pv"}, {"p", "web"}, {"tv", "t"}, {"page", std::string(300, 'x')}}, {});
  Output x, y;
  direct.process_payload(cp, "thrift", x);
  general.process_payload(cp, "thrift", y);
  EXPECT_TRUE(x.good.empty());
  ASSERT_EQ(x.bad.size(), 1u);
  EXPECT_EQ(x.bad, y.bad);
  EXPECT_NE(x.bad[0].find("size_violation"), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich

namespace furrow::enrich {
namespace {

// A line longer than the writer's first buffer (16 KiB): a 60 KB context and long values, written
// the same as on the general path, also after the buffer has grown.
TEST(DirectTsv, LongLinesGrowTheBuffer) {
  const Pipeline direct(config(true));
  const Pipeline general(config(false));
  std::string big =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)";
  for (int i = 0; i < 600; ++i) {
    if (i) big += ',';
    big += R"({"schema":"iglu:com.acme/c/jsonschema/1-0-0","data":{"k":")" +
           std::string(60, 'a' + i % 26) + R"("}})";
  }
  big += "]}";
  for (int round = 0; round < 3; ++round) {
    const Params event = {{"e", "pv"},
                          {"p", "web"},
                          {"tv", "t"},
                          {"eid", "6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e01"},
                          {"page", std::string(200 + round, 'p')},
                          {"co", big}};
    const auto cp = post_payload({event, event}, std::nullopt);
    Output x, y;
    direct.process_payload(cp, "thrift", x);
    general.process_payload(cp, "thrift", y);
    ASSERT_EQ(x.good.size(), 2u);
    EXPECT_GT(x.good[0].size(), 60'000u);
    EXPECT_EQ(x.good, y.good);
    EXPECT_TRUE(x.bad.empty());
  }
}

// Configurable enrichments for the tests below (none reads a file).
//
// Reads what the configurable ones read (page query, parameters, headers, columns) and writes
// nothing: a chain of these must leave every line as the pipeline writes it with no enrichment.
class ReadingEnrichment : public Enrichment {
 public:
  explicit ReadingEnrichment(Step step) : step_(step) {}
  std::string_view name() const override { return "reading"; }
  Step step() const override { return step_; }
  void apply(EventContext& ctx) const override {
    std::size_t n = ctx.event().text(event::Field::page_urlquery).size() + ctx.headers().size();
    for (const auto& [k, v] : ctx.page_query()) n += k.size() + v.size();
    ctx.for_each_parameter(
        [&n](std::string_view k, std::string_view v) { n += k.size() + v.size(); });
    seen_ += n;  // (kept, so that nothing above is optimised away)
  }

 private:
  Step step_;
  static thread_local std::size_t seen_;
};
thread_local std::size_t ReadingEnrichment::seen_ = 0;

// Adds 0-2 derived contexts describing the event's page query, sets mkt_term to the number of
// query pairs, and (`fails`) fails events whose event column has an odd length.
class ContextEnrichment : public Enrichment {
 public:
  ContextEnrichment(Step step, int salt, bool fails) : step_(step), salt_(salt), fails_(fails) {}
  std::string_view name() const override { return "context"; }
  Step step() const override { return step_; }
  void apply(EventContext& ctx) const override {
    const auto& q = ctx.page_query();
    const std::size_t count = (ctx.event().text(event::Field::page_urlpath).size() +
                               static_cast<std::size_t>(salt_) + q.size()) %
                              3;
    for (std::size_t i = 0; i < count; ++i) {
      std::string c = R"({"schema":"iglu:com.acme/q/jsonschema/1-0-0","data":{"step":)" +
                      std::to_string(static_cast<int>(step_)) + ",\"i\":" + std::to_string(i) +
                      ",\"pairs\":" + std::to_string(q.size()) + ",\"last\":";
      event::append_json_string(q.empty() ? std::string() : q.back().first, c);
      c += "}}";
      ctx.add_derived_context(std::move(c));
    }
    if (!q.empty()) ctx.event()[event::Field::mkt_term] = std::to_string(q.size());
    if (fails_ && ctx.event().text(event::Field::event).size() % 2 == 1)
      ctx.add_failure("iglu:com.acme/context/jsonschema/1-0-0", "context", R"({"error":"odd"})");
  }

 private:
  Step step_;
  int salt_;
  bool fails_;
};

// Page URLs for the cross-domain step (11), which reads the page query's last `_sp`: repeated,
// valueless, empty, encoded.
const char* const kSpUrls[] = {
    "https://a.example/p?_sp=first.1381188929000&x=1&_sp=last.1381188929999",
    "https://a.example/p?_sp=d.1381188929000&_sp",
    "https://a.example/p?_sp=d.1381188929000&_sp=",
    "https://a.example/p?_sp",
    "https://a.example/p?a=%41&_sp=x%2Ey.1381188929000&b",
    "https://a.example/p?_sp=only-duid&utm_source=s",
    "https://a.example/p?_sp=a.bad"};

// Payloads of random events (EventMaker, with valid eids so that lines and bad rows are
// reproducible), some with the URLs above.
std::vector<event::CollectorPayload> random_payloads(uint32_t seed, int count) {
  EventMaker maker(seed);
  std::mt19937 rng(seed);
  std::vector<event::CollectorPayload> out;
  for (int round = 0; round < count; ++round) {
    const bool faults = round % 3 == 0;
    std::vector<Params> events(1 + rng() % 4);
    for (auto& e : events) {
      e = maker.make(faults && rng() % 2 == 0, true);
      for (auto& [name, value] : e) {
        if (name == "eid")
          value = "6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e0" + std::to_string(rng() % 10);
      }
      if (rng() % 3 == 0) {
        const std::string url = kSpUrls[rng() % std::size(kSpUrls)];
        bool replaced = false;
        for (auto& [name, value] : e) {
          if (name == "url") value = url, replaced = true;
        }
        if (!replaced) e.emplace_back("url", url);
      }
    }
    std::optional<std::string> ref;
    if (rng() % 2 == 0) ref = kSpUrls[rng() % std::size(kSpUrls)];
    out.push_back(rng() % 4 == 0 ? get_payload(events[0], ref) : post_payload(events, ref));
  }
  return out;
}

// The pipeline with a chain of enrichments that write nothing against the pipeline with none (the
// direct TSV writer, and the EnrichedEvent path where it declines): the same good lines and the
// same bad rows, in both output modes, for random events (every parameter kind, faults, page
// queries with repeated and valueless `_sp`).
TEST(DirectTsv, EnrichmentsThatWriteNothingLeaveTheSameOutput) {
  const Pipeline plain(config(true));
  PipelineConfig c = config(true);
  for (Step step : {Step::kIabSpidersAndRobots, Step::kRefererParser, Step::kCampaignAttribution,
                    Step::kCrossNavigation, Step::kIpLookups, Step::kPiiPseudonymization})
    c.enrichments.push_back(std::make_shared<ReadingEnrichment>(step));
  const Pipeline chained(c);
  std::size_t good = 0, bad = 0, sp = 0;
  for (const auto& cp : random_payloads(31, 800)) {
    Output want, got;
    plain.process_payload(cp, "thrift", want);
    chained.process_payload(cp, "thrift", got);
    EXPECT_EQ(got.good, want.good);
    EXPECT_EQ(got.bad, want.bad);
    expect_streamed_output(chained, cp, want);
    good += want.good.size();
    bad += want.bad.size();
    for (const auto& line : want.good) sp += line.find("\tlast\t") != std::string::npos;
  }
  // Both outcomes happen, and the last of two `_sp` values is used.
  EXPECT_GT(good, 800u);
  EXPECT_GT(bad, 50u);
  EXPECT_GT(sp, 20u);
}

// A chain that adds derived contexts (several groups, newest first), writes a column and fails
// some events: processing a stream of payloads on one thread (per-thread working memory reused
// from event to event) gives for each payload exactly what processing it first on a fresh thread
// gives.
TEST(DirectTsv, EnrichmentChainOutputDoesNotDependOnEarlierEvents) {
  PipelineConfig c = config(true);
  c.enrichments.push_back(std::make_shared<ContextEnrichment>(Step::kUaParser, 0, false));
  c.enrichments.push_back(std::make_shared<ContextEnrichment>(Step::kCampaignAttribution, 1, true));
  c.enrichments.push_back(std::make_shared<ReadingEnrichment>(Step::kEventFingerprint));
  c.enrichments.push_back(std::make_shared<ContextEnrichment>(Step::kIpLookups, 2, false));
  const Pipeline chained(c);
  const auto payloads = random_payloads(77, 300);
  std::vector<Output> fresh(payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    std::thread([&] { chained.process_payload(payloads[i], "thrift", fresh[i]); }).join();
  }
  std::size_t contexts = 0, failures = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      Output got;
      chained.process_payload(payloads[i], "thrift", got);
      EXPECT_EQ(got.good, fresh[i].good) << i;
      EXPECT_EQ(got.bad, fresh[i].bad) << i;
      if (pass == 0) {
        for (const auto& line : got.good) contexts += line.find("com.acme/q/") != std::string::npos;
        for (const auto& row : got.bad) failures += row.find("\"odd\"") != std::string::npos;
      }
    }
  }
  EXPECT_GT(contexts, 200u);
  EXPECT_GT(failures, 50u);
}

// The length limits with a chain of enrichments, where the line's writer makes the byte test and
// an event with a longer value goes through the UTF-16 rule: 255 two-byte characters in app_id
// (510 bytes, 255 units) are a good line, 256 a length violation (with a derived-context
// violation too: both messages), in both output modes; a long ASCII value is a violation too.
TEST(DirectTsv, EnrichmentChainLengthLimitsCountUtf16Units) {
  PipelineConfig c = config(true);
  c.enrichments.push_back(std::make_shared<ReadingEnrichment>(Step::kCampaignAttribution));
  const Pipeline chained(c);
  std::string v;
  for (int i = 0; i < 255; ++i) v += "\xc3\xa9";
  const Params base = {
      {"e", "pv"}, {"p", "web"}, {"tv", "t"}, {"eid", "6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e01"}};
  auto with = [&](std::string_view aid) {
    Params p = base;
    p.emplace_back("aid", std::string(aid));
    return get_payload(p, {});
  };
  for (bool streamed : {false, true}) {
    auto run = [&](const event::CollectorPayload& cp) {
      Output out;
      std::string text;
      if (streamed) out.good_text = &text;
      chained.process_payload(cp, "thrift", out);
      for (std::size_t i = 0; i < out.good_appended; ++i) {
        const std::size_t nl = text.find('\n');
        out.good.push_back(text.substr(0, nl));
        text.erase(0, nl + 1);
      }
      EXPECT_TRUE(text.empty());
      return out;
    };
    const Output fits = run(with(v));
    ASSERT_EQ(fits.good.size(), 1u) << streamed;
    EXPECT_TRUE(fits.bad.empty());
    EXPECT_EQ(fits.good[0].substr(0, v.size() + 1), v + "\t");
    for (const std::string& aid : {v + "\xc3\xa9", std::string(256, 'a')}) {
      const Output over = run(with(aid));
      EXPECT_TRUE(over.good.empty()) << streamed;
      ASSERT_EQ(over.bad.size(), 1u);
      EXPECT_NE(over.bad[0].find("Field is longer than maximum allowed size 255"),
                std::string::npos)
          << over.bad[0];
    }
  }
}

}  // namespace
}  // namespace furrow::enrich
