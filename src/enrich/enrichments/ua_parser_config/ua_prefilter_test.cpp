#include "enrich/enrichments/ua_parser_config/ua_prefilter.h"

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "enrich/enrichments/ua_parser_config/ua_rules.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

// The clauses of a pattern's condition, each clause's strings sorted (for comparison).
std::vector<std::vector<std::string>> clauses_of(std::string_view pattern) {
  std::vector<std::vector<std::string>> out;
  for (auto c : necessary_literals(pattern).clauses) {
    std::sort(c.begin(), c.end());
    out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Clauses = std::vector<std::vector<std::string>>;

TEST(UaPrefilter, LiteralsOfSequencesAlternationsAndRepeats) {
  EXPECT_EQ(clauses_of("Superhuman"), (Clauses{{"Superhuman"}}));
  // One clause for an alternation of literals (RE2's FilteredRE2 kept only the common suffix),
  // and small cross products of adjacent exact parts.
  EXPECT_EQ(clauses_of("; {0,2}(A651|A701B?|Q80)(?: Build|\\) AppleWebKit)"),
            (Clauses{{" Build", ") AppleWebKit"},
                     {"A651", "A701", "Q80"},
                     {"A651 Build", "A651) AppleWebKit", "A701 Build", "A701) AppleWebKit",
                      "A701B Build", "A701B) AppleWebKit", "Q80 Build", "Q80) AppleWebKit"}}));
  // Groups and classes between literals split them; a short class is expanded.
  EXPECT_EQ(clauses_of("(Chrome)/(\\d+)\\.(\\d+) Mobile"), (Clauses{{" Mobile"}, {"Chrome/"}}));
  EXPECT_EQ(clauses_of("[Mm]obile"), (Clauses{{"Mobile", "mobile"}}));
  // Optional or repeatable-from-zero parts require nothing; "+" and "{1,}" keep the atom's.
  EXPECT_EQ(clauses_of("ab(cd)?ef"), (Clauses{{"abcdef", "abef"}}));
  EXPECT_EQ(clauses_of("ab(cd)?.ef"), (Clauses{{"ab"}, {"ef"}}));  // "abcd" implies "ab"
  EXPECT_EQ(clauses_of("ab(cd)*"), (Clauses{{"ab"}}));
  EXPECT_EQ(clauses_of("(xyz)+"), (Clauses{{"xyz"}}));
  EXPECT_EQ(clauses_of("(xyz){2,5}q"), (Clauses{{"xyz"}}));
  // A branch that needs no literal leaves the alternation without a condition.
  EXPECT_EQ(clauses_of("(Firefox|\\d+)"), Clauses{});
  EXPECT_EQ(clauses_of("(Firefox|)"), Clauses{});
  // Single characters are not worth a condition.
  EXPECT_EQ(clauses_of("a.b"), Clauses{});
  // A clause implied by a longer string of the same clause keeps the shorter one.
  EXPECT_EQ(clauses_of("(xy|xyz)"), (Clauses{{"xy"}}));
  EXPECT_EQ(clauses_of("(Pinterest(?:bot|))/"), (Clauses{{"Pinterest/", "Pinterestbot/"}}));
  // Escaped punctuation is literal, class escapes are not.
  EXPECT_EQ(clauses_of("Mac\\ OS\\.X\\d"), (Clauses{{"Mac OS.X"}}));
  // A multi-byte character is one atom: "é?" makes all of it optional.
  EXPECT_EQ(clauses_of("ab\xC3\xA9?cd"), (Clauses{{"abcd",
                                                   "ab\xC3\xA9"
                                                   "cd"}}));
}

TEST(UaPrefilter, CaseInsensitiveRulesUseOnlyAsciiFoldingLetters) {
  LiteralCondition c = necessary_literals("(?i)android.+opera");
  EXPECT_TRUE(c.icase);
  // 'k' and 's' fold to U+212A and U+017F in RE2: they split literals instead of joining them.
  EXPECT_EQ(clauses_of("(?i)android.+opera"), (Clauses{{"android"}, {"opera"}}));
  EXPECT_EQ(clauses_of("(?i)Kindle"), (Clauses{{"indle"}}));
  EXPECT_EQ(clauses_of("(?i)SILK"), (Clauses{{"il"}}));
  EXPECT_FALSE(necessary_literals("Kindle").icase);
  EXPECT_EQ(clauses_of("Kindle"), (Clauses{{"Kindle"}}));
  // Classes are not expanded under (?i).
  EXPECT_EQ(clauses_of("(?i)[ab]cd"), (Clauses{{"cd"}}));
  // Matched case-insensitively through the prefilter, Kelvin sign included.
  std::string error;
  auto f = LiteralPrefilter::build({necessary_literals("(?i)Kindle"), necessary_literals("Kindle")},
                                   error);
  ASSERT_NE(f, nullptr) << error;
  LiteralPrefilter::Scratch s;
  std::vector<int> out;
  const std::string kelvin = "\xE2\x84\xAAINDLE";  // U+212A then "INDLE"
  ASSERT_TRUE(RE2::PartialMatch(kelvin, "(?i)Kindle"));
  f->candidates(kelvin, s, out);
  EXPECT_EQ(out, std::vector<int>{0});
  f->candidates("my kindle", s, out);
  EXPECT_EQ(out, std::vector<int>{0});
  f->candidates("my Kindle", s, out);
  EXPECT_EQ(out, (std::vector<int>{0, 1}));
}

TEST(UaPrefilter, UnknownSyntaxGivesNoCondition) {
  for (const char* p :
       {"abc\\x{41}def", "abc\\pLdef", "\\Qabc\\E", "ab(?s:cd)ef", "ab{x}cd", "abc(", "abc[def"}) {
    EXPECT_TRUE(necessary_literals(p).clauses.empty()) << p;
  }
}

TEST(UaPrefilter, CandidatesNeedEveryClauseAndComeInOrder) {
  std::string error;
  auto f = LiteralPrefilter::build({necessary_literals("Chrome/\\d+ Mobile"),  // 0
                                    necessary_literals("\\d+"),                // 1: always
                                    necessary_literals("(iPhone|iPad)"),       // 2
                                    necessary_literals("Chrome")},             // 3
                                   error);
  ASSERT_NE(f, nullptr) << error;
  LiteralPrefilter::Scratch s;
  std::vector<int> out;
  f->candidates("Chrome/120 Safari", s, out);
  EXPECT_EQ(out, (std::vector<int>{1, 3}));
  f->candidates("Chrome/120 Mobile iPad", s, out);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3}));
  f->candidates("", s, out);
  EXPECT_EQ(out, (std::vector<int>{1}));
  // Scratch reuse across many calls keeps giving fresh answers.
  for (int i = 0; i < 1000; ++i) f->candidates(i % 2 ? "Mobile Chrome/" : "iPhone", s, out);
  EXPECT_EQ(out, (std::vector<int>{1, 3}));
}

