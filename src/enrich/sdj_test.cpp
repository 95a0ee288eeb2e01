// The no-validator fast paths for the contexts and unstruct_event columns against the DOM path:
// the fast path may decline an input, but whenever it accepts one its output must be the DOM
// path's output, byte for byte, with no message.
#include "enrich/sdj.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

namespace furrow::enrich {
namespace {

constexpr int kDepth = 50;

struct Compared {
  bool fast = false;
  SdjResult dom;
  std::string column, event_schema;
};

Compared contexts(std::string_view json) {
  Compared c;
  c.fast = fast_contexts_column(json, kDepth, c.column);
  process_contexts(json, ValidationSettings{}, kDepth, c.dom, /*allow_fast=*/false);
  if (c.fast) {
    EXPECT_EQ(c.column, c.dom.column) << json;
    EXPECT_TRUE(c.dom.messages.empty()) << json;
  }
  return c;
}

Compared unstruct(std::string_view json) {
  Compared c;
  c.fast = fast_unstruct_column(json, kDepth, c.column, c.event_schema);
  process_unstruct(json, ValidationSettings{}, kDepth, c.dom, /*allow_fast=*/false);
  if (c.fast) {
    EXPECT_EQ(c.column, c.dom.column) << json;
    EXPECT_EQ(c.event_schema, c.dom.event_schema) << json;
    EXPECT_TRUE(c.dom.messages.empty()) << json;
  }
  return c;
}

std::string co(
    const std::string& entities,
    const char* schema = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0") {
  return std::string("{\"schema\":\"") + schema + "\",\"data\":[" + entities + "]}";
}

const std::string kWebPage =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"a-b"}})";

TEST(SdjFastPath, TrackerContextsAreCopiedCompactly) {
  const auto c = contexts(co(kWebPage + "," + kWebPage));
  ASSERT_TRUE(c.fast);
  EXPECT_EQ(c.column,
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
            "\"data\":[" +
                kWebPage + "," + kWebPage + "]}");
  // Whitespace, extra members (dropped), every kind of value and UTF-8 text.
  const auto d = contexts(
      " { \"data\" : [ { \"data\" : { \"a\" : [ 1 , -2 , 0 , 12.99 , true , false , null ,"
      " { } , [ ] , \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\" ] } , \"x\" : 1 , \"schema\" : "
      "\"iglu:com.acme/e/jsonschema/1-0-0\" } ] , \"schema\" : "
      "\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\" , \"other\":{\"k\":[]} "
      "}\n");
  EXPECT_TRUE(d.fast);
  // No entity: a null column either way.
  const auto e = contexts(co(""));
  EXPECT_TRUE(e.fast);
  EXPECT_TRUE(e.column.empty());
}

TEST(SdjFastPath, UnstructEventKeepsTheInnerSchema) {
  const auto u =
      unstruct(R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",)"
               R"("data":{"schema":"iglu:com.acme/add_to_cart/jsonschema/1-0-0",)"
               R"("data":{"sku":"x","quantity":2,"unitPrice":41.99,"currency":"GBP"}}})");
  ASSERT_TRUE(u.fast);
  EXPECT_EQ(u.event_schema, "iglu:com.acme/add_to_cart/jsonschema/1-0-0");
}

TEST(SdjFastPath, NumbersRapidJsonWouldRewriteAreDeclined) {
  // RapidJSON reads these as doubles (or -0 as 0) and writes them differently.
  for (const char* n : {"1.50", "1e2", "1E+2", "-0", "0.1e1", "12345678901234567890", "1.0e0",
                        "100000000000000000000000.0"}) {
    const auto c = contexts(
        co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + n + "}"));
    EXPECT_FALSE(c.fast) << n;
  }
  // ... while these come back unchanged and are copied.
  for (const char* n : {"1.5", "0.001", "-3", "123456789012345678", "1.0", "49.99"}) {
    const auto c = contexts(
        co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + n + "}"));
    EXPECT_TRUE(c.fast) << n;
  }
}

TEST(SdjFastPath, DeclinesEverythingThatNeedsTheDomPath) {
  const std::vector<std::string> inputs = {
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":"a\"b"})"),  // escape
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":"\u00e9"})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0"})"),         // no data
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0","data":1})"),  // bad SchemaVer
      co(R"({"schema":1,"data":1})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":1,"data":2})"),  // duplicate
      co("1"),                                                                   // not an object
      co(kWebPage, "iglu:com.acme/contexts/jsonschema/1-0-0"),                   // criterion
      co(kWebPage) + "x",
      co(kWebPage).substr(0, 30),
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":{}})",
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\xC3\x28" +
         "\"}"),  // invalid UTF-8
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\xED\xA0\x80" +
         "\"}"),  // encoded surrogate
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":")") + "\x01" + "\"}"),
      co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") +
         std::string(60, '[') + std::string(60, ']') + "}"),  // too deep
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":01})"),
      co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":tru})"),
      "",
  };
  for (const auto& in : inputs) {
    EXPECT_FALSE(contexts(in).fast) << in;
    EXPECT_FALSE(unstruct(in).fast) << in;
  }
}

