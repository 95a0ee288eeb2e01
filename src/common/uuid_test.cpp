#include "common/uuid.h"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace furrow
