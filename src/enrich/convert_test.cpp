#include "enrich/convert.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>

namespace furrow::enrich {
namespace {

// The rule tsv_safe implements, byte by byte: tab -> four spaces, other C0 controls and DEL
// dropped, everything else kept.
std::string tsv_safe_by_bytes(const std::string& in) {
  std::string want;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      want += "    ";
    } else if (u >= 0x20 && u != 0x7F) {
      want.push_back(c);
    }
  }
  return want;
}

TEST(Convert, TsvSafeAgreesWithByteByByteRules) {
  // Tab -> four spaces, other C0 controls and DEL dropped, everything else (UTF-8 included)
  // kept; controls at every offset of strings longer than the eight-byte blocks.
  std::mt19937 rng(3);
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    const int len = static_cast<int>(rng() % 70);
    for (int i = 0; i < len; ++i) {
      const unsigned r = rng() % 20;
      in.push_back(r == 0   ? static_cast<char>(rng() % 0x20)
                   : r == 1 ? '\x7F'
                   : r == 2 ? static_cast<char>(0x80 + rng() % 0x80)
                            : static_cast<char>(0x20 + rng() % 0x5F));
    }
    const std::string want = tsv_safe_by_bytes(in);
    std::string out = "stale";
    tsv_safe(in, out);
    ASSERT_EQ(out, want) << in;
    // tsv_clean: exactly when tsv_safe gives the text back (the pipeline then takes it as it is).
    ASSERT_EQ(tsv_clean(in), want == in) << in;
  }
}

TEST(Convert, TsvSafeFindsOneControlAtEveryOffset) {
  // One control byte (or DEL, or a byte that is not one) at every offset of plain strings of
  // every length up to 70: the 16- and 8-byte blocks and the overlapping last block must stop
  // exactly there.
  const char probes[] = {'\0', '\x01', '\t', '\n', '\x1f', '\x7f', ' ', '\x80', '\xff', '~'};
  for (std::size_t len = 1; len <= 70; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (const char probe : probes) {
        std::string in(len, 'a');
        in[at] = probe;
        const std::string want = tsv_safe_by_bytes(in);
        std::string out = "stale";
        tsv_safe(in, out);
        ASSERT_EQ(out, want) << len << " " << at << " " << static_cast<int>(probe);
        ASSERT_EQ(tsv_clean(in), want == in) << len << " " << at << " " << static_cast<int>(probe);
      }
    }
  }
}

