#include "assets/assets.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

#include "common/base64.h"

namespace furrow::assets {
namespace {

TEST(SpJs, IsTheMinifiedTrackerBundle) {
  const std::string_view js = sp_js();
  ASSERT_GT(js.size(), 1000u);
  // esbuild's IIFE wrapper, and the public API names survive minification.
  EXPECT_TRUE(js.starts_with("(()=>{")) << js.substr(0, 40);
  EXPECT_NE(js.find("newTracker"), std::string_view::npos);
  EXPECT_NE(js.find("trackPageView"), std::string_view::npos);
  EXPECT_NE(js.find("payload_data/jsonschema/1-0-4"), std::string_view::npos);
  // Minified: no indentation left.
  EXPECT_EQ(js.find("\n  "), std::string_view::npos);
}

TEST(SpJs, IntegrityIsSha384OfTheServedBytes) {
  const std::string_view js = sp_js();
  unsigned char digest[SHA384_DIGEST_LENGTH];
  SHA384(reinterpret_cast<const unsigned char*>(js.data()), js.size(), digest);
  const std::string expected =
      "sha384-" +
      common::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  EXPECT_EQ(sp_js_integrity(), expected);
  EXPECT_EQ(sp_js_integrity().size(), 7u + 64u);
}

}  // namespace
}  // namespace furrow::assets
