#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>

#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

const std::shared_ptr<const UserAgentRules>& uap_rules() {
  static std::shared_ptr<const UserAgentRules> rules = [] {
    auto r = UserAgentRules::from_file(test::shared_dir() / "data/uap-core/regexes.yaml");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : nullptr;
  }();
  return rules;
}

std::string scalar(const YAML::Node& n, const char* key) {
  YAML::Node v = n[key];
  if (!v || v.IsNull()) return "";
  return v.Scalar();
}

struct Tally {
  int total = 0;
  int ok = 0;
  std::vector<std::string> misses;
};

// Runs one uap-core test file; `check` compares one case and returns true on a match.
template <class Check>
Tally run_uap_file(const char* file, Check check) {
  Tally t;
  YAML::Node doc = YAML::LoadFile((test::shared_dir() / "data/uap-core/tests" / file).string());
  for (const auto& c : doc["test_cases"]) {
    std::string ua = scalar(c, "user_agent_string");
    ParsedUserAgent p = uap_rules()->parse(ua);
    ++t.total;
    if (check(c, p)) {
      ++t.ok;
    } else if (t.misses.size() < 10) {
      t.misses.push_back(ua);
    }
  }
  std::printf("uap-core %s: %d of %d cases match (%.3f%%)\n", file, t.ok, t.total,
              100.0 * t.ok / std::max(1, t.total));
  for (const auto& m : t.misses) std::printf("  miss: %s\n", m.c_str());
  return t;
}

TEST(UaParser, UapCoreUserAgentTests) {
  ASSERT_NE(uap_rules(), nullptr);
  Tally t = run_uap_file("test_ua.yaml", [](const YAML::Node& c, const ParsedUserAgent& p) {
    return p.ua.family == scalar(c, "family") && p.ua.major == scalar(c, "major") &&
           p.ua.minor == scalar(c, "minor") && p.ua.patch == scalar(c, "patch") &&
           (!c["patch_minor"] || p.ua.patch_minor == scalar(c, "patch_minor"));
  });
  ASSERT_GT(t.total, 1000);
  EXPECT_GE(t.ok * 1000, t.total * 999);
}

TEST(UaParser, UapCoreOsTests) {
  ASSERT_NE(uap_rules(), nullptr);
  Tally t = run_uap_file("test_os.yaml", [](const YAML::Node& c, const ParsedUserAgent& p) {
    return p.os.family == scalar(c, "family") && p.os.major == scalar(c, "major") &&
           p.os.minor == scalar(c, "minor") && p.os.patch == scalar(c, "patch") &&
           p.os.patch_minor == scalar(c, "patch_minor");
  });
  ASSERT_GT(t.total, 400);
  EXPECT_GE(t.ok * 1000, t.total * 999);
}

TEST(UaParser, UapCoreDeviceTests) {
  ASSERT_NE(uap_rules(), nullptr);
  Tally t = run_uap_file("test_device.yaml", [](const YAML::Node& c, const ParsedUserAgent& p) {
    return p.device.family == scalar(c, "family") && p.device.brand == scalar(c, "brand") &&
           p.device.model == scalar(c, "model");
  });
  ASSERT_GT(t.total, 10000);
  EXPECT_GE(t.ok * 1000, t.total * 999);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