TEST(Convert, ShortTextsEndingAtAnUnreadablePageAreCheckedExactly) {
  // Texts of 0-20 bytes placed at every offset of the last 40 bytes of a readable page followed
  // by an unreadable one: a block load that crossed into the second page would crash here, and
  // the length mask must ignore whatever follows the text inside its page.
  const long page = sysconf(_SC_PAGESIZE);
  ASSERT_GE(page, 4096);
  char* mem = static_cast<char*>(
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_EQ(mprotect(mem + page, page, PROT_NONE), 0);
  const char probes[] = {'\x01', '\t', '\x7f', 'a'};
  for (std::size_t len = 0; len <= 20; ++len) {
    for (std::size_t start = page - 40; start + len <= static_cast<std::size_t>(page); ++start) {
      for (std::size_t at = 0; at <= len; ++at) {  // at == len: no probe in the text
        for (const char probe : probes) {
          // Around the text: plain bytes and controls in turn, so that a control follows it
          // directly or one byte later.
          for (long k = page - 64; k < page; ++k) mem[k] = k % 2 ? '\x02' : 'b';
          std::memset(mem + start, 'a', len);
          if (at < len) mem[start + at] = probe;
          const std::string in(mem + start, len);
          const std::string want = tsv_safe_by_bytes(in);
          std::string out;
          tsv_safe(std::string_view(mem + start, len), out);
          ASSERT_EQ(out, want) << len << " " << start << " " << at;
          ASSERT_EQ(tsv_clean(std::string_view(mem + start, len)), want == in)
              << len << " " << start << " " << at;
        }
      }
    }
  }
  // wxh_unchanged's block load likewise: WxH texts at every offset before the unreadable page,
  // followed by digits and 'x' inside it, against the same text in a heap string.
  for (const std::string wxh : {"1x1", "0x0", "01x2", "123x45", "1920x1080", "123456789x987654321",
                                "1234567890x1", "12x34x5"}) {
    for (std::size_t start = page - 40; start + wxh.size() <= static_cast<std::size_t>(page);
         ++start) {
      for (long k = page - 64; k < page; ++k) mem[k] = k % 3 ? '7' : 'x';
      std::memcpy(mem + start, wxh.data(), wxh.size());
      std::string_view w1, h1, w2, h2;
      const bool at_page_end = wxh_unchanged(std::string_view(mem + start, wxh.size()), w1, h1);
      ASSERT_EQ(at_page_end, wxh_unchanged(wxh, w2, h2)) << wxh << " " << start;
      if (at_page_end) {
        ASSERT_EQ(w1, w2);
        ASSERT_EQ(h1, h2);
      }
    }
  }
  munmap(mem, 2 * page);
}

TEST(Convert, TsvSafe) {
  std::string out;
  tsv_safe(
      "a\tb\r\nc\x01\x7F"
      "d",
      out);
  EXPECT_EQ(out, "a    bcd");
  tsv_safe("\r\n", out);
  EXPECT_EQ(out, "");
  tsv_safe("Χαριτίνη", out);
  EXPECT_EQ(out, "Χαριτίνη");
}

TEST(Convert, Int) {
  std::string out, err;
  EXPECT_TRUE(convert_int("028288", out, err));
  EXPECT_EQ(out, "28288");  // TV-05: leading zeros lost
  EXPECT_TRUE(convert_int("-2147483648", out, err));
  EXPECT_EQ(out, "-2147483648");
  EXPECT_TRUE(convert_int("+5", out, err));
  EXPECT_EQ(out, "5");
  EXPECT_TRUE(convert_int("NuLL", out, err));
  EXPECT_EQ(out, "");
  for (const char* bad : {"", "2147483648", "1.0", "1e3", "abc", " 1", "+-1"}) {
    EXPECT_FALSE(convert_int(bad, out, err)) << bad;
    EXPECT_EQ(err, "Cannot be converted to java.lang.Integer");
  }
}

TEST(Convert, Decimal) {
  std::string out, err;
  EXPECT_TRUE(convert_decimal("12.90", out, err));
  EXPECT_EQ(out, "12.90");
  EXPECT_TRUE(convert_decimal("1E+3", out, err));
  EXPECT_EQ(out, "1000");
  EXPECT_TRUE(convert_decimal("0.0000001", out, err));
  EXPECT_EQ(out, "1E-7");
  EXPECT_TRUE(convert_decimal("null", out, err));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(convert_decimal("12,5", out, err));
  EXPECT_EQ(err.rfind("Cannot be converted to java.math.BigDecimal. Error : ", 0), 0u) << err;
  EXPECT_FALSE(convert_decimal("", out, err));
}

TEST(Convert, Bool01) {
  std::string out, err;
  EXPECT_TRUE(convert_bool01("1", out, err));
  EXPECT_EQ(out, "1");
  EXPECT_TRUE(convert_bool01("0", out, err));
  EXPECT_EQ(out, "0");
  for (const char* bad : {"", "true", "2", "01", "null"}) {
    EXPECT_FALSE(convert_bool01(bad, out, err)) << bad;
    EXPECT_EQ(err, "Cannot be converted to Boolean-like java.lang.Byte");
  }
}

TEST(Convert, WxH) {
  std::string w, h, err;
  EXPECT_TRUE(convert_wxh("1920x1080", w, h, err));
  EXPECT_EQ(w, "1920");
  EXPECT_EQ(h, "1080");
  EXPECT_TRUE(convert_wxh("007x0", w, h, err));
  EXPECT_EQ(w, "7");
  for (const char* bad : {"", "1920", "1920x", "x1080", "1920X1080", "-1x2", "1x2x3", "1 x2"}) {
    EXPECT_FALSE(convert_wxh(bad, w, h, err)) << bad;
    EXPECT_EQ(err, "Does not conform to regex (\\d+)x(\\d+)");
  }
  EXPECT_FALSE(convert_wxh("99999999999x1", w, h, err));
  EXPECT_TRUE(w.empty() && h.empty());
}

// Any digit runs (leading zeros, 1-12 digits, around the int32 limit) against parsing both
// sides as a Java int and printing them back.
TEST(Convert, WxHAgreesWithParsingAsJavaInts) {
  std::mt19937 rng(1920);
  auto digits = [&rng] {
    static const char* const kEdges[] = {
        "2147483647", "2147483648", "0002147483647", "999999999", "1000000000", "0", "000"};
    if (rng() % 5 == 0) return std::string(kEdges[rng() % std::size(kEdges)]);
    std::string d;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i)
      d.push_back(static_cast<char>('0' + (rng() % 3 == 0 ? 0 : rng() % 10)));
    return d;
  };
  int ok = 0, overflow = 0;
  for (int n = 0; n < 5000; ++n) {
    const std::string a = digits(), b = digits();
    std::string w = "stale", h = "stale", err;
    const bool got = convert_wxh(a + "x" + b, w, h, err);
    const long long av = std::stoll(a), bv = std::stoll(b);
    const bool fits = av <= 2147483647LL && bv <= 2147483647LL;
    ASSERT_EQ(got, fits) << a << "x" << b;
    if (fits) {
      ASSERT_EQ(w, std::to_string(av));
      ASSERT_EQ(h, std::to_string(bv));
      ++ok;
    } else {
      ASSERT_TRUE(w.empty() && h.empty()) << a << "x" << b;
      ASSERT_EQ(err, "Could not be converted to java.lang.Integer s");
      ++overflow;
    }
  }
  EXPECT_GT(ok, 1000);
  EXPECT_GT(overflow, 100);
}