TEST(SdjFastPath, NestingAtTheLimitIsLeftToTheDomPath) {
  for (int depth = 40; depth <= 52; ++depth) {
    const std::string data = std::string(static_cast<std::size_t>(depth), '[') +
                             std::string(static_cast<std::size_t>(depth), ']');
    contexts(co(std::string(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":)") + data +
                "}"));  // the helper checks agreement whenever the fast path accepts
  }
}

// Random edits of tracker-shaped contexts: whenever the fast path accepts, the helper checks
// that it agrees with the DOM path; both outcomes must occur.
TEST(SdjFastPath, RandomMutationsOfContextsAgreeWithTheDomPath) {
  const std::string base =
      co(kWebPage + R"(,{"schema":"iglu:com.acme/x_y/jsonschema/1-0-2","data":{"a":[1,2.5,"s"],)"
                    R"("b":{"c":null,"d":true},"e":")"
                    "\xC3\xA9"
                    R"("}},)"
                    R"({"data":{"k":"v"},"schema":"iglu:com.acme.sub/n-m/jsonschema/2-1-0"})");
  const std::string alphabet = "{}[]\":, \n0123456789-.eEtrufalsn\\/abcxyz_\xC3\xA9";
  std::mt19937 rng(1128);
  int fast = 0, declined = 0;
  for (int n = 0; n < 4000; ++n) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 3:  // whitespace, which keeps most texts valid
          s.insert(at, 1, " \n\t\r"[rng() % 4]);
          break;
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1 + rng() % 3);
          break;
        default:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
      if (s.empty()) s = "x";
    }
    const auto c = contexts(s);
    if (::testing::Test::HasFailure()) return;
    (c.fast ? fast : declined)++;
  }
  EXPECT_GT(fast, 100);
  EXPECT_GT(declined, 100);
}

TEST(SdjFastPath, SpecialBytesAtEveryOffsetOfEveryBlock) {
  // Strings are skipped 16 bytes at a time, then by words: a quote (escaped), backslash, control,
  // DEL or non-ASCII byte at every offset of strings of every length up to 40, the string
  // starting at every offset of a block, must be found there. Plain and valid UTF-8 strings are
  // accepted; the helper checks agreement with the DOM path whenever the fast path accepts.
  const std::string specials[] = {"\\\"", "\\\\", "\x01", "\x1f", "\x7f", "\xC3\xA9", "\xC3", "~"};
  int fast = 0;
  for (std::size_t shift = 0; shift < 16; ++shift) {
    for (std::size_t len = 0; len <= 40; ++len) {
      for (const std::string& special : specials) {
        for (std::size_t at = 0; at <= len; at += (len > 20 ? 3 : 1)) {
          std::string value(len, 'v');
          value.insert(at, special);
          const std::string in = co(R"({"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{")" +
                                    std::string(shift, 'k') + R"(":")" + value + "\"}}");
          const auto c = contexts(in);
          if (::testing::Test::HasFailure()) return;
          const bool plain = special == "~" || special == "\x7f" || special == "\xC3\xA9";
          EXPECT_EQ(c.fast, plain) << in;
          fast += c.fast ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(fast, 3000);
}

// The Iglu URI rules stated as iglu-core does: split at the first three slashes, check each part.
bool reference_iglu_uri(std::string_view s, IgluUri& out, const char*& code) {
  auto vendor_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  };
  code = "INVALID_IGLUURI";
  if (s.substr(0, 5) != "iglu:") return false;
  s.remove_prefix(5);
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const std::size_t slash = s.find('/');
    if (slash == std::string_view::npos) return false;
    parts[i] = s.substr(0, slash);
    s.remove_prefix(slash + 1);
  }
  parts[3] = s;
  for (int i = 0; i < 3; ++i) {
    if (parts[i].empty()) return false;
    for (char c : parts[i]) {
      if (!vendor_char(c) || (i > 0 && c == '.')) return false;
    }
  }
  code = "INVALID_SCHEMAVER";
  // SchemaVer stated as a regular expression, independently of the scanner under test.
  static const std::regex kSchemaVer("[0-9]+-[0-9]+-[0-9]+");
  if (!std::regex_match(parts[3].begin(), parts[3].end(), kSchemaVer)) return false;
  out = IgluUri{parts[0], parts[1], parts[2], parts[3]};
  code = nullptr;
  return true;
}

// parse_iglu_uri against the reference on `s`: the same verdict, the same code and, when both
// parse, the same four parts. `parsed` and `code` ("null" when parsed) say what both gave.
testing::AssertionResult same_as_reference(const std::string& s, bool& parsed,
                                           std::string_view& code) {
  IgluUri got, want;
  const char* got_code = "unset";
  const char* want_code = "unset";
  parsed = parse_iglu_uri(s, got, got_code);
  if (parsed != reference_iglu_uri(s, want, want_code)) {
    return testing::AssertionFailure() << "verdicts differ";
  }
  code = got_code ? got_code : "null";
  const std::string_view want_sv = want_code ? want_code : "null";
  if (code != want_sv) {
    return testing::AssertionFailure() << "codes differ: " << code << " vs " << want_sv;
  }
  if (parsed && (got.vendor != want.vendor || got.name != want.name || got.format != want.format ||
                 got.version != want.version)) {
    return testing::AssertionFailure() << "parts differ";
  }
  return testing::AssertionSuccess();
}

TEST(IgluUri, AgreesWithSplittingAtSlashesOnRandomMutations) {
  const std::string alphabet = "/.-_:aZ09 \xC3\xA9";
  std::mt19937 rng(2026);
  int ok = 0, bad_uri = 0, bad_ver = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string s = n % 2 ? "iglu:com.acme.a-b_c/name_x-y/jsonschema/1-10-2"
                          : "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0";
    const int edits = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      if (rng() % 2) {
        s[at] = alphabet[rng() % alphabet.size()];
      } else {
        s.erase(at, 1);
      }
      if (s.empty()) s = "i";
    }
    bool g = false;
    std::string_view code;
    ASSERT_TRUE(same_as_reference(s, g, code)) << s;
    if (g) {
      ++ok;
    } else {
      (code == "INVALID_IGLUURI" ? bad_uri : bad_ver)++;
    }
  }
  EXPECT_GT(ok, 1000);
  EXPECT_GT(bad_uri, 1000);
  EXPECT_GT(bad_ver, 100);
}

TEST(IgluUri, EveryByteAtEveryOffsetOfLongPartsAgreesWithTheReference) {
  // Parts long enough for whole 16-byte blocks (vendor 37, name 21, format 18 characters) and
  // short ones (tails classified as the string's last 16 bytes): each of the 256 byte values at
  // each place after "iglu:".
  int ok = 0;
  for (const std::string base :
       {"iglu:com.snowplowanalytics.snowplow-x_Y/Contexts_web-page_01/jsonschema_9-Az-/1-0-0",
        "iglu:a.b/c/jsonschema/1-0-0", "iglu:a/b/c/1-0-0", "iglu:com.acme/e/f/12-0-3"})
    for (std::size_t at = 5; at < base.size(); ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s = base;
        s[at] = static_cast<char>(b);
        bool g = false;
        std::string_view code;
        ASSERT_TRUE(same_as_reference(s, g, code)) << at << " " << b;
        if (g) ++ok;
      }
    }
  EXPECT_GT(ok, 4000);
}

