#include "common/uuid.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace furrow {
namespace {

TEST(Uuid, AcceptsOnlyCanonicalShape) {
  EXPECT_TRUE(is_uuid("550e8400-e29b-41d4-a716-446655440000"));
  EXPECT_TRUE(is_uuid("550E8400-E29B-41D4-A716-446655440000"));
  EXPECT_FALSE(is_uuid("550e8400e29b41d4a716446655440000"));
  EXPECT_FALSE(is_uuid("1-1-1-1-1"));
  EXPECT_FALSE(is_uuid("550e8400-e29b-41d4-a716-44665544000g"));
  EXPECT_FALSE(is_uuid("550e8400-e29b-41d4-a716-4466554400000"));
  std::string out = "keep";
  EXPECT_FALSE(normalize_uuid("abc", out));
  EXPECT_EQ(out, "keep");
  ASSERT_TRUE(normalize_uuid("550E8400-E29B-41D4-A716-446655440000", out));
  EXPECT_EQ(out, "550e8400-e29b-41d4-a716-446655440000");
}

TEST(Uuid, RandomV4IsWellFormedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = random_uuid_v4();
    ASSERT_TRUE(is_uuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// The rule stated byte by byte, for comparison with the table-driven check.
bool reference_is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

TEST(Uuid, AgreesWithByteRulesOnRandomMutations) {
  std::mt19937 rng(20261128);
  const std::string alphabet = "0123456789abcdefABCDEFgGzZ-_ \t\xff\x80";
  int accepted = 0, rejected = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string s = n % 2 == 0 ? random_uuid_v4() : "550E8400-E29B-41D4-A716-446655440000";
    const int edits = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s[at] = static_cast<char>(rng() % 256);
          break;
        case 2:
          s.erase(at, 1);
          break;
        default:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    const bool want = reference_is_uuid(s);
    ASSERT_EQ(is_uuid(s), want) << s;
    std::string out = "unchanged";
    ASSERT_EQ(normalize_uuid(s, out), want) << s;
    if (want) {
      std::string lower = s;
      for (char& c : lower) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      }
      ASSERT_EQ(out, lower);
      ++accepted;
    } else {
      ASSERT_EQ(out, "unchanged");  // a refused UUID leaves `out` as it was
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 1000);  // both outcomes are exercised
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace furrow