// Soundness on the real rules: whenever a uap-core rule matches a test user agent, the
// prefilter lists it (a sample of the test files' user agents against every rule; the uap-core
// ratio tests cover the winners of all of them).
TEST(UaPrefilter, NeverDropsAMatchingUapCoreRule) {
  const auto dir = test::shared_dir() / "data/uap-core";
  YAML::Node root = YAML::LoadFile((dir / "regexes.yaml").string());
  std::vector<std::unique_ptr<RE2>> rules;
  std::vector<LiteralCondition> conditions;
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  for (const char* section : {"user_agent_parsers", "os_parsers", "device_parsers"}) {
    for (const auto& item : root[section]) {
      std::string pattern = translate_pcre(item["regex"].Scalar());
      if (item["regex_flag"] && item["regex_flag"].Scalar() == "i") pattern = "(?i)" + pattern;
      rules.push_back(std::make_unique<RE2>(pattern, o));
      ASSERT_TRUE(rules.back()->ok()) << pattern;
      conditions.push_back(necessary_literals(pattern));
    }
  }
  ASSERT_GT(rules.size(), 1000u);
  std::string error;
  auto f = LiteralPrefilter::build(conditions, error);
  ASSERT_NE(f, nullptr) << error;
  std::vector<std::string> uas;
  for (const char* file : {"test_ua.yaml", "test_os.yaml", "test_device.yaml"}) {
    YAML::Node doc = YAML::LoadFile((dir / "tests" / file).string());
    int i = 0;
    for (const auto& c : doc["test_cases"]) {
      if (i++ % 149 == 0) uas.push_back(c["user_agent_string"].Scalar());
    }
  }
  uas.push_back(
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/119.0.6045.163 Mobile Safari/537.36");
  LiteralPrefilter::Scratch s;
  std::vector<int> out;
  std::size_t rejected = 0;
  for (const auto& ua : uas) {
    f->candidates(ua, s, out);
    std::vector<bool> listed(rules.size(), false);
    for (int r : out) listed[static_cast<std::size_t>(r)] = true;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      if (listed[r]) continue;
      ++rejected;
      EXPECT_FALSE(RE2::PartialMatch(ua, *rules[r])) << "rule " << r << " (" << rules[r]->pattern()
                                                     << ") matches but was filtered out: " << ua;
    }
  }
  // The filter does filter: most rules are rejected for a typical user agent.
  EXPECT_GT(rejected, uas.size() * rules.size() * 9 / 10);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