TEST(Convert, Uuid) {
  std::string out, err;
  EXPECT_TRUE(convert_uuid("550E8400-E29B-41D4-A716-446655440000", out, err));
  EXPECT_EQ(out, "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_FALSE(convert_uuid("550e8400e29b41d4a716446655440000", out, err));
  EXPECT_EQ(err, "Not a valid UUID");
  EXPECT_FALSE(convert_uuid("", out, err));
}

TEST(Convert, TstampTv11) {
  std::string out, err;
  EXPECT_TRUE(convert_tstamp("1", out, err));
  EXPECT_EQ(out, "1970-01-01 00:00:00.001");
  EXPECT_TRUE(convert_tstamp("1364219529188", out, err));
  EXPECT_EQ(out, "2013-03-25 13:52:09.188");
  EXPECT_FALSE(convert_tstamp("v", out, err));
  EXPECT_EQ(err, "Not in the expected format: ms since epoch");
  EXPECT_FALSE(convert_tstamp("", out, err));
  EXPECT_FALSE(convert_tstamp("1111111111111111", out, err));
  EXPECT_EQ(err, "Formatting as 37179-09-17 07:18:31.111 is not Redshift-compatible");
  EXPECT_FALSE(convert_tstamp("-62167219200001", out, err));  // year -1
  EXPECT_NE(err.find("is not Redshift-compatible"), std::string::npos);
  EXPECT_TRUE(out.empty());
}

TEST(Convert, EventTypesTv11) {
  const std::pair<const char*, const char*> ok[] = {
      {"tr", "transaction"}, {"ti", "transaction_item"}, {"pv", "page_view"},
      {"pp", "page_ping"},   {"ue", "unstruct"},         {"se", "struct"},
      {"ev", "struct"},      {"ad", "ad_impression"}};
  std::string out, err;
  std::string_view name;
  for (auto [in, want] : ok) {
    EXPECT_TRUE(convert_event_type(in, out, err)) << in;
    EXPECT_EQ(out, want);
    ASSERT_TRUE(event_type_name(in, name)) << in;
    EXPECT_EQ(name, want);
  }
  for (const char* bad : {"", "e", "evnt", "PV", "pv ", "s"}) {
    EXPECT_FALSE(convert_event_type(bad, out, err)) << bad;
    EXPECT_EQ(err, "Not a valid event type");
    EXPECT_FALSE(event_type_name(bad, name)) << bad;
  }
}

TEST(Convert, PlatformAndIp) {
  std::string out, err;
  for (const char* p : {"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset"}) {
    EXPECT_TRUE(convert_platform(p, out, err)) << p;
    EXPECT_EQ(out, p);
    EXPECT_TRUE(is_platform(p)) << p;
  }
  for (const char* p : {"", "desktop", "WEB", "we", "webb", "headse"}) {
    EXPECT_FALSE(is_platform(p)) << p;
    EXPECT_FALSE(convert_platform(p, out, err)) << p;
  }
  EXPECT_EQ(ip_token("1.2.3.4\t5"), "1.2.3.4");
  EXPECT_EQ(ip_token("1.2.3.4"), "1.2.3.4");
  EXPECT_FALSE(convert_platform("desktop", out, err));
  EXPECT_EQ(err, "Not a valid platform");
  convert_ip("1.2.3.4, 5.6.7.8", out);
  EXPECT_EQ(out, "1.2.3.4");
  convert_ip("1.2.3.4|x", out);
  EXPECT_EQ(out, "1.2.3.4");
  convert_ip("::1 x", out);
  EXPECT_EQ(out, "::1");
  convert_ip(",1.2.3.4", out);
  EXPECT_EQ(out, "");
}

TEST(Convert, JavaLength) {
  EXPECT_EQ(java_length("abc"), 3u);
  EXPECT_EQ(java_length("Χαρ"), 3u);               // 2-byte UTF-8, 1 UTF-16 unit each
  EXPECT_EQ(java_length("\xF0\x9F\x98\x80"), 2u);  // an emoji is a surrogate pair
}

}  // namespace
}  // namespace furrow::enrich

