#include <gtest/gtest.h>

#include <cstring>

#include "sinks/pg_copy.h"

namespace furrow::sinks {
namespace {

using event::EnrichedEvent;
using event::Field;

// Expected values are PostgreSQL 15's own: (extract(epoch from T::timestamp) * 1000000)::bigint
// - 946684800000000 for each text T.
TEST(PgCopy, TimestampsAsPostgresStoresThem) {
  const std::pair<const char*, int64_t> cases[] = {
      {"2000-01-01 00:00:00", 0},
      {"2024-03-01 00:00:01.123", 762566401123000},
      {"1970-01-01 00:00:00", -946684800000000},
      {"0001-01-01 00:00:00", -63082281600000000},
      {"9999-12-31 23:59:59.999999", 252455615999999999},
      {"2024-02-29 12:34:56.5", 762525296500000},
      {"1999-12-31 23:59:59.000001", -999999},
      {"0099-06-15 01:02:03.04", -59975420276960000},
  };
  for (const auto& [text, want] : cases) {
    int64_t got = 1;
    EXPECT_TRUE(pg_timestamp_micros(text, got)) << text;
    EXPECT_EQ(got, want) << text;
  }
}

TEST(PgCopy, TimestampsOutsideTheExactFormAreDeclined) {
  for (const char* text :
       {"0000-01-01 00:00:00", "2023-02-29 00:00:00", "1900-02-29 00:00:00", "2024-04-31 00:00:00",
        "2024-13-01 00:00:00", "2024-01-01 24:00:00", "2024-01-01 00:60:00", "2024-01-01 00:00:60",
        "2024-01-01 00:00:00.1234567", "2024-01-01 00:00:00.", "2024-01-01 00:00:00.12a",
        "2024-01-01T00:00:00", "2024-1-01 00:00:00", "2024-01-01 00:00", "", "+024-01-01 00:00:00",
        "2024-01-01 00:00:00 "}) {
    int64_t got = 0;
    EXPECT_FALSE(pg_timestamp_micros(text, got)) << text;
  }
  int64_t leap = 0;
  EXPECT_TRUE(pg_timestamp_micros("2000-02-29 00:00:00", leap));
}

// A reader of the binary row format, independent of the writer.
struct BinaryRow {
  std::string_view data;
  std::size_t pos = 0;
  uint32_t u32() {
    unsigned char b[4];
    std::memcpy(b, data.data() + pos, 4);
    pos += 4;
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  }
  uint64_t u64() {
    const uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::string_view bytes(std::size_t n) {
    auto s = data.substr(pos, n);
    pos += n;
    return s;
  }
};

TEST(PgCopy, BinaryRowHasEveryColumnInItsWireType) {
  EnrichedEvent e;
  e[Field::app_id] = "shop\ttab\\";  // binary text needs no escaping
  e[Field::collector_tstamp] = "2000-01-01 00:00:01.5";
  e[Field::event_id] = "c6ef3124-b53a-4b13-a233-0088f79dcbcb";
  e[Field::txn_id] = "+42";
  e[Field::geo_latitude] = "-37.5";
  e[Field::tr_total] = "12.25";
  e[Field::br_cookies] = "1";
  e[Field::contexts] = R"({"a":1})";
  std::string out = "x";
  EventFields f;
  fields_of(e, f);
  ASSERT_TRUE(append_pg_binary_row(out, f, 7));
  BinaryRow r{out, 1};
  ASSERT_EQ(r.bytes(2), std::string_view("\0\x84", 2));  // 132 columns
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const uint32_t len = r.u32();
    if (e.values[i].empty()) {
      EXPECT_EQ(len, 0xFFFFFFFFu) << i;
      continue;
    }
    switch (f) {
      case Field::app_id:
      case Field::event_id:
        EXPECT_EQ(r.bytes(len), e.values[i]);
        break;
      case Field::collector_tstamp:
        ASSERT_EQ(len, 8u);
        EXPECT_EQ(static_cast<int64_t>(r.u64()), 1'500'000);
        break;
      case Field::txn_id:
        ASSERT_EQ(len, 4u);
        EXPECT_EQ(r.u32(), 42u);
        break;
      case Field::geo_latitude:
      case Field::tr_total: {
        ASSERT_EQ(len, 8u);
        const uint64_t bits = r.u64();
        double d = 0;
        std::memcpy(&d, &bits, 8);
        EXPECT_EQ(d, f == Field::tr_total ? 12.25 : -37.5);
        break;
      }
      case Field::br_cookies:
        ASSERT_EQ(len, 1u);
        EXPECT_EQ(r.bytes(1), "\x01");
        break;
      case Field::contexts:
        ASSERT_EQ(len, e.values[i].size() + 1);
        EXPECT_EQ(r.bytes(1), "\x01");  // jsonb format version
        EXPECT_EQ(r.bytes(len - 1), e.values[i]);
        break;
      default:
        ADD_FAILURE() << "unexpected field " << i;
        r.bytes(len);
    }
  }
  ASSERT_EQ(r.u32(), 8u);  // load_id
  EXPECT_EQ(r.u64(), 7u);
  EXPECT_EQ(r.pos, out.size());
}

TEST(PgCopy, BinaryDeclinesWhatOnlyTheServerShouldParse) {
  const std::pair<Field, const char*> cases[] = {
      {Field::collector_tstamp, "2024-01-01 00:00:00.1234567"},  // PostgreSQL rounds this
      {Field::txn_id, "2147483648"},
      {Field::txn_id, " 1"},
      {Field::txn_id, "+-1"},  // the server's parsers reject this; read_tsv's does not
      {Field::geo_latitude, "+-1.5"},
      {Field::geo_latitude, "1e400"},
      {Field::geo_latitude, "NaN"},
      {Field::tr_total, "1,5"},
      {Field::br_cookies, "t"},
  };
  for (const auto& [field, value] : cases) {
    EnrichedEvent e;
    e[Field::event_id] = "c6ef3124-b53a-4b13-a233-0088f79dcbcb";
    e[field] = value;
    std::string out = "kept";
    EventFields f;
    fields_of(e, f);
    EXPECT_FALSE(append_pg_binary_row(out, f, 1)) << value;
    EXPECT_EQ(out, "kept");
  }
}

TEST(PgCopy, TextRowEscapesOnlyWhatCopyNeeds) {
  EnrichedEvent e;
  e[Field::app_id] = "a\\b\tc\nd\re";
  e[Field::platform] = "web";
  e[Field::page_title] = "caf\xC3\xA9 \"quoted\"";
  std::string out;
  EventFields f;
  fields_of(e, f);
  append_pg_text_row(out, f, "12");
  std::string want = "a\\\\b\\tc\\nd\\re\tweb";
  for (std::size_t i = 2; i < event::kFieldCount; ++i) {
    want += '\t';
    want += static_cast<Field>(i) == Field::page_title ? e[Field::page_title] : "\\N";
  }
  want += "\t12\n";
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace furrow::sinks
