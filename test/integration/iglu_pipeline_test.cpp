// Iglu through the enrichment pipeline (acceptance 3 and 4 of issue 5): every self-describing
// event and entity the official trackers sent in $FURROW_SHARED/captures, valid as recorded and
// made invalid, gives a good event or exactly one schema_violations bad row carrying the Iglu
// ValidationError; and an unreachable HTTP registry turns no good event into a bad row.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "enrich/pipeline.h"
#include "iglu/json_schema.h"
#include "iglu/registry.h"
#include "iglu/resolver.h"
#include "iglu/testing/file_server.h"
#include "support/test_support.h"

namespace furrow {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1700000000000;
constexpr const char* kSchemaViolations =
    "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1";

std::string pct(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string b64url_decode(std::string s) {
  for (auto& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : s) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (d < 0) break;
    val = (val << 6) + d;
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string url_param(const std::string& query, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.substr(0, eq) == name) {
      std::string v = kv.substr(eq + 1), out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      }
      return out;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

struct Sdj {
  std::string schema;
  std::string data;  // compact JSON
  bool is_event;     // came in ue_pr / ue_px
};

// Every self-describing event and entity in the captures, deduplicated.
std::vector<Sdj> captured_sdjs() {
  std::map<std::string, Sdj> unique;
  auto add_envelope = [&](const std::string& text, bool is_event) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("data")) return;
    auto take = [&](const rapidjson::Value& sdj) {
      if (!sdj.IsObject() || !sdj.HasMember("schema") || !sdj.HasMember("data")) return;
      Sdj s{sdj["schema"].GetString(), iglu::to_json(sdj["data"]), is_event};
      unique.emplace(s.schema + (is_event ? "#e#" : "#c#") + s.data, s);
    };
    if (is_event) {
      take(d["data"]);
    } else if (d["data"].IsArray()) {
      for (const auto& e : d["data"].GetArray()) take(e);
    }
  };
  auto add_params = [&](auto get) {
    if (auto v = get("ue_pr"); !v.empty()) add_envelope(v, true);
    if (auto v = get("ue_px"); !v.empty()) add_envelope(b64url_decode(v), true);
    if (auto v = get("co"); !v.empty()) add_envelope(v, false);
    if (auto v = get("cx"); !v.empty()) add_envelope(b64url_decode(v), false);
  };
  for (const auto& f : fs::directory_iterator(test::shared_dir() / "captures/requests")) {
    for (const auto& line : test::read_lines(f.path())) {
      rapidjson::Document r;
      r.Parse(line.data(), line.size());
      if (r.HasParseError() || !r.IsObject()) continue;
      std::string method = r["method"].GetString();
      if (method == "GET" && r["query"].IsString()) {
        std::string q = r["query"].GetString();
        add_params([&](const char* n) { return url_param(q, n); });
      } else if (method == "POST" && r["body"].IsString()) {
        rapidjson::Document body;
        body.Parse(r["body"].GetString());
        if (body.HasParseError() || !body.IsObject() || !body["data"].IsArray()) continue;
        for (const auto& ev : body["data"].GetArray()) {
          add_params([&](const char* n) {
            return ev.HasMember(n) && ev[n].IsString() ? std::string(ev[n].GetString())
                                                       : std::string();
          });
        }
      }
    }
  }
  std::vector<Sdj> out;
  for (auto& [k, v] : unique) out.push_back(v);
  return out;
}

event::CollectorPayload payload(const std::string& qs) {
  event::CollectorPayload cp;
  cp.ip_address = "10.0.0.9";
  cp.timestamp = 1700000000000 - 5000;
  cp.encoding = "UTF-8";
  cp.collector = "ssc-3.4.0-stdout";
  cp.user_agent = "Mozilla/5.0 (X11)";
  cp.path = "/com.snowplowanalytics.snowplow/tp2";
  cp.querystring = qs;
  cp.headers = std::vector<std::string>{"Host: c.example"};
  cp.hostname = "c.example";
  cp.network_user_id = "c5f3a09f-75f8-4309-bec5-fea560f78455";
  return cp;
}

std::string event_query(const Sdj& s, const std::string& data) {
  std::string sdj = R"({"schema":")" + s.schema + R"(","data":)" + data + "}";
  if (s.is_event) {
    return "e=ue&p=web&tv=js-3.0.0&eid=2b5fbf7d-6f8a-4e0b-9d0c-3c4e2b1d0f11&ue_pr=" +
           pct(R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)" +
               sdj + "}");
  }
  return "e=pv&p=web&tv=js-3.0.0&eid=2b5fbf7d-6f8a-4e0b-9d0c-3c4e2b1d0f11&url=" +
         pct("https://shop.example/a") + "&co=" +
         pct(R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)" +
             sdj + "]}");
}

std::shared_ptr<iglu::Resolver> capture_resolver() {
  std::vector<std::shared_ptr<const iglu::Registry>> regs{
      iglu::builtin_registry(),
      std::make_shared<iglu::DirectoryRegistry>("Iglu Central",
                                                (test::shared_dir() / "iglu-central").string()),
      std::make_shared<iglu::DirectoryRegistry>("captures",
                                                (test::shared_dir() / "captures").string())};
  return std::make_shared<iglu::Resolver>(std::move(regs));
}

