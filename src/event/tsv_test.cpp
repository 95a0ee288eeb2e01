#include "event/tsv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace furrow::event {
namespace {

EnrichedEvent minimal_event() {
  EnrichedEvent ev;
  ev[Field::app_id] = "shop";
  ev[Field::platform] = "web";
  ev[Field::collector_tstamp] = "2013-10-07 23:35:30.000";
  ev[Field::event] = "page_view";
  ev[Field::event_id] = "550e8400-e29b-41d4-a716-446655440000";
  ev[Field::v_collector] = "ssc-3.4.0-stdout";
  ev[Field::v_etl] = "furrow-enrich-0.1.0";
  return ev;
}

std::string line_of(const EnrichedEvent& ev) {
  std::string s;
  write_tsv(ev, s);
  return s;
}

TEST(Tsv, WritesOneHundredThirtyOneFieldsWithoutTrailingTab) {
  EnrichedEvent ev = minimal_event();
  ev[Field::true_tstamp] = "2013-10-07 23:35:29.999";
  std::string s = "prefix:";
  write_tsv(ev, s);
  EXPECT_EQ(s.rfind("prefix:shop\tweb\t\t2013-10-07 23:35:30.000\t", 0), 0u);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\t'), 130);
  EXPECT_NE(s.back(), '\t');
  EXPECT_EQ(s.substr(s.size() - 23), "2013-10-07 23:35:29.999");
}

// Values of every length around the short-copy size (0-40 bytes), in strings that were longer
// before (heap buffers) or never were (in-object), appended after existing text: the line is the
// fields joined by tabs, whatever each string held before.
TEST(Tsv, ValuesOfEveryLengthAreCopiedExactly) {
  EnrichedEvent ev;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (i % 3 == 0) ev.values[i].assign(100, 'z');  // capacity kept by the assign below
    std::string v;
    for (std::size_t k = 0; k < (i * 7) % 41; ++k)
      v.push_back(static_cast<char>('a' + (i + k) % 26));
    ev.values[i] = v;
  }
  std::string want = "head";
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (i != 0) want += '\t';
    want += ev.values[i];
  }
  std::string got = "head";
  write_tsv(ev, got);
  EXPECT_EQ(got, want);
  // Twice into the same buffer: the second line follows the first exactly.
  write_tsv(ev, got);
  EXPECT_EQ(got, want + want.substr(4));
}

// Views of every length 0-40 ending exactly at the end of their own heap buffer (ASan reports any
// read past it), next to string values: the line is the texts joined by tabs.
TEST(Tsv, ViewsOfEveryLengthAreCopiedWithoutReadingPastTheirText) {
  std::vector<std::unique_ptr<char[]>> buffers;
  EnrichedEvent ev;
  std::vector<std::string> want_values(kFieldCount);
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const std::size_t n = (i * 5) % 41;
    std::string v;
    for (std::size_t k = 0; k < n; ++k) v.push_back(static_cast<char>('A' + (i + k) % 26));
    if (i % 4 == 3) {
      ev.values[i] = v;
    } else {
      buffers.push_back(std::make_unique<char[]>(n));
      std::memcpy(buffers.back().get(), v.data(), n);
      ev.values.set_view(i, std::string_view(buffers.back().get(), n));
    }
    want_values[i] = v;
  }
  std::string want = "head";
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (i != 0) want += '\t';
    want += want_values[i];
  }
  std::string got = "head";
  write_tsv(ev, got);
  EXPECT_EQ(got, want);
}

// Only some columns set, in every spacing: the runs of empty columns between them come out as the
// right number of tabs.
TEST(Tsv, RunsOfEmptyColumnsOfEveryLength) {
  for (std::size_t gap = 1; gap < kFieldCount; ++gap) {
    EnrichedEvent ev;
    std::vector<std::string> cols(kFieldCount);
    for (std::size_t i = gap / 2; i < kFieldCount; i += gap) {
      cols[i] = "v" + std::to_string(i);
      ev.values[i] = cols[i];
    }
    std::string want;
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      if (i != 0) want += '\t';
      want += cols[i];
    }
    std::string got;
    write_tsv(ev, got);
    ASSERT_EQ(got, want) << "gap " << gap;
  }
}

// Views that start and end at every offset around a 4 KiB page boundary (where a 16-byte load
// from the value's start would cross into the next page, so the short copy takes exact loads),
// and long lines (values of up to 9,000 bytes, so the line buffer grows): the line is the texts
// joined by tabs.
TEST(Tsv, ViewsAroundPageBoundariesAndLongLines) {
  constexpr std::size_t kPage = 4096;
  auto* pages = static_cast<char*>(std::aligned_alloc(kPage, 4 * kPage));
  ASSERT_NE(pages, nullptr);
  for (std::size_t k = 0; k < 4 * kPage; ++k) pages[k] = static_cast<char>('a' + k % 26);
  for (std::size_t round = 0; round < 48; ++round) {
    EnrichedEvent ev;
    std::vector<std::string> cols(kFieldCount);
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      if ((i + round) % 5 == 4) continue;  // some empty columns
      std::size_t n = (i + round) % 41;
      if (round % 8 == 7 && i % 16 == 0) n = 9000 - i;
      // Start `round - 24 + i % 7` bytes around a page boundary (n <= 9000 fits in the pages).
      const std::size_t start = kPage + (round % 2 == 0 ? 0 : kPage) - 24 + round % 24 + i % 7;
      const std::string_view text(pages + start, std::min(n, 4 * kPage - start));
      cols[i] = std::string(text);
      if (i % 3 == 0) {
        ev.values[i] = cols[i];
      } else {
        ev.values.set_view(i, text);
      }
    }
    std::string want = "x";
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      if (i != 0) want += '\t';
      want += cols[i];
    }
    std::string got = "x";
    write_tsv(ev, got);
    ASSERT_EQ(got, want) << "round " << round;
  }
  std::free(pages);
}

