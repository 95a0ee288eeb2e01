#include "common/url_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace furrow::common {
namespace {

TEST(UrlCodec, DecodesLikeUrlEncodedUtils) {
  EXPECT_EQ(url_decode("alex+123"), "alex 123");
  EXPECT_EQ(url_decode("Europe%2FLondon"), "Europe/London");
  EXPECT_EQ(url_decode("%2b%2B"), "++");
  EXPECT_EQ(url_decode("%CE%A7%CE%B1%CF%81"), "\xCE\xA7\xCE\xB1\xCF\x81");  // Χαρ
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode(""), "");
  // Invalid UTF-8 after decoding becomes U+FFFD.
  EXPECT_EQ(url_decode("a%FFb"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(url_decode("%E2%82"), "\xEF\xBF\xBD");
}

TEST(UrlCodec, Utf8RepairKeepsValidInput) {
  std::string out;
  EXPECT_TRUE(utf8_repair_append("h\xC3\xA9llo \xF0\x9F\x98\x80", out));
  EXPECT_EQ(out, "h\xC3\xA9llo \xF0\x9F\x98\x80");
  out.clear();
  EXPECT_FALSE(utf8_repair_append("\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80", out));
  // Overlong, surrogate and out-of-range forms are each replaced byte by byte.
  EXPECT_EQ(out,
            "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(UrlCodec, Utf8ValidityAgreesWithRepair) {
  // Invalid sequences placed before, inside and after the eight-byte ASCII words.
  const std::string_view bad[] = {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82",
                                  "\xFF"};
  const std::string_view good[] = {"\xC3\xA9", "\xF0\x9F\x98\x80", "\xE2\x82\xAC"};
  for (std::size_t pad = 0; pad < 20; ++pad) {
    const std::string ascii(pad, 'a');
    for (auto b : bad) {
      for (const std::string& s :
           {ascii + std::string(b), std::string(b) + ascii, ascii + std::string(b) + ascii}) {
        std::string out;
        EXPECT_FALSE(is_valid_utf8(s)) << pad;
        EXPECT_FALSE(utf8_repair_append(s, out));
      }
    }
    for (auto g : good) {
      const std::string s = ascii + std::string(g) + ascii + std::string(g);
      std::string out;
      EXPECT_TRUE(is_valid_utf8(s)) << pad;
      EXPECT_TRUE(utf8_repair_append(s, out));
    }
  }
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(UrlCodec, Utf8ValidityAgreesWithRepairOnRandomText) {
  // Mostly ASCII with multi-byte sequences, truncated sequences and stray bytes at random places,
  // so that the 32-, 16- and 8-byte ASCII skips end at every offset: the verdict must be the
  // repair's (which checks byte by byte).
  const std::string_view pieces[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                     "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82",
                                     "\xFF",     "\x80"};
  std::mt19937 rng(11);
  int valid = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string s;
    const std::size_t len = rng() % 200;
    while (s.size() < len) {
      if (rng() % 24 == 0) {
        // Mostly valid sequences, sometimes an invalid one.
        s += pieces[rng() % 8 < 6 ? rng() % 3 : 3 + rng() % 5];
      } else {
        s.push_back(static_cast<char>(rng() % 0x80));
      }
    }
    std::string out;
    const bool want = utf8_repair_append(s, out);
    ASSERT_EQ(is_valid_utf8(s), want) << s;
    valid += want ? 1 : 0;
  }
  EXPECT_GT(valid, 400);
  EXPECT_LT(valid, 3600);
}

// Long ASCII runs with a few multi-byte sequences (valid or not) anywhere: after each sequence
// the check goes back to 64- and 32-byte blocks, which must end exactly where the runs do.
TEST(UrlCodec, Utf8ValidityWithSparseSequencesAgreesWithRepair) {
  const std::string_view pieces[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                     "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82",
                                     "\xFF",     "\x80"};
  std::mt19937 rng(12);
  int valid = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const std::size_t len = rng() % 700;
    const unsigned gap = 20 + rng() % 300;
    while (s.size() < len) {
      if (rng() % gap == 0) {
        s += pieces[rng() % 10 < 8 ? rng() % 3 : 3 + rng() % 5];
      } else {
        s.push_back(static_cast<char>(rng() % 0x80));
      }
    }
    std::string out;
    const bool want = utf8_repair_append(s, out);
    ASSERT_EQ(is_valid_utf8(s), want) << s;
    valid += want ? 1 : 0;
  }
  EXPECT_GT(valid, 300);
  EXPECT_LT(valid, 2700);
}

// Byte-by-byte statements of the two rules, for the word-at-a-time implementations.
std::string reference_decode(std::string_view in) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string raw;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      raw.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      raw.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      raw.push_back(in[i]);
    }
  }
  std::string out;
  utf8_repair_append(raw, out);
  return out;
}