enrich::PipelineConfig config(std::shared_ptr<iglu::SchemaValidator> v) {
  enrich::PipelineConfig c;
  c.validator = std::move(v);
  c.fixed_now_ms = kNow;
  c.registry_retry_initial_ms = 5;
  c.registry_retry_max_ms = 50;
  return c;
}

TEST(IgluPipeline, CapturedEventsAndEntitiesValidAndInvalid) {
  auto sdjs = captured_sdjs();
  ASSERT_GE(sdjs.size(), 20u) << "too few self-describing JSONs in the captures";
  auto resolver = capture_resolver();
  enrich::Pipeline pipeline(config(resolver));
  int cases = 0;
  std::set<std::string> schemas;
  for (const auto& s : sdjs) {
    schemas.insert(s.schema);
    SCOPED_TRACE(s.schema + " " + s.data);
    // As recorded: a good event carrying the entity unchanged.
    enrich::Output good;
    pipeline.process_payload(payload(event_query(s, s.data)), "thrift", good);
    ++cases;
    ASSERT_EQ(good.bad.size(), 0u) << good.bad[0];
    ASSERT_EQ(good.good.size(), 1u);
    EXPECT_NE(good.good[0].find(s.schema), std::string::npos);

    // Made invalid (an object schema given a string): exactly one schema_violations row whose
    // message is the Iglu ValidationError for that schema and data.
    const std::string bad_data = R"("furrow-invalid")";
    enrich::Output bad;
    pipeline.process_payload(payload(event_query(s, bad_data)), "thrift", bad);
    ++cases;
    ASSERT_EQ(bad.good.size(), 0u);
    ASSERT_EQ(bad.bad.size(), 1u);
    rapidjson::Document row;
    row.Parse(bad.bad[0].c_str());
    ASSERT_FALSE(row.HasParseError());
    EXPECT_STREQ(row["schema"].GetString(), kSchemaViolations);
    const auto& messages = row["data"]["failure"]["messages"];
    ASSERT_EQ(messages.Size(), 1u) << bad.bad[0];
    EXPECT_EQ(std::string(messages[0]["schemaKey"].GetString()), s.schema);
    rapidjson::Document bad_value;
    bad_value.Parse(bad_data.c_str());
    auto expected = resolver->validate(s.schema, bad_value);
    ASSERT_EQ(expected.status, iglu::ValidationOutcome::Status::kInvalid);
    rapidjson::Document expected_error;
    expected_error.Parse(expected.error_json.c_str());
    EXPECT_TRUE(messages[0]["error"] == expected_error)
        << iglu::to_json(messages[0]["error"]) << " vs " << expected.error_json;
    EXPECT_STREQ(messages[0]["error"]["dataReports"][0]["path"].GetString(), "$");
    EXPECT_STREQ(messages[0]["error"]["dataReports"][0]["keyword"].GetString(), "type");
  }
  std::printf("iglu pipeline: %d cases over %zu schemas\n", cases, schemas.size());
  EXPECT_GE(cases, 50);
  EXPECT_GE(schemas.size(), 10u);
}

// Acceptance 4: while the HTTP registry is down the pipeline waits (no bad row); once it is back
// the event comes out good.
TEST(IgluPipeline, RegistryOutageMakesNoBadRowsAndProcessingResumes) {
  iglu::testing::FileServer server(test::shared_dir() / "captures");
  ASSERT_TRUE(server.start());
  int port = server.port();
  server.stop();
  iglu::HttpRegistry::Options fast;
  fast.retries = 0;
  fast.connect_timeout_ms = 200;
  auto http = std::make_shared<iglu::HttpRegistry>(
      "captures over HTTP", "http://127.0.0.1:" + std::to_string(port), "", 0,
      std::vector<std::string>{"com.example"}, fast);
  auto resolver = std::make_shared<iglu::Resolver>(
      std::vector<std::shared_ptr<const iglu::Registry>>{iglu::builtin_registry(), http});
  enrich::Pipeline pipeline(config(resolver));
  Sdj s{"iglu:com.example/button_press/jsonschema/1-0-0",
        R"({"button_id":"subscribe","clicks":3,"label":"x"})", true};
  enrich::Output out;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    pipeline.process_payload(payload(event_query(s, s.data)), "thrift", out);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_FALSE(done) << "the pipeline gave up while the registry was down";
  ASSERT_TRUE(server.start(port));
  worker.join();
  EXPECT_EQ(out.bad.size(), 0u) << (out.bad.empty() ? "" : out.bad[0]);
  EXPECT_EQ(out.good.size(), 1u);
  // And with the registry up, an invalid event is a bad row as usual.
  enrich::Output bad;
  pipeline.process_payload(payload(event_query(s, R"({"button_id":7})")), "thrift", bad);
  EXPECT_EQ(bad.good.size(), 0u);
  EXPECT_EQ(bad.bad.size(), 1u);
  server.stop();
}

}  // namespace
}  // namespace furrow
