#include "common/time_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>

namespace furrow {
namespace {

TEST(TimeFormat, FormatsTsvAndIso) {
  EXPECT_EQ(format_tsv_tstamp(0), "1970-01-01 00:00:00.000");
  EXPECT_EQ(format_tsv_tstamp(1), "1970-01-01 00:00:00.001");
  EXPECT_EQ(format_tsv_tstamp(1364219529188), "2013-03-25 13:52:09.188");
  EXPECT_EQ(format_tsv_tstamp(1426245561368), "2015-03-13 11:19:21.368");
  EXPECT_EQ(format_tsv_tstamp(-1), "1969-12-31 23:59:59.999");
  EXPECT_EQ(format_iso_instant(1389833398278), "2014-01-16T00:49:58.278Z");
  // TV-11: a far-future value formats with a five-digit year and fails the year check.
  EXPECT_EQ(format_tsv_tstamp(1111111111111111), "37179-09-17 07:18:31.111");
  EXPECT_FALSE(tstamp_year_ok(1111111111111111));
  EXPECT_TRUE(tstamp_year_ok(253402300799999));
  EXPECT_FALSE(tstamp_year_ok(253402300800000));
  EXPECT_TRUE(tstamp_year_ok(-62167219200000));
  EXPECT_FALSE(tstamp_year_ok(-62167219200001));
  EXPECT_EQ(format_tsv_tstamp(-62167219200001)[0], '-');
}

TEST(TimeFormat, ParsesTsvTimestamps) {
  int64_t ms = 0;
  ASSERT_TRUE(parse_tsv_tstamp("2013-10-07 23:35:29.999", ms));
  EXPECT_EQ(format_tsv_tstamp(ms), "2013-10-07 23:35:29.999");
  ASSERT_TRUE(parse_tsv_tstamp("2000-02-29 00:00:00", ms));
  EXPECT_EQ(format_tsv_tstamp(ms), "2000-02-29 00:00:00.000");
  ASSERT_TRUE(parse_tsv_tstamp("2000-02-29 00:00:00.5", ms));
  EXPECT_EQ(ms % 1000, 500);
  EXPECT_FALSE(parse_tsv_tstamp("2001-02-29 00:00:00.000", ms));
  EXPECT_FALSE(parse_tsv_tstamp("2001-13-01 00:00:00.000", ms));
  EXPECT_FALSE(parse_tsv_tstamp("2001-01-01T00:00:00.000", ms));
  EXPECT_FALSE(parse_tsv_tstamp("2001-01-01 24:00:00.000", ms));
  EXPECT_FALSE(parse_tsv_tstamp("2001-01-01 00:00:00.", ms));
  EXPECT_FALSE(parse_tsv_tstamp("2001-01-01 00:00:00.0000000000", ms));
  EXPECT_FALSE(parse_tsv_tstamp("", ms));
}

TEST(TimeFormat, RoundTripsAcrossEras) {
  for (int64_t ms : {int64_t{0}, int64_t{951782400000}, int64_t{-86400000}, int64_t{4102444800123},
                     int64_t{-62135596800000}, int64_t{253402300799999}}) {
    int64_t back = 0;
    ASSERT_TRUE(parse_tsv_tstamp(format_tsv_tstamp(ms), back)) << ms;
    EXPECT_EQ(back, ms);
  }
}

TEST(TimeFormat, CachedSecondsAgreeWithCivilTimeFields) {
  // The per-thread cache of formatted seconds against a plain rendering of civil_from_ms, on
  // runs of nearby instants (cache hits, slot collisions, negative seconds) and random ones, in
  // both forms, interleaved.
  auto reference = [](int64_t ms, char sep) {
    const CivilTime t = civil_from_ms(ms);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02d-%02d%c%02d:%02d:%02d.%03d", t.year, t.month,
                  t.day, sep, t.hour, t.minute, t.second, t.millis);
    return std::string(buf);
  };
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(-62'167'219'200'000LL, 253'402'300'799'999LL);
  std::uniform_int_distribution<int64_t> near(-20'000, 20'000);
  std::vector<int64_t> bases = {0, -1000, 1'700'000'000'000, int64_t{-62'167'219'200'000LL},
                                253'402'300'799'000LL};
  for (int i = 0; i < 200; ++i) bases.push_back(any(rng));
  for (const int64_t base : bases) {
    for (int j = 0; j < 20; ++j) {
      int64_t ms = base + near(rng);
      ms = std::clamp<int64_t>(ms, -62'167'219'200'000LL, 253'402'300'799'999LL);
      ASSERT_EQ(format_tsv_tstamp(ms), reference(ms, ' ')) << ms;
      ASSERT_EQ(format_iso_instant(ms), reference(ms, 'T') + "Z") << ms;
    }
  }
}

}  // namespace
}  // namespace furrow
