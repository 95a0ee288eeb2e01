// Runs the pipeline in-process over the malformed corpus (test/corpus/malformed, see
// make_malformed.py): every input must become exactly one bad row of the type its manifest row
// names, whose failure mentions the field, and nothing may crash. This is a unit test so that the
// ASan/UBSan pass of `make test` covers it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>

#include "enrich/runner.h"
#include "sources/input.h"
#include "support/test_support.h"

namespace furrow::sources {
namespace {

struct Case {
  std::string file, format, type, needle;
};

std::filesystem::path corpus_dir() {
  return test::source_dir() / "test" / "corpus" / "malformed";
}

std::vector<Case> manifest() {
  std::vector<Case> cases;
  for (const auto& line : test::read_lines(corpus_dir() / "manifest.tsv")) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    Case c;
    std::getline(in, c.file, '\t');
    std::getline(in, c.format, '\t');
    std::getline(in, c.type, '\t');
    std::getline(in, c.needle, '\t');
    cases.push_back(c);
  }
  return cases;
}

std::string record_of(const std::string& content) {
  std::string r = content;
  if (!r.empty() && r.back() == '\n') r.pop_back();
  return r;
}

enrich::PipelineConfig test_config() {
  enrich::PipelineConfig c;
  c.fixed_now_ms = 1700000000000;
  return c;
}

// True when `failure` names `needle`: as a whole JSON string (a field or parameter name such as
// "e"), or, for words of three characters or more, anywhere in it.
bool names(const std::string& failure, const std::string& needle) {
  if (failure.find("\"" + needle + "\"") != std::string::npos) return true;
  return needle.size() >= 3 && failure.find(needle) != std::string::npos;
}

TEST(MalformedCorpus, EveryInputIsOneBadRowOfTheRightTypeNamingTheField) {
  const auto cases = manifest();
  ASSERT_GE(cases.size(), 300u);
  const enrich::Pipeline pipeline(test_config());
  std::map<std::string, int> per_type;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    InputFormat format{};
    ASSERT_TRUE(parse_input_format(c.format, format)) << c.format;
    const PayloadProcessor proc(pipeline, format);
    enrich::Output out;
    ASSERT_TRUE(proc.process(record_of(test::read_file(corpus_dir() / c.file)), 1, false, out));
    if (out.good.size() != 0 || out.bad.size() != 1) {
      ADD_FAILURE() << out.good.size() << " good, " << out.bad.size() << " bad"
                    << (out.good.empty() ? "" : "\n" + out.good[0].substr(0, 300))
                    << (out.bad.empty() ? "" : "\n" + out.bad[0].substr(0, 600));
      continue;
    }
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(out.bad[0].c_str()).HasParseError()) << out.bad[0].substr(0, 300);
    const std::string schema = d["schema"].GetString();
    EXPECT_NE(schema.find("badrows/" + c.type + "/"), std::string::npos)
        << schema << "\n"
        << out.bad[0].substr(0, 600);
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    d["data"]["failure"].Accept(w);
    const std::string failure = sb.GetString();
    EXPECT_TRUE(names(failure, c.needle))
        << "failure does not name '" << c.needle << "': " << failure.substr(0, 600);
    ++per_type[c.type];
  }
  // The corpus covers every bad-row type enrich produces from input data.
  for (const char* t :
       {"collector_payload_format_violation", "adapter_failures", "tracker_protocol_violations",
        "schema_violations", "enrichment_failures"}) {
    EXPECT_GT(per_type[t], 0) << t;
  }
}

// The whole corpus as one stream through the runner: read = good + bad, nothing lost.
TEST(MalformedCorpus, StreamedThroughTheRunnerNothingIsLost) {
  const auto cases = manifest();
  const enrich::Pipeline pipeline(test_config());
  const PayloadProcessor proc(pipeline, InputFormat::kThriftBase64);
  std::vector<std::string> records;
  for (const auto& c : cases) {
    if (c.format == "thrift") records.push_back(record_of(test::read_file(corpus_dir() / c.file)));
  }
  std::size_t pos = 0;
  enrich::RunCounts totals;
  std::size_t bad_lines = 0;
  enrich::RunnerConfig cfg;
  cfg.threads = 2;
  Status st = enrich::run_stream(
      cfg, proc,
      [&](enrich::RecordBatch& b, bool& eof) {
        for (int i = 0; i < 16 && pos < records.size(); ++i, ++pos)
          b.add_record(records[pos], pos + 1);
        eof = pos == records.size();
        return Status::Ok();
      },
      [&](const enrich::RecordBatch& b) {
        EXPECT_TRUE(b.good.empty());
        bad_lines += static_cast<std::size_t>(std::count(b.bad.begin(), b.bad.end(), '\n'));
        return Status::Ok();
      },
      totals);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(totals.payloads, records.size());
  EXPECT_EQ(totals.bad, records.size());
  EXPECT_EQ(totals.good, 0u);
  EXPECT_EQ(bad_lines, records.size());
}

}  // namespace
}  // namespace furrow::sources
