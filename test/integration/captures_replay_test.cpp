// Replays every request the official Snowplow trackers sent ($FURROW_SHARED/captures/requests,
// OPTIONS preflights skipped) as the CollectorPayload a stream collector records (spec 2.4), runs
// them through `furrow enrich` with an Iglu resolver over iglu-central and the captures' own
// schemas, and checks: one good event per tracked event, no bad row, and the columns each tracker
// parameter maps to (spec 1.3).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <map>

#include "common/base64.h"
#include "common/url_codec.h"
#include "enrich_helpers.h"
#include "event/collector_payload.h"

namespace furrow::test {
namespace {

using Params = std::map<std::string, std::string>;

struct Expected {
  Params params;             // the event's tracker parameters, decoded
  int64_t collector_ms = 0;  // the request's arrival time
  std::string nuid;          // what the collector resolved
  std::string useragent;     // the User-Agent header
  std::string ip;            // the address the collector recorded
  std::string where;         // file and seq, for messages
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// RFC 6265 cookie-octet, plus '=' between name and value.
bool cookie_part_ok(std::string_view part) {
  if (part.empty()) return false;
  for (unsigned char c : part) {
    const bool octet = c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
                       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c == '=';
    if (!octet) return false;
  }
  return true;
}

// The Cookie header as the collector stores it: ';'-separated parts of cookie-octets, spaces
// removed.
std::string rebuild_cookie(const std::string& value) {
  std::string out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t semi = value.find(';', start);
    if (semi == std::string::npos) semi = value.size();
    std::string part;
    for (char c : value.substr(start, semi - start)) {
      if (c != ' ') part += c;
    }
    if (cookie_part_ok(part)) {
      if (!out.empty()) out += "; ";
      out += part;
    }
    start = semi + 1;
  }
  return out;
}

std::string host_part(const std::string& hostport) {
  if (!hostport.empty() && hostport[0] == '[') return hostport.substr(1, hostport.find(']') - 1);
  const auto colon = hostport.rfind(':');
  return colon == std::string::npos ? hostport : hostport.substr(0, colon);
}

Params parse_query(const std::string& qs) {
  Params p;
  common::for_each_raw_pair(qs, [&](std::string_view k, std::optional<std::string_view> v) {
    if (v) p[common::url_decode(k)] = common::url_decode(*v);
  });
  return p;
}

// One recorded request → the CollectorPayload, and the events it carries.
event::CollectorPayload to_payload(const rapidjson::Value& r, const std::string& where,
                                   std::vector<Expected>& events) {
  event::CollectorPayload p;
  const bool anonymous = r["collector_view"].HasMember("sp_anonymous_header") &&
                         !r["collector_view"]["sp_anonymous_header"].IsNull();
  p.path = r["path"].GetString();
  const std::string query = r["query"].GetString();
  if (!query.empty()) p.querystring = query;
  const std::string body = r["body"].GetString();
  if (!body.empty()) p.body = body;
  p.timestamp = r["time_ms"].GetInt64();
  p.encoding = "UTF-8";
  p.collector = "ssc-3.4.0-stdout";
  p.ip_address = anonymous ? "unknown" : host_part(r["remote"].GetString());
  std::vector<std::string> headers;
  std::optional<std::string> content_type;
  for (const auto& h : r["headers"].GetArray()) {
    const std::string name = h[0].GetString();
    std::string value = h[1].GetString();
    const std::string lname = lower(name);
    if (lname == "content-type") {
      content_type = value;
      continue;
    }
    if (anonymous && (lname == "x-forwarded-for" || lname == "x-real-ip" || lname == "cookie")) {
      continue;
    }
    if (lname == "cookie") value = rebuild_cookie(value);
    if (lname == "user-agent") p.user_agent = value;
    if (lname == "referer") p.referer_uri = value;
    if (lname == "host") p.hostname = host_part(value);
    headers.push_back(name + ": " + value);
  }
  if (content_type) {
    headers.push_back(*content_type);  // bare, last (spec 2.4)
    p.content_type = lower(*content_type);
  }
  p.headers = headers;
  const auto& nuid = r["collector_view"]["network_userid"];
  if (!nuid.IsNull()) p.network_user_id = nuid.GetString();

  Expected base;
  base.collector_ms = *p.timestamp;
  base.nuid = p.network_user_id.value_or("");
  base.useragent = p.user_agent.value_or("");
  base.ip = *p.ip_address;
  const Params query_params = parse_query(query);
  if (std::string(r["method"].GetString()) == "GET") {
    Expected e = base;
    e.params = query_params;
    e.where = where;
    events.push_back(e);
  } else {
    rapidjson::Document d;
    EXPECT_FALSE(d.Parse(body.c_str()).HasParseError()) << where;
    int i = 0;
    for (const auto& ev : d["data"].GetArray()) {
      Expected e = base;
      for (const auto& kv : ev.GetObject()) e.params[kv.name.GetString()] = kv.value.GetString();
      for (const auto& [k, v] : query_params) e.params[k] = v;  // the query string wins
      e.where = where + " event " + std::to_string(i++);
      events.push_back(e);
    }
  }
  return p;
}

// Compares a JSON column with the tracker's JSON: same inner data (the envelope may be
// re-serialised with another contexts version, spec 1.4).
void expect_same_json_data(const std::string& column_value, const std::string& sent,
                           const std::string& what, const std::string& where) {
  rapidjson::Document got, want;
  ASSERT_FALSE(got.Parse(column_value.c_str()).HasParseError()) << where << " " << what;
  ASSERT_FALSE(want.Parse(sent.c_str()).HasParseError()) << where << " " << what;
  EXPECT_TRUE(got["data"] == want["data"])
      << where << " " << what << "\n got " << column_value << "\nsent " << sent;
}

const std::map<std::string, std::string> kEventNames = {
    {"pv", "page_view"}, {"pp", "page_ping"},   {"se", "struct"},
    {"ue", "unstruct"},  {"tr", "transaction"}, {"ti", "transaction_item"}};

// Parameter → column for the plain string and number parameters (spec 1.3).
const std::vector<std::pair<std::string, std::string>> kDirect = {
    {"eid", "event_id"},
    {"aid", "app_id"},
    {"p", "platform"},
    {"tv", "v_tracker"},
    {"tna", "name_tracker"},
    {"duid", "domain_userid"},
    {"sid", "domain_sessionid"},
    {"vid", "domain_sessionidx"},
    {"uid", "user_id"},
    {"url", "page_url"},
    {"page", "page_title"},
    {"refr", "page_referrer"},
    {"lang", "br_lang"},
    {"cs", "doc_charset"},
    {"tz", "os_timezone"},
    {"cd", "br_colordepth"},
    {"cookie", "br_cookies"},
    {"se_ca", "se_category"},
    {"se_ac", "se_action"},
    {"se_la", "se_label"},
    {"se_pr", "se_property"},
    {"se_va", "se_value"},
    {"tr_id", "tr_orderid"},
    {"tr_af", "tr_affiliation"},
    {"tr_tt", "tr_total"},
    {"tr_tx", "tr_tax"},
    {"tr_sh", "tr_shipping"},
    {"tr_ci", "tr_city"},
    {"tr_st", "tr_state"},
    {"tr_co", "tr_country"},
    {"tr_cu", "tr_currency"},
    {"ti_id", "ti_orderid"},
    {"ti_sk", "ti_sku"},
    {"ti_nm", "ti_name"},
    {"ti_ca", "ti_category"},
    {"ti_pr", "ti_price"},
    {"ti_qu", "ti_quantity"},
    {"ti_cu", "ti_currency"},
    {"pp_mix", "pp_xoffset_min"},
    {"pp_max", "pp_xoffset_max"},
    {"pp_miy", "pp_yoffset_min"},
    {"pp_may", "pp_yoffset_max"},
};

void check_event(const Expected& e, const std::vector<std::string>& f, int& checked_columns) {
  ASSERT_EQ(f.size(), event::kFieldCount) << e.where;
  const auto col = [&](const char* name) -> const std::string& { return f[column(name)]; };
  const auto param = [&](const char* name) -> const std::string* {
    auto it = e.params.find(name);
    return it == e.params.end() ? nullptr : &it->second;
  };
  auto expect = [&](const char* column_name, const std::string& want) {
    EXPECT_EQ(col(column_name), want) << e.where << " column " << column_name;
    ++checked_columns;
  };

  ASSERT_TRUE(param("e")) << e.where;
  expect("event", kEventNames.at(*param("e")));
  expect("collector_tstamp", tsv_timestamp(e.collector_ms));
  expect("v_collector", "ssc-3.4.0-stdout");
  for (const auto& [p, c] : kDirect) {
    if (const std::string* v = param(p.c_str())) expect(c.c_str(), *v);
  }
  for (const auto& [p, c] : std::vector<std::pair<const char*, const char*>>{
           {"dtm", "dvce_created_tstamp"}, {"stm", "dvce_sent_tstamp"}, {"ttm", "true_tstamp"}}) {
    if (const std::string* v = param(p)) expect(c, tsv_timestamp(std::stoll(*v)));
  }
  for (const auto& [p, w, h] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"res", "dvce_screenwidth", "dvce_screenheight"},
           {"vp", "br_viewwidth", "br_viewheight"},
           {"ds", "doc_width", "doc_height"}}) {
    if (const std::string* v = param(p)) {
      const auto x = v->find('x');
      expect(w, v->substr(0, x));
      expect(h, v->substr(x + 1));
    }
  }
  // Identity and request context: tracker overrides win over what the collector saw.
  if (const std::string* tnuid = param("tnuid")) {
    expect("network_userid", *tnuid);
  } else if (const std::string* nuid = param("nuid")) {
    expect("network_userid", *nuid);
  } else {
    expect("network_userid", e.nuid);
  }
  expect("user_ipaddress", param("ip") ? *param("ip") : e.ip);
  expect("useragent", param("ua") ? *param("ua") : e.useragent);
  // Self-describing JSON, plain or base64.
  if (const std::string* ue = param("ue_pr")) {
    expect_same_json_data(col("unstruct_event"), *ue, "unstruct_event", e.where);
  } else if (const std::string* uex = param("ue_px")) {
    std::string decoded;
    ASSERT_TRUE(common::base64_decode(*uex, decoded)) << e.where;
    expect_same_json_data(col("unstruct_event"), decoded, "unstruct_event", e.where);
  } else {
    expect("unstruct_event", "");
  }
  if (const std::string* co = param("co")) {
    expect_same_json_data(col("contexts"), *co, "contexts", e.where);
  } else if (const std::string* cx = param("cx")) {
    std::string decoded;
    ASSERT_TRUE(common::base64_decode(*cx, decoded)) << e.where;
    expect_same_json_data(col("contexts"), decoded, "contexts", e.where);
  } else {
    expect("contexts", "");
  }
  // The schema of the event type.
  if (*param("e") == "se") {
    expect("event_vendor", "com.google.analytics");
  } else if (*param("e") != "ue") {
    expect("event_vendor", "com.snowplowanalytics.snowplow");
    expect("event_name", kEventNames.at(*param("e")));
  } else {
    EXPECT_FALSE(col("event_name").empty()) << e.where;
  }
  // The page URL split (spec 4.3).
  if (const std::string* url = param("url")) {
    const auto scheme_end = url->find("://");
    ASSERT_NE(scheme_end, std::string::npos) << e.where;
    expect("page_urlscheme", url->substr(0, scheme_end));
    const auto host_start = scheme_end + 3;
    const auto host_end = url->find_first_of(":/?#", host_start);
    expect("page_urlhost", url->substr(host_start, host_end - host_start));
  }
}

