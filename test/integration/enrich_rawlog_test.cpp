// `furrow enrich --input-format rawlog` reads the collector's durable raw log (a directory of
// segments) and gives the same events as the same payloads in the base64 line format.
#include <gtest/gtest.h>

#include <fstream>

#include "common/base64.h"
#include "enrich_helpers.h"
#include "sinks/raw_log.h"
#include "sources/generator.h"

namespace furrow::test {
namespace {

// The columns enrich fills from the clock or at random (etl_tstamp, event_id when absent) differ
// between runs; everything else must be identical.
std::string stable_columns(const std::string& line) {
  auto f = split_tsv(line);
  f[column("etl_tstamp")].clear();
  std::string out;
  for (const auto& v : f) out += v + "\t";
  return out;
}

TEST(EnrichRawLog, SameEventsAsTheLineFormat) {
  const auto dir = temp_dir("furrow-rawlog-");
  const auto log_dir = dir / "raw";
  std::filesystem::create_directories(log_dir);
  sinks::RawLogOptions opt;
  opt.dir = log_dir;
  opt.segment_max_bytes = 200'000;  // several segments
  opt.compress = false;
  auto backend = sinks::RawLogBackend::open(opt);
  ASSERT_TRUE(backend.ok()) << backend.error().message;

  sources::GeneratorConfig cfg;
  cfg.seed = 77;
  sources::Generator gen(cfg);
  sources::GeneratedPayload p;
  std::ofstream lines(dir / "same.b64");
  uint64_t events = 0, payloads = 0;
  while (events < 1500) {
    gen.next(10, p);
    std::string bytes;
    ASSERT_TRUE(common::base64_decode(p.line, bytes));
    const std::vector<std::string_view> one = {bytes};
    ASSERT_TRUE((*backend)->write(one).ok());
    lines << p.line << "\n";
    events += p.events;
    ++payloads;
  }
  lines.close();
  ASSERT_TRUE((*backend)->sync().ok());
  ASSERT_TRUE((*backend)->close().ok());

  const auto out_raw = dir / "out_raw", out_lines = dir / "out_lines";
  std::filesystem::create_directories(out_raw);
  std::filesystem::create_directories(out_lines);
  const EnrichRun raw = run_enrich(log_dir, "--input-format rawlog", out_raw);
  ASSERT_EQ(raw.exit_code, 0) << raw.stderr_text;
  EXPECT_NE(raw.stderr_text.find(summary_line(payloads, events, 0)), std::string::npos)
      << raw.stderr_text;
  const EnrichRun text = run_enrich(dir / "same.b64", "", out_lines);
  ASSERT_EQ(text.exit_code, 0) << text.stderr_text;
  ASSERT_EQ(raw.good.size(), events);
  ASSERT_EQ(text.good.size(), events);
  for (std::size_t i = 0; i < raw.good.size(); ++i) {
    ASSERT_EQ(stable_columns(raw.good[i]), stable_columns(text.good[i])) << "event " << i;
  }
  std::filesystem::remove_all(dir);
}

TEST(EnrichRawLog, MissingDirectoryIsAnErrorNamingIt) {
  const auto dir = temp_dir("furrow-rawlog-missing-");
  const EnrichRun r = run_enrich(dir / "nope", "--input-format rawlog", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find((dir / "nope").string()), std::string::npos) << r.stderr_text;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace furrow::test
