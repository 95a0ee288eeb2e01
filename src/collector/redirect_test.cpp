#include "collector/redirect.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace furrow::collector