std::string reference_blanks(std::string_view in) {
  std::string out;
  bool pending = false;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending = !out.empty();
    } else {
      if (pending) out.push_back(' ');
      pending = false;
      out.push_back(c);
    }
  }
  return out;
}

TEST(UrlCodec, WordAtATimeDecodingAgreesWithByteRules) {
  const std::string pieces[] = {"%",    "+", "%2F", "%C3%A9", "%E2%82", "%FF", "%zz", "\xC3\xA9",
                                "\xFF", " ", "\t",  "\n",     "a",      "Bc9", "%4",  "  "};
  std::mt19937 rng(5);
  for (int round = 0; round < 4000; ++round) {
    std::string in;
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) {
      in += rng() % 3 == 0 ? pieces[rng() % std::size(pieces)] : std::string(rng() % 9, 'x');
    }
    std::string out = "kept:";
    url_decode_append(in, out);
    ASSERT_EQ(out, "kept:" + reference_decode(in)) << in;
    std::string scratch;
    ASSERT_EQ(normalize_blanks(in, scratch), reference_blanks(in)) << in;
  }
}

TEST(UrlCodec, ParsesPairsWithAndWithoutValues) {
  QueryPairs pairs;
  parse_query_string("e=pv&flag&empty=&uid=alex+123&;&=orphan&tz=Europe%2FLondon;x=1&e=se", pairs);
  ASSERT_EQ(pairs.size(), 7u);
  EXPECT_EQ(pairs[0].first, "e");
  EXPECT_EQ(pairs[0].second, "pv");
  EXPECT_EQ(pairs[1].first, "flag");
  EXPECT_FALSE(pairs[1].second.has_value());
  EXPECT_EQ(pairs[2].first, "empty");
  EXPECT_EQ(pairs[2].second, "");
  EXPECT_EQ(pairs[3].second, "alex 123");
  EXPECT_EQ(pairs[4].second, "Europe/London");
  EXPECT_EQ(pairs[5].first, "x");
  EXPECT_EQ(pairs[6].second, "se");  // duplicates are kept in order; the map keeps the last
  pairs.clear();
  parse_query_string("", pairs);
  EXPECT_TRUE(pairs.empty());
}

TEST(UrlCodec, ValueMayContainEquals) {
  QueryPairs pairs;
  parse_query_string("u=a=b%3Dc", pairs);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].second, "a=b=c");
}

TEST(UrlCodec, BlanksAreTrimmedAndCollapsed) {
  std::string scratch;
  EXPECT_EQ(normalize_blanks("  a \t b  ", scratch), "a b");
  EXPECT_EQ(normalize_blanks("a b", scratch), "a b");
  EXPECT_EQ(normalize_blanks("\n", scratch), "");
}

TEST(UrlCodec, UriSyntaxCheckMatchesJavaNetUri) {
  EXPECT_TRUE(is_valid_uri_query(""));
  EXPECT_TRUE(
      is_valid_uri_query("e=pv&url=http%3A%2F%2Fa.com%2F&x=[1]&y=a:b@c/d?e,f$g!h~i*j'k(l)"));
  EXPECT_TRUE(is_valid_uri_query("se_la=\xCE\xA7\xCE\xB1"));  // raw non-ASCII letters are fine
  EXPECT_TRUE(is_valid_uri_query("a=1#frag=2"));
  std::string why;
  EXPECT_FALSE(is_valid_uri_query("e=pv&page=Hello World", &why));
  EXPECT_NE(why.find("Illegal character in query at index 33"), std::string::npos) << why;
  for (const char* bad :
       {"a={}", "a=\"x\"", "a=|", "a=\\", "a=^", "a=`", "a=<", "a=>", "a=1#b#c", "a=%", "a=%4",
        "a=%G1", "a=\t", "a=\x7f", "a=\xC2\xA0", "a=\xE3\x80\x80", "a=\xC2\x85"}) {
    EXPECT_FALSE(is_valid_uri_query(bad)) << bad;
  }
  EXPECT_EQ(query_part("a=1#b=2"), "a=1");
  EXPECT_EQ(query_part("a=1"), "a=1");
}

