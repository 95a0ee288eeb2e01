// Helpers shared by the enrich integration tests (golden vectors, captures replay, corpus): run
// the built `furrow enrich` on an input file, and read its outputs back by column name.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "event/enriched_event.h"
#include "support/test_support.h"

namespace furrow::test {

struct EnrichRun {
  int exit_code = -1;
  std::vector<std::string> good;  // TSV lines
  std::vector<std::string> bad;   // bad-row JSON lines
  std::string stderr_text;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

// Runs `furrow enrich --input <input> <args>` with outputs in `dir`.
inline EnrichRun run_enrich(const std::filesystem::path& input, const std::string& args,
                            const std::filesystem::path& dir) {
  const auto good = dir / "good.tsv", bad = dir / "bad.json", err = dir / "stderr.txt";
  const std::string cmd = shell_quote(furrow_bin().string()) + " enrich --input " +
                          shell_quote(input.string()) + " --output " + shell_quote(good.string()) +
                          " --bad " + shell_quote(bad.string()) + " " + args + " 2>" +
                          shell_quote(err.string());
  EnrichRun r;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (std::filesystem::exists(good)) r.good = read_lines(good);
  if (std::filesystem::exists(bad)) r.bad = read_lines(bad);
  r.stderr_text = read_file(err);
  return r;
}

// The stderr summary must say "read P payloads carrying E events: G good, B bad" with E = G + B.
inline std::string summary_line(std::size_t payloads, std::size_t good, std::size_t bad) {
  return "read " + std::to_string(payloads) + " payloads carrying " + std::to_string(good + bad) +
         " events: " + std::to_string(good) + " good, " + std::to_string(bad) + " bad";
}

inline std::vector<std::string> split_tsv(const std::string& line) {
  std::vector<std::string> f;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    f.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return f;
}

inline std::size_t column(std::string_view name) {
  event::Field f{};
  EXPECT_TRUE(event::field_by_name(name, f)) << "no column " << name;
  return static_cast<std::size_t>(f);
}

// ms since epoch as the enriched TSV writes timestamps: "yyyy-MM-dd HH:mm:ss.SSS" (UTC).
inline std::string tsv_timestamp(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace furrow::test