// Without a resolver enrich checks JSON and envelopes only; with one, every entity and event is
// validated against its schema as well.
void replay_all(bool with_resolver) {
  const auto captures = shared_dir() / "captures" / "requests";
  ASSERT_TRUE(std::filesystem::exists(captures)) << captures;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(captures)) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 5u);

  const auto dir = temp_dir("furrow-captures-");
  const auto resolver = dir / "resolver.json";
  std::ofstream(resolver)
      << R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":)"
      << R"({"cacheSize":500,"repositories":[)"
      << R"({"name":"Iglu Central, local copy","priority":0,"vendorPrefixes":[],"connection":)"
      << R"({"embedded":{"path":")" << (shared_dir() / "iglu-central").string() << R"("}}},)"
      << R"({"name":"captures","priority":1,"vendorPrefixes":[],"connection":)"
      << R"({"embedded":{"path":")" << (shared_dir() / "captures").string() << R"("}}}]}})";

  int total_events = 0, total_columns = 0;
  std::map<std::string, int> event_types;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    std::vector<Expected> events;
    std::size_t payloads = 0;
    const auto input = dir / (file.stem().string() + ".b64");
    {
      std::ofstream out(input, std::ios::binary);
      for (const auto& line : read_lines(file)) {
        rapidjson::Document r;
        ASSERT_FALSE(r.Parse(line.c_str()).HasParseError());
        if (std::string(r["method"].GetString()) == "OPTIONS") continue;
        const std::string where =
            file.filename().string() + " seq " + std::to_string(r["seq"].GetInt());
        out << common::base64_encode(event::encode_thrift(to_payload(r, where, events))) << "\n";
        ++payloads;
      }
    }
    const EnrichRun run = run_enrich(
        input, with_resolver ? "--resolver " + shell_quote(resolver.string()) : std::string(), dir);
    ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    EXPECT_TRUE(run.bad.empty()) << run.bad.size() << " bad rows, first: "
                                 << (run.bad.empty() ? "" : run.bad[0].substr(0, 1500));
    ASSERT_EQ(run.good.size(), events.size()) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find(summary_line(payloads, events.size(), 0)), std::string::npos)
        << run.stderr_text;
    for (std::size_t i = 0; i < events.size(); ++i) {
      check_event(events[i], split_tsv(run.good[i]), total_columns);
      ++event_types[events[i].params["e"]];
    }
    total_events += static_cast<int>(events.size());
  }
  // The captures cover every event type, and the checks above really ran.
  for (const char* e : {"pv", "pp", "se", "ue", "tr", "ti"}) EXPECT_GT(event_types[e], 0) << e;
  EXPECT_GT(total_events, 50);
  EXPECT_GT(total_columns, 20 * total_events);
  std::filesystem::remove_all(dir);
}

TEST(CapturesReplay, OfficialTrackersEnrichWithoutBadRows) {
  replay_all(false);
}

// The same replay with every entity validated against its schema (iglu-central plus the captures'
// own registry): the official trackers' events are all valid, so still no bad row.
TEST(CapturesReplay, OfficialTrackersValidateAgainstTheirSchemas) {
  replay_all(true);
}

}  // namespace
}  // namespace furrow::test