// With byte limits: the same line when every value is within its limit; false and `out` unchanged
// when one is longer (checked at each column, first and last included).
TEST(Tsv, ByteLimitsLeaveTheOutputUnchangedWhenAValueIsLonger) {
  std::vector<std::size_t> limits(kFieldCount, 10);
  EnrichedEvent ev;
  for (std::size_t i = 0; i < kFieldCount; i += 2) ev.values[i] = std::string(i % 11, 'x');
  std::string want = "head", got = "head";
  write_tsv(ev, want);
  EXPECT_TRUE(write_tsv(ev, got, limits.data()));
  EXPECT_EQ(got, want);
  for (std::size_t i : {std::size_t{0}, std::size_t{64}, kFieldCount - 1}) {
    EnrichedEvent longer = ev;
    longer.values.set_view(i, "elevenbytes");
    std::string out = "head";
    EXPECT_FALSE(write_tsv(longer, out, limits.data())) << i;
    EXPECT_EQ(out, "head");
    limits[i] = 11;
    EXPECT_TRUE(write_tsv(longer, out, limits.data())) << i;
    limits[i] = 10;
  }
}

TEST(Tsv, RoundTripsEveryKind) {
  EnrichedEvent ev = minimal_event();
  ev[Field::txn_id] = "-28288";
  ev[Field::se_value] = "1E-7";
  ev[Field::tr_total] = "12.90";
  ev[Field::geo_latitude] = "47.2513";
  ev[Field::br_cookies] = "1";
  ev[Field::contexts] = R"({"schema":"iglu:a/b/jsonschema/1-0-1","data":[{"x":"Χαριτίνη"}]})";
  ev[Field::page_title] = "a \"quoted\" title";
  std::string line = line_of(ev) + "\r\n";
  EnrichedEvent back;
  std::string err;
  ASSERT_TRUE(read_tsv(line, back, err)) << err;
  EXPECT_EQ(back.values, ev.values);
}

struct BadCase {
  Field field;
  const char* value;
  const char* expect_in_error;
};

TEST(Tsv, RejectsBadTypedValuesNamingTheField) {
  const BadCase cases[] = {
      {Field::txn_id, "12a", "field 8 (txn_id): not a 32-bit integer: '12a'"},
      {Field::txn_id, "2147483648", "not a 32-bit integer"},
      {Field::page_urlport, "-", "page_urlport"},
      {Field::se_value, "1.2.3", "se_value): not a decimal"},
      {Field::se_value, "E5", "not a decimal"},
      {Field::geo_latitude, "north", "geo_latitude): not a floating-point"},
      {Field::geo_latitude, "nan", "geo_latitude"},
      {Field::br_features_pdf, "true", "br_features_pdf): not 0 or 1"},
      {Field::dvce_created_tstamp, "2013-10-07T23:35:30Z", "dvce_created_tstamp): not a timestamp"},
      {Field::unstruct_event, "{\"a\":", "unstruct_event): not valid JSON"},
      {Field::derived_contexts, "{} x", "trailing characters"},
      {Field::event_id, "not-a-uuid", "event_id): not a UUID"},
      {Field::v_etl, "", "v_etl): must not be empty"},
      {Field::collector_tstamp, "", "collector_tstamp): must not be empty"},
  };
  for (const auto& c : cases) {
    EnrichedEvent ev = minimal_event();
    ev[c.field] = c.value;
    EnrichedEvent out;
    std::string err;
    EXPECT_FALSE(read_tsv(line_of(ev), out, err)) << field_name(c.field);
    EXPECT_NE(err.find(c.expect_in_error), std::string::npos) << err;
  }
}

TEST(Tsv, RejectsWrongFieldCount) {
  EnrichedEvent out;
  std::string err;
  EXPECT_FALSE(read_tsv("a\tb\tc", out, err));
  EXPECT_EQ(err, "expected 131 tab-separated fields, found 3");
  EXPECT_FALSE(read_tsv(line_of(minimal_event()) + "\textra", out, err));
  EXPECT_EQ(err, "expected 131 tab-separated fields, found 132");
  EXPECT_FALSE(read_tsv("", out, err));
  std::string broken = line_of(minimal_event());
  broken.insert(3, "\n");
  EXPECT_FALSE(read_tsv(broken, out, err));
  EXPECT_NE(err.find("line break"), std::string::npos);
}

}  // namespace
}  // namespace furrow::event