namespace furrow::enrich {
namespace {

// Random short texts over the characters that matter to the number rules.
std::string random_number_text(std::mt19937& rng, std::string_view alphabet, std::size_t max_len) {
  std::string s;
  const std::size_t len = rng() % (max_len + 1);
  for (std::size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
  return s;
}

TEST(Convert, IntUnchangedOnlyWhenConvertIntGivesTheTextBack) {
  // Digits weighted towards '0' (leading zeros), signs, and lengths around int32's ten digits.
  std::mt19937 rng(11);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string in = random_number_text(rng, "0001234567899-+x ", 12);
    std::string out, error;
    const bool ok = convert_int(in, out, error);
    if (java_int_unchanged(in)) {
      ++accepted;
      EXPECT_TRUE(ok) << in;
      EXPECT_EQ(out, in) << in;
    } else if (ok && !in.empty() && in.size() <= 10) {
      // Declined although unchanged: only ten-digit values (which may overflow) may be.
      EXPECT_TRUE(out != in || in.size() == 10 || (in[0] == '-' && in.size() == 11)) << in;
    }
  }
  EXPECT_GT(accepted, 1000u);
  for (const char* in : {"0", "7", "-7", "123456789", "-123456789"})
    EXPECT_TRUE(java_int_unchanged(in)) << in;
  for (const char* in : {"", "-", "-0", "00", "01", "+1", "1234567890", "1 ", "null"})
    EXPECT_FALSE(java_int_unchanged(in)) << in;
}

TEST(Convert, WxHUnchangedViewsWhatConvertWxHWrites) {
  std::mt19937 rng(12);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string in = random_number_text(rng, "00123456789xx-", 16);
    std::string w, h, error;
    const bool ok = convert_wxh(in, w, h, error);
    std::string_view vw, vh;
    if (wxh_unchanged(in, vw, vh)) {
      ++accepted;
      EXPECT_TRUE(ok) << in;
      EXPECT_EQ(vw, w) << in;
      EXPECT_EQ(vh, h) << in;
      // Views of the input itself.
      EXPECT_EQ(vw.data(), in.data()) << in;
      EXPECT_EQ(vh.data() + vh.size(), in.data() + in.size()) << in;
    } else if (ok) {
      // Declined: some part changes (leading zeros) or has ten digits.
      EXPECT_TRUE(w + "x" + h != in || in.find('x') >= 10 || in.size() - in.find('x') > 10) << in;
    }
  }
  EXPECT_GT(accepted, 500u);
  std::string_view w, h;
  EXPECT_TRUE(wxh_unchanged("1280x649", w, h));
  EXPECT_EQ(w, "1280");
  EXPECT_EQ(h, "649");
  EXPECT_TRUE(wxh_unchanged("0x0", w, h));
  for (const char* in : {"", "x", "1x", "x1", "01x1", "1x01", "1x1x1", "1234567890x1", "1 x1"})
    EXPECT_FALSE(wxh_unchanged(in, w, h)) << in;
}

TEST(Convert, JavaLongAgreesWithFromChars) {
  // The plain-digits sum against std::from_chars (the general path) for 0-20 digit texts,
  // signs, and other bytes; 19+ digits go the general way (overflow checked there).
  std::mt19937 rng(13);
  for (int round = 0; round < 20000; ++round) {
    std::string in = random_number_text(rng, "0123456789", 20);
    if (rng() % 8 == 0 && !in.empty()) in[rng() % in.size()] = "+-x/:"[rng() % 5];
    int64_t got = -1;
    const bool ok = parse_java_long(in, got);
    int64_t want = 0;
    std::string_view t = in;
    if (!t.empty() && t[0] == '+' && !(t.size() > 1 && t[1] == '-')) t.remove_prefix(1);
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), want);
    const bool want_ok = !t.empty() && ec == std::errc() && p == t.data() + t.size();
    ASSERT_EQ(ok, want_ok) << in;
    if (ok) {
      EXPECT_EQ(got, want) << in;
    }
  }
  int64_t v = 0;
  EXPECT_TRUE(parse_java_long("999999999999999999", v));
  EXPECT_EQ(v, 999'999'999'999'999'999LL);
  EXPECT_TRUE(parse_java_long("9223372036854775807", v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_FALSE(parse_java_long("9223372036854775808", v));
  EXPECT_FALSE(parse_java_long("", v));
  EXPECT_FALSE(parse_java_long("12a", v));
}

}  // namespace
}  // namespace furrow::enrich

