// The spec's test vectors (section 7) that concern core enrichment, run through the built binary:
// each test/golden/tv-*.json describes requests (built here as the collector records them) or log
// lines, and the good events (by column) and bad rows expected from `furrow enrich`.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>

#include "common/base64.h"
#include "enrich_helpers.h"
#include "event/collector_payload.h"

namespace furrow::test {
namespace {

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::optional<std::string> opt_string(const rapidjson::Value& o, const char* key) {
  if (!o.HasMember(key) || o[key].IsNull()) return std::nullopt;
  return std::string(o[key].GetString(), o[key].GetStringLength());
}

event::CollectorPayload payload_from(const rapidjson::Value& r) {
  event::CollectorPayload p;
  p.path = opt_string(r, "path");
  p.querystring = opt_string(r, "querystring");
  p.body = opt_string(r, "body");
  p.content_type = opt_string(r, "content_type");
  p.ip_address = opt_string(r, "ip");
  p.user_agent = opt_string(r, "useragent");
  p.referer_uri = opt_string(r, "referer");
  p.network_user_id = opt_string(r, "nuid");
  p.collector = opt_string(r, "collector");
  p.hostname = opt_string(r, "hostname");
  p.encoding = "UTF-8";
  if (r.HasMember("timestamp")) p.timestamp = r["timestamp"].GetInt64();
  if (r.HasMember("headers")) {
    std::vector<std::string> h;
    for (const auto& v : r["headers"].GetArray()) h.emplace_back(v.GetString());
    p.headers = h;
  }
  return p;
}

// Checks each expected column ("name": "value" or null) of one enriched event.
void expect_columns(const rapidjson::Value& want, const std::vector<std::string>& fields,
                    const std::string& where) {
  ASSERT_EQ(fields.size(), event::kFieldCount) << where;
  for (const auto& kv : want.GetObject()) {
    const std::string expected = kv.value.IsNull() ? "" : kv.value.GetString();
    EXPECT_EQ(fields[column(kv.name.GetString())], expected)
        << where << " column " << kv.name.GetString();
  }
}

// The partially enriched event inside a bad row is an object keyed by column name.
void expect_enriched_object(const rapidjson::Value& want, const rapidjson::Value& enriched,
                            const std::string& where) {
  for (const auto& kv : want.GetObject()) {
    const char* name = kv.name.GetString();
    ASSERT_TRUE(enriched.HasMember(name)) << where << " enriched has no " << name;
    const auto& got = enriched[name];
    if (kv.value.IsNull()) {
      EXPECT_TRUE(got.IsNull()) << where << " " << name;
    } else if (got.IsString()) {
      EXPECT_EQ(std::string(got.GetString()), kv.value.GetString()) << where << " " << name;
    } else {
      EXPECT_EQ(compact(got), kv.value.GetString()) << where << " " << name;
    }
  }
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesTheSpec) {
  const auto file = source_dir() / "test" / "golden" / (GetParam() + ".json");
  rapidjson::Document doc;
  const std::string text = read_file(file);
  ASSERT_FALSE(doc.Parse(text.c_str()).HasParseError()) << file;
  const std::string id = doc["id"].GetString();
  const std::string format = doc["input_format"].GetString();

  const auto dir = temp_dir("furrow-golden-");
  const auto input = dir / "input.txt";
  std::size_t records = 0;
  {
    std::ofstream out(input, std::ios::binary);
    if (format == "thrift") {
      for (const auto& r : doc["requests"].GetArray()) {
        out << common::base64_encode(event::encode_thrift(payload_from(r))) << "\n";
        ++records;
      }
    } else {
      for (const auto& l : doc["lines"].GetArray()) {
        out << l.GetString() << "\n";
        ++records;
      }
    }
  }
  const EnrichRun run = run_enrich(input, "--input-format " + format, dir);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;

  const auto& want_good = doc["expect_good"];
  const auto& want_bad = doc["expect_bad"];
  ASSERT_EQ(run.good.size(), want_good.Size()) << id << "\n"
                                               << run.stderr_text << "\n"
                                               << (run.bad.empty() ? "" : run.bad[0]);
  ASSERT_EQ(run.bad.size(), want_bad.Size()) << id << "\n" << (run.bad.empty() ? "" : run.bad[0]);
  EXPECT_NE(run.stderr_text.find(summary_line(records, run.good.size(), run.bad.size())),
            std::string::npos)
      << run.stderr_text;

  for (rapidjson::SizeType i = 0; i < want_good.Size(); ++i) {
    expect_columns(want_good[i], split_tsv(run.good[i]), id + " good #" + std::to_string(i));
  }
  for (rapidjson::SizeType i = 0; i < want_bad.Size(); ++i) {
    const std::string where = id + " bad #" + std::to_string(i);
    rapidjson::Document bad;
    ASSERT_FALSE(bad.Parse(run.bad[i].c_str()).HasParseError()) << where;
    const std::string schema = bad["schema"].GetString();
    EXPECT_NE(schema.find(std::string("badrows/") + want_bad[i]["type"].GetString() + "/"),
              std::string::npos)
        << where << " " << schema << "\n"
        << run.bad[i].substr(0, 800);
    const std::string failure = compact(bad["data"]["failure"]);
    if (want_bad[i].HasMember("failure_contains")) {
      for (const auto& needle : want_bad[i]["failure_contains"].GetArray()) {
        EXPECT_NE(failure.find(needle.GetString()), std::string::npos)
            << where << " failure lacks '" << needle.GetString() << "': " << failure;
      }
    }
    for (const char* part : {"enriched", "raw"}) {
      if (!want_bad[i].HasMember(part)) continue;
      const auto& payload = bad["data"]["payload"];
      ASSERT_TRUE(payload.IsObject() && payload.HasMember(part)) << where << " no payload." << part;
      expect_enriched_object(want_bad[i][part], payload[part], where + " " + part);
    }
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Spec, Golden,
                         ::testing::Values("tv-01", "tv-02", "tv-03", "tv-04", "tv-05", "tv-06",
                                           "tv-08", "tv-09", "tv-10", "tv-11", "tv-13", "tv-14"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

}  // namespace
}  // namespace furrow::test
