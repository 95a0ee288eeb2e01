#include "dashboard/distinct.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace furrow::dashboard {
namespace {

TEST(DistinctSketch, ExactWhileSmallWithDuplicates) {
  DistinctSketch s;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) s.add("user-" + std::to_string(i));
  }
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.estimate(), 300);
}

TEST(DistinctSketch, SerializedSparseSketchesMergeExactly) {
  DistinctSketch a, b;
  for (int i = 0; i < 200; ++i) a.add("u" + std::to_string(i));
  for (int i = 100; i < 400; ++i) b.add("u" + std::to_string(i));
  DistinctSketch u(1 << 16);
  ASSERT_TRUE(u.merge_serialized(a.serialize()));
  ASSERT_TRUE(u.merge_serialized(b.serialize()));
  EXPECT_TRUE(u.exact());
  EXPECT_EQ(u.estimate(), 400);
  // The union of 200 and 300 overlapping values, each kept below the stored sparse limit.
  EXPECT_EQ(a.serialize().size(), 1u + 8 * 200);
}

TEST(DistinctSketch, SwitchesToHyperLogLogPastTheLimitWithinThreePercent) {
  for (int n : {2'000, 50'000, 300'000}) {
    DistinctSketch s;
    for (int i = 0; i < n; ++i) s.add("visitor-" + std::to_string(i));
    EXPECT_FALSE(s.exact());
    const double err = std::abs(static_cast<double>(s.estimate()) - n) / n;
    EXPECT_LT(err, 0.03) << n << " gave " << s.estimate();
    EXPECT_EQ(s.serialize().size(), 1u + DistinctSketch::kRegisters);
  }
}

TEST(DistinctSketch, MergingDenseAndSparseCountsTheUnion) {
  DistinctSketch dense, sparse;
  for (int i = 0; i < 20'000; ++i) dense.add("v" + std::to_string(i));
  for (int i = 10'000; i < 10'300; ++i) sparse.add("v" + std::to_string(i));  // all seen already
  for (int i = 0; i < 100; ++i) sparse.add("w" + std::to_string(i));          // 100 new
  DistinctSketch u(1 << 16);
  ASSERT_TRUE(u.merge_serialized(sparse.serialize()));
  ASSERT_TRUE(u.merge_serialized(dense.serialize()));
  EXPECT_FALSE(u.exact());
  const double err = std::abs(static_cast<double>(u.estimate()) - 20'100) / 20'100;
  EXPECT_LT(err, 0.03) << u.estimate();
}

TEST(DistinctSketch, RejectsMalformedBytes) {
  DistinctSketch s;
  EXPECT_FALSE(s.merge_serialized(""));
  EXPECT_FALSE(s.merge_serialized(std::string("\x01\x02\x03", 3)));  // not a multiple of 8
  EXPECT_FALSE(s.merge_serialized(std::string("\x02\x00", 2)));      // wrong register count
  EXPECT_FALSE(s.merge_serialized(std::string("\x07", 1)));
  EXPECT_EQ(s.estimate(), 0);
}

}  // namespace
}  // namespace furrow::dashboard