namespace furrow::enrich {
namespace {

// ip_token splits at the first of ",| \t\n\r\f\v": every byte value at every place of a short
// address, against std::string_view::find_first_of.
TEST(Convert, IpTokenSplitsWhereFindFirstOfDoes) {
  const std::string_view kSeparators = ",| \t\n\r\f\v";
  const std::string base = "81.2.69.142";
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      std::string s = base;
      s.insert(at, 1, static_cast<char>(c));
      const std::string_view v = s;
      EXPECT_EQ(ip_token(v), v.substr(0, v.find_first_of(kSeparators))) << c << " at " << at;
    }
  }
  EXPECT_EQ(ip_token(""), "");
  EXPECT_EQ(ip_token(","), "");
}

// Of all 65,536 two-byte texts exactly the eight codes are event types (and nothing of another
// length is, see EventTypesTv11).
TEST(Convert, EventTypeNameAcceptsExactlyTheEightCodes) {
  const std::string_view kCodes[] = {"se", "ev", "ue", "ad", "tr", "ti", "pv", "pp"};
  int accepted = 0;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char text[2] = {static_cast<char>(a), static_cast<char>(b)};
      const std::string_view in(text, 2);
      std::string_view name;
      const bool known = std::find(std::begin(kCodes), std::end(kCodes), in) != std::end(kCodes);
      EXPECT_EQ(event_type_name(in, name), known) << a << " " << b;
      accepted += known;
    }
  }
  EXPECT_EQ(accepted, 8);
}

// uuid_unchanged accepts exactly the texts convert_uuid gives back: every byte value at every
// place of a lower-case and an upper-case UUID, and every length from 0 to 40.
TEST(Convert, UuidUnchangedExactlyWhenConvertUuidGivesTheTextBack) {
  const std::string kLower = "6a0a1f0e-8b8e-4e0f-9b9a-0f6c2f0b8e01";
  const std::string kUpper = "6A0A1F0E-8B8E-4E0F-9B9A-0F6C2F0B8E01";
  std::string out, err;
  auto same = [&](const std::string& s) {
    const bool back = convert_uuid(s, out, err) && out == s;
    EXPECT_EQ(uuid_unchanged(s), back) << s;
    return back;
  };
  EXPECT_TRUE(same(kLower));
  EXPECT_FALSE(same(kUpper));
  int accepted = 0;
  for (const std::string& base : {kLower, kUpper}) {
    for (std::size_t at = 0; at < base.size(); ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string s = base;
        s[at] = static_cast<char>(c);
        accepted += same(s);
      }
    }
  }
  // Each hex place of kLower takes its 16 lower-case digits, each hyphen place only its hyphen.
  EXPECT_EQ(accepted, 32 * 16 + 4);
  for (std::size_t n = 0; n <= 40; ++n) same(std::string(n, 'a'));
  same(kLower + "0");
  same(kLower.substr(1));
}

}  // namespace
}  // namespace furrow::enrich