// The per-thread memo: the same URI again (in another buffer) gets parts that are views into the
// new text, not into the memo or the first buffer; a URI differing in one byte from a remembered
// one (same length, same slot or not) is scanned, not taken from the memo; and many URIs sharing
// slots give the scan's answers whatever was remembered before.
TEST(IgluUri, RememberedUrisGiveViewsIntoTheTextAskedAbout) {
  const std::string first = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0";
  IgluUri a, b;
  const char* code = "unset";
  ASSERT_TRUE(parse_iglu_uri(first, a, code));
  const std::string again = first;  // same text, another buffer
  ASSERT_TRUE(parse_iglu_uri(again, b, code));
  EXPECT_EQ(code, nullptr);
  EXPECT_EQ(b.vendor.data(), again.data() + 5);
  EXPECT_EQ(b.name, "web_page");
  EXPECT_EQ(b.name.data(), again.data() + 36);
  EXPECT_EQ(b.format, "jsonschema");
  EXPECT_EQ(b.version, "1-0-0");
  EXPECT_EQ(b.version.data() + b.version.size(), again.data() + again.size());
  for (std::size_t at = 0; at < first.size(); ++at) {
    for (const char c : {'/', '!', 'x', '.', '-'}) {
      std::string s = first;
      if (s[at] == c) continue;
      s[at] = c;
      bool g = false;
      std::string_view cd;
      ASSERT_TRUE(parse_iglu_uri(first, a, code));  // remembered right before each variant
      ASSERT_TRUE(same_as_reference(s, g, cd)) << s;
      ASSERT_TRUE(same_as_reference(s, g, cd)) << s;  // and again, now perhaps remembered itself
    }
  }
  std::mt19937 rng(7);
  for (int n = 0; n < 5000; ++n) {
    std::string s = "iglu:com.acme/event_" + std::to_string(rng() % 200) + "/jsonschema/" +
                    std::to_string(rng() % 3) + "-0-" + std::to_string(rng() % 12);
    if (rng() % 4 == 0) s[5 + rng() % (s.size() - 5)] = static_cast<char>(rng() % 128);
    bool g = false;
    std::string_view cd;
    ASSERT_TRUE(same_as_reference(s, g, cd)) << s;
  }
}

}  // namespace
}  // namespace furrow::enrich
