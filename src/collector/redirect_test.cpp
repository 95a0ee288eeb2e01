#include "collector/redirect.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace furrow::collector {
namespace {

TEST(Redirect, AllowsOnlyListedHostsOverHttp) {
  std::vector<std::string> allowed = {"example.com"};
  std::string why;
  EXPECT_TRUE(redirect_target_allowed("https://example.com/x?y=1#z", allowed, why));
  EXPECT_TRUE(redirect_target_allowed("http://EXAMPLE.com:8080/", allowed, why));
  EXPECT_TRUE(redirect_target_allowed("HTTPS://example.com", allowed, why));
  EXPECT_FALSE(redirect_target_allowed("https://example.com", {}, why));
  EXPECT_EQ(why, "no redirect hosts are allowed");
  EXPECT_FALSE(redirect_target_allowed("https://example.com:99999999/", allowed, why));
  EXPECT_FALSE(redirect_target_allowed("https://example.com:/", allowed, why));
  EXPECT_FALSE(redirect_target_allowed("https://[::1]/", allowed, why));
  EXPECT_TRUE(redirect_target_allowed("https://[::1]:80/", {"[::1]"}, why));
}

TEST(Redirect, QueryHelpers) {
  std::string_view v;
  EXPECT_EQ(find_query_param("a=1&u=x%20y&u=2", "u", v), 2);
  EXPECT_EQ(v, "x%20y");
  EXPECT_EQ(find_query_param("au=1&ua=2", "u", v), 0);
  EXPECT_EQ(url_decode("a+b%41%zz%4"), "a bA%zz%4");
}

// find_query_param searches for the name directly; splitting the query into pairs is the
// definition. Random queries over a small alphabet hit every boundary case.
TEST(Redirect, FindQueryParamMatchesPairSplit) {
  auto reference = [](std::string_view query, std::string_view name, std::string_view& raw) {
    int count = 0;
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      auto eq = pair.find('=');
      if (pair.substr(0, eq) == name) {
        if (count == 0)
          raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        ++count;
      }
    }
    return count;
  };
  const std::string alphabet = "nu&=id";
  const std::vector<std::string> names = {"nu", "nuid", "n", "u", "", "a=b", "n&u", "idnu"};
  uint64_t state = 7;
  for (int i = 0; i < 20000; ++i) {
    std::string query;
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    for (uint64_t len = (state >> 40) % 14; len > 0; --len) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      query += alphabet[(state >> 33) % alphabet.size()];
    }
    for (const auto& name : names) {
      std::string_view got = "unset", want = "unset";
      const int n = find_query_param(query, name, got);
      ASSERT_EQ(n, reference(query, name, want)) << query << " / " << name;
      if (n > 0) {
        ASSERT_EQ(got, want) << query << " / " << name;
        ASSERT_EQ(got.data(), want.data()) << query << " / " << name;
      }
    }
  }
}

}  // namespace
}  // namespace furrow::collector
