#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event/tsv.h"
#include "sinks/loader.h"
#include "sinks/loader_test_events.h"
#include "sinks/pg_fields.h"

namespace furrow::sinks {
namespace {

using event::Field;
using event::FieldKind;

// What the loader's exact checks say about a line: read_tsv, then storable_value on every value.
bool exact_accept(std::string_view line, event::EnrichedEvent& ev) {
  std::string error;
  if (!event::read_tsv(line, ev, error)) return false;
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    if (!storable_value(i, ev.values[i], error)) return false;
  }
  return true;
}

// Values that probe every check, per column kind, plus ones any column may hold.
std::vector<std::string> probes(FieldKind kind, std::size_t max_chars) {
  std::vector<std::string> v = {"",
                                "x",
                                "caf\xC3\xA9",
                                "bad \xC3 utf8",
                                "\xED\xA0\x80",
                                std::string("nul\0byte", 8),
                                "line\nbreak",
                                "cr\rhere",
                                "ctrl\x01",
                                "\x7F",
                                "0",
                                "1",
                                "-1",
                                "+-5",
                                " 1"};
  switch (kind) {
    case FieldKind::kString:
      if (max_chars > 0) {
        v.push_back(std::string(max_chars, 'a'));
        v.push_back(std::string(max_chars + 1, 'a'));
        std::string wide;  // max_chars characters, twice as many bytes
        for (std::size_t i = 0; i < max_chars; ++i) wide += "\xC3\xA9";
        v.push_back(wide);
        v.push_back(wide + "\xC3\xA9");
      }
      break;
    case FieldKind::kTimestamp:
      for (const char* s :
           {"2024-03-01 10:00:00", "2024-03-01 10:00:00.123", "2024-03-01 10:00:00.123456789",
            "2024-03-01 10:00:00.1234567890", "0000-01-01 00:00:00", "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999", "2023-02-29 00:00:00", "2024-02-29 00:00:00",
            "2024-03-01T10:00:00", "2024-03-01 24:00:00", "2024-03-01 10:00:00.",
            "2024-03-01 10:00:00 "}) {
        v.push_back(s);
      }
      break;
    case FieldKind::kInt:
      for (const char* s : {"+42", "2147483647", "2147483648", "-2147483648", "-2147483649", "1.0",
                            "0x10", "+", "00012"}) {
        v.push_back(s);
      }
      break;
    case FieldKind::kDecimal:
    case FieldKind::kFloat:
      for (const char* s : {"1.5", "+1.5", "-.5", "1.", ".", "1e5", "1E+5", "1e", "1e400", "inf",
                            "-Infinity", "nan", "NaN", "1,5", "4.9e-324", "1e-400", "0x1p3"}) {
        v.push_back(s);
      }
      break;
    case FieldKind::kBool01:
      for (const char* s : {"2", "t", "true", "01"}) v.push_back(s);
      break;
    case FieldKind::kJson:
      for (const char* s :
           {R"({"a":1})", R"([1,2,{"b":null}])", R"({"a":"\u0000"})", R"({"a":"\\u0000"})",
            R"({"a":"\u00e9\ud83d\ude00"})", R"({"a":"\ud800"})", R"({"a":1e400})", R"({"a":1} )",
            R"({"a":1}x)", R"({"a":)", R"({'a':1})", "{\"a\":\"caf\xC3\xA9\"}", "{\"a\":\"\xC3\"}",
            R"("str")", "[]", "{\"a\":\"tab\\there\"}"}) {
        v.push_back(s);
      }
      break;
  }
  return v;
}

TEST(PgFields, QuickAcceptNeverAcceptsWhatTheExactChecksReject) {
  const auto& infos = event::field_infos();
  std::size_t quick = 0, exact = 0, cases = 0;
  event::EnrichedEvent ev;
  EventFields f;
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    for (const std::string& value : probes(infos[i].kind, infos[i].max_length)) {
      auto e = testing::sample_event(static_cast<int>(cases));
      e.values[i] = value;
      const std::string line = testing::tsv(e);
      const bool want = exact_accept(line, ev);
      const bool got = quick_accept_enriched(line, f);
      ++cases;
      exact += want;
      quick += got;
      if (got) {
        ASSERT_TRUE(want) << "field " << infos[i].name << " value '" << value << "'";
        for (std::size_t k = 0; k < event::kFieldCount; ++k) ASSERT_EQ(f[k], ev.values[k]);
      }
    }
  }
  // The quick path must take the ordinary lines, or it saves nothing.
  EXPECT_GT(cases, 2000u);
  EXPECT_GT(quick, exact * 9 / 10) << quick << " of " << exact << " accepted lines";
}

