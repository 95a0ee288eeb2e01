#include "common/decimal.h"

#include <gtest/gtest.h>

namespace furrow {
namespace {

std::string dec(std::string_view in) {
  std::string out, err;
  EXPECT_TRUE(java_decimal(in, out, err)) << in << ": " << err;
  return out;
}

TEST(Decimal, PrintsLikeBigDecimalToString) {
  EXPECT_EQ(dec("12.90"), "12.90");
  EXPECT_EQ(dec("8000"), "8000");
  EXPECT_EQ(dec("35708.23"), "35708.23");
  EXPECT_EQ(dec("1E+3"), "1000");  // negative scale normalised to 0
  EXPECT_EQ(dec("1.5e2"), "150");
  EXPECT_EQ(dec("1.50e1"), "15.0");
  EXPECT_EQ(dec("0.0000001"), "1E-7");
  EXPECT_EQ(dec("0.000001"), "0.000001");
  EXPECT_EQ(dec("0.00000012"), "1.2E-7");
  EXPECT_EQ(dec("-0.5"), "-0.5");
  EXPECT_EQ(dec("+7"), "7");
  EXPECT_EQ(dec("-0"), "0");
  EXPECT_EQ(dec("007.10"), "7.10");
  EXPECT_EQ(dec(".5"), "0.5");
  EXPECT_EQ(dec("5."), "5");
  EXPECT_EQ(dec("0E-10"), "0E-10");
  EXPECT_EQ(dec("123456789012345678901234567890"), "123456789012345678901234567890");
}

TEST(Decimal, RejectsWhatBigDecimalRejects) {
  std::string out, err;
  for (const char* bad :
       {"", "abc", "1.2.3", "1e", "e5", "1e+", "--1", "1,5", " 1", "NaN", "Infinity", "."}) {
    EXPECT_FALSE(java_decimal(bad, out, err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  EXPECT_FALSE(java_decimal("1e99999", out, err));  // would be 100k digits: refused, bounded
}

}  // namespace
}  // namespace furrow