// The block scan of is_valid_uri_query against the byte-by-byte loop: same verdict and same
// message (character and index) for every kind of byte at every offset of a 32-byte block, inside
// queries long enough for several blocks.
TEST(UrlCodec, UriQueryBlockScanAgreesWithByteRuleAtEveryOffset) {
  const std::string base =
      "e=pv&url=https%3A%2F%2Fshop.example.com%2Fa%3Fb%3Dc&page=Tea%20leaves&tv=js-4.6.8&aid=shop"
      "&p=web&dtm=1767225599954&cx=eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93&x=[1]"
      "&y=a:b@c/d?e,f$g!h~i*j'k(l)";
  const std::vector<std::string> pieces = {"%",
                                           "%4",
                                           "%41",
                                           "%4g",
                                           "%g4",
                                           "%%41",
                                           "#",
                                           "##",
                                           " ",
                                           "\"",
                                           "{",
                                           "|",
                                           "\\",
                                           "^",
                                           "`",
                                           "<",
                                           "\x7f",
                                           std::string(1, '\0'),
                                           "\t",
                                           "\x80",
                                           "\xFF",
                                           "\xC3\xA9",
                                           "\xC2\xA0",
                                           "\xE2\x82",
                                           "\xE2\x82\xAC",
                                           "\xE3\x80\x80",
                                           "\xF0\x9F\x98\x80",
                                           "\xC2\x85",
                                           "+",
                                           "=",
                                           "&",
                                           ";",
                                           "%7E%7e"};
  int checked = 0;
  for (const auto& piece : pieces) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      for (std::size_t cut : {base.size(), std::size_t{64}, std::size_t{40}}) {
        std::string q = base.substr(0, std::max(cut, at));
        q.insert(at, piece);
        std::string why_fast, why_bytes;
        const bool fast = is_valid_uri_query(q, &why_fast);
        const bool bytes = detail::is_valid_uri_query_bytewise(q, &why_bytes);
        ASSERT_EQ(fast, bytes) << "piece " << piece << " at " << at << ": " << q;
        ASSERT_EQ(why_fast, why_bytes) << q;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(UrlCodec, UriQueryBlockScanAgreesWithByteRuleOnRandomText) {
  std::mt19937 rng(41);
  const std::string alphabet =
      "abcXYZ0189AFaf%%%%%%#&=;+-_.!~*'()/?:@,$[]"
      "\x20\x22\x7f\x80\xC3\xA9\xE2\x82\xAC";
  int valid = 0;
  const int total = 6000;
  for (int n = 0; n < total; ++n) {
    std::string q(32 + rng() % 150, 'a');
    // Mostly plain text and escapes, with a few other bytes.
    for (auto& c : q) {
      const unsigned r = rng() % 100;
      c = r < 70 ? "abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36]
                 : alphabet[rng() % alphabet.size()];
    }
    std::string why_fast, why_bytes;
    const bool fast = is_valid_uri_query(q, &why_fast);
    ASSERT_EQ(fast, detail::is_valid_uri_query_bytewise(q, &why_bytes)) << q;
    ASSERT_EQ(why_fast, why_bytes) << q;
    valid += fast ? 1 : 0;
  }
  EXPECT_GT(valid, total / 50);
  EXPECT_LT(valid, total - total / 50);
}

TEST(UrlCodec, EncodeRoundTrips) {
  std::string s = "https://github.com/snowplow/snowplow?a=b c&d=\xCE\xA7+";
  EXPECT_EQ(url_encode("https://github.com/x"), "https%3A%2F%2Fgithub.com%2Fx");
  EXPECT_EQ(url_decode(url_encode(s)), s);
  EXPECT_TRUE(is_valid_uri_query("u=" + url_encode(s)));
}

}  // namespace
}  // namespace furrow::common