// furrow run's lines from its own enrich: the JSON columns are not parsed, everything else is
// checked as before. The only lines the trusted check takes beyond the full one are ones whose
// sole fault is malformed JSON inside '{' ... '}' (which enrich's JSON writers cannot produce);
// invalid UTF-8, NUL bytes, lengths and the \u0000 escape are still refused in JSON columns too.
// It declines a JSON value that is not an object, which the loader's exact checks then decide.
TEST(PgFields, TrustedJsonSkipsOnlyTheJsonParse) {
  const auto& infos = event::field_infos();
  std::size_t extra = 0, cases = 0;
  event::EnrichedEvent ev;
  EventFields f, g;
  std::string why;
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    for (const std::string& value : probes(infos[i].kind, infos[i].max_length)) {
      auto e = testing::sample_event(static_cast<int>(cases++));
      e.values[i] = value;
      const std::string line = testing::tsv(e);
      const bool full = quick_accept_enriched(line, f);
      const bool trusted = quick_accept_enriched(line, g, true);
      if (full && trusted) {
        ASSERT_EQ(f, g);
      }
      if (full && !trusted) {
        // Only a JSON value that is not an object is declined (the exact checks then decide).
        ASSERT_EQ(infos[i].kind, FieldKind::kJson) << infos[i].name << " '" << value << "'";
        ASSERT_TRUE(value.front() != '{' || value.back() != '}') << value;
      }
      if (!trusted || exact_accept(line, ev)) continue;
      ++extra;
      ASSERT_EQ(infos[i].kind, FieldKind::kJson) << infos[i].name << " '" << value << "'";
      EXPECT_FALSE(event::valid_tsv_json(value, why)) << value;
      EXPECT_TRUE(storable_value(i, value, why)) << value;
      EXPECT_EQ(value.front(), '{');
      EXPECT_EQ(value.back(), '}');
    }
  }
  // The probes hold malformed JSON objects ("{'a':1}", a number out of range): the trusted path
  // takes them, which shows that the parse really is skipped.
  EXPECT_GT(extra, 0u);
  const std::vector<std::string> refused = {
      R"({"a":"\u0000"})", "{\"a\":\"\xC3\"}", std::string("{\"a\":\"\0\"}", 9), R"({"a":)", "[1]",
      R"("str")"};
  for (Field json : {Field::contexts, Field::derived_contexts, Field::unstruct_event}) {
    for (const std::string& value : refused) {
      auto e = testing::sample_event(7);
      e[json] = value;
      EXPECT_FALSE(quick_accept_enriched(testing::tsv(e), f, true)) << value;
    }
  }
}

TEST(PgFields, WholeLineShapes) {
  EventFields f;
  const std::string good = testing::tsv(testing::sample_event(1));
  ASSERT_TRUE(quick_accept_enriched(good, f));
  EXPECT_EQ(f[static_cast<std::size_t>(Field::app_id)], "shop");
  EXPECT_EQ(f[static_cast<std::size_t>(Field::br_cookies)], "1");
  EXPECT_EQ(f[event::kFieldCount - 1], "");
  EXPECT_FALSE(quick_accept_enriched(good + "\t", f));
  EXPECT_FALSE(quick_accept_enriched(good.substr(0, good.rfind('\t')), f));
  EXPECT_FALSE(quick_accept_enriched("", f));
  EXPECT_FALSE(quick_accept_enriched("not\ta\tline", f));
  EXPECT_FALSE(quick_accept_enriched(good + "\n", f));
  // Required columns.
  for (Field req : {Field::collector_tstamp, Field::event_id, Field::v_collector, Field::v_etl}) {
    auto e = testing::sample_event(2);
    e[req] = "";
    EXPECT_FALSE(quick_accept_enriched(testing::tsv(e), f)) << static_cast<int>(req);
  }
  auto e = testing::sample_event(3);
  e[Field::event_id] = "not-a-uuid";
  EXPECT_FALSE(quick_accept_enriched(testing::tsv(e), f));
}

TEST(PgFields, SplitGivesTheSameFieldsAsTheQuickPath) {
  auto e = testing::sample_event(4);
  e[Field::true_tstamp] = "2024-03-01 10:00:00.000";
  e[Field::app_id] = "";
  const std::string line = testing::tsv(e);
  EventFields a, b, c;
  ASSERT_TRUE(quick_accept_enriched(line, a));
  split_enriched(line, b);
  fields_of(e, c);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace furrow::sinks
