#include "enrich/convert.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/decimal.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "common/uuid.h"

namespace furrow::enrich {
namespace {

bool parse_java_int(std::string_view in, int32_t& v) {
  const char* b = in.data();
  const char* e = b + in.size();
  if (b != e && *b == '+') {
    ++b;
    if (b != e && *b == '-') return false;
  }
  if (b == e) return false;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e;
}

void append_int(int64_t v, std::string& out) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, p);
}

}  // namespace

namespace {

// Index of the first byte below 0x20 or equal to 0x7F, or in.size(). Eight bytes at a time: the
// flags below can be set spuriously only above a byte that is truly flagged (by a borrow), so
// the lowest flag is exact. The last < 8 bytes of a string of 8 or more are checked as the
// string's last 8 (overlapping bytes already found clean), not byte by byte.
uint64_t control_flags(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, 8);  // little-endian: byte k of the text is byte k of w
  const uint64_t del = w ^ (kOnes * 0x7F);
  return (((w - kOnes * 0x20) & ~w) | ((del - kOnes) & ~del)) & kHigh;
}

#if defined(__SSE2__)
// Bit k set when byte k of the 16 at p is below 0x20 or equal to 0x7F (exact, per byte).
unsigned control_mask16(const char* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // x <= 0x1F unsigned exactly when min(x, 0x1F) == x.
  const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
  const __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, del)));
}
#endif

// (Not instrumented by ASan: a short string's 16-byte block may read past its end, see below.)
[[gnu::no_sanitize_address]] std::size_t first_control(std::string_view in) {
  const char* p = in.data();
  const std::size_t n = in.size();
#if defined(__SSE2__)
  // 1-15 bytes: one 16-byte load when it stays inside p's 4 KiB page (so it cannot fault, though
  // it may read bytes after the string, which the length mask drops); a load that would cross
  // into the next page takes the word / byte loops below.
  if (n - 1 < 15 && (reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    const __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
    const unsigned m =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, del))) & ((1u << n) - 1);
    return m != 0 ? static_cast<std::size_t>(__builtin_ctz(m)) : n;
  }
  // 16 bytes at a time (SSE2 is part of x86-64); the last < 16 as the string's last 16.
  if (n >= 16) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const unsigned m = control_mask16(p + i);
      if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(m));
    }
    if (i < n) {
      const unsigned m = control_mask16(p + n - 16);
      if (m != 0) return n - 16 + static_cast<std::size_t>(__builtin_ctz(m));
    }
    return n;
  }
#endif
  if (n < 8) {
    std::size_t i = 0;
    for (; i < n; ++i) {
      const auto u = static_cast<unsigned char>(p[i]);
      if (u < 0x20 || u == 0x7F) break;
    }
    return i;
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t flags = control_flags(p + i);
    if (flags != 0) return i + (static_cast<std::size_t>(__builtin_ctzll(flags)) >> 3);
  }
  if (i < n) {
    const uint64_t flags = control_flags(p + n - 8);
    if (flags != 0) return n - 8 + (static_cast<std::size_t>(__builtin_ctzll(flags)) >> 3);
  }
  return n;
}

// Appends a run of ASCII digits as Java's Integer.parseInt and then toString give it back:
// leading zeros dropped. Up to nine digits always fit an int32, so the text is copied; longer
// runs are parsed (false when they overflow).
bool append_java_int_digits(std::string_view digits, std::string& out) {
  if (digits.size() <= 9) {
    std::size_t z = 0;
    while (z + 1 < digits.size() && digits[z] == '0') ++z;
    out.append(digits.substr(z));
    return true;
  }
  int32_t v = 0;
  if (!parse_java_int(digits, v)) return false;
  append_int(v, out);
  return true;
}

}  // namespace

bool tsv_clean(std::string_view in) {
  return first_control(in) == in.size();
}

void tsv_safe(std::string_view in, std::string& out) {
  // Fast path: most values hold no control character and are copied as they are.
  std::size_t i = first_control(in);
  out.assign(in.data(), i);
  for (; i < in.size(); ++i) {
    const char c = in[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      out.append(4, ' ');
    } else if (u >= 0x20 && u != 0x7F) {
      out.push_back(c);
    }
  }
}

bool convert_int(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  if (equals_icase(in, "null")) return true;
  int32_t v = 0;
  if (!parse_java_int(in, v)) {
    error = "Cannot be converted to java.lang.Integer";
    return false;
  }
  append_int(v, out);
  return true;
}

bool convert_decimal(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  if (equals_icase(in, "null")) return true;
  std::string why;
  if (!java_decimal(in, out, why)) {
    out.clear();
    error = "Cannot be converted to java.math.BigDecimal. Error : " + why;
    return false;
  }
  return true;
}

bool convert_bool01(std::string_view in, std::string& out, std::string& error) {
  if (in == "1" || in == "0") {
    out.assign(in);
    return true;
  }
  out.clear();
  error = "Cannot be converted to Boolean-like java.lang.Byte";
  return false;
}

bool convert_wxh(std::string_view in, std::string& width, std::string& height, std::string& error) {
  width.clear();
  height.clear();
  const std::size_t x = in.find('x');
  auto all_digits = [](std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (x == std::string_view::npos || !all_digits(in.substr(0, x)) ||
      !all_digits(in.substr(x + 1))) {
    error = "Does not conform to regex (\\d+)x(\\d+)";
    return false;
  }
  if (!append_java_int_digits(in.substr(0, x), width) ||
      !append_java_int_digits(in.substr(x + 1), height)) {
    width.clear();
    height.clear();
    error = "Could not be converted to java.lang.Integer s";
    return false;
  }
  return true;
}

namespace {

// A run of 1-9 ASCII digits that Integer.parseInt + toString give back ("0", or no leading '0').
inline bool plain_int_digits(const char* p, std::size_t n) {
  if (n == 0 || n > 9 || (p[0] == '0' && n > 1)) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(p[i] - '0') > 9) return false;
  }
  return true;
}

}  // namespace

bool java_int_unchanged(std::string_view in) {
  if (!in.empty() && in[0] == '-') {
    // "-0" becomes "0"; a sign alone is no number.
    return in.size() > 1 && in[1] != '0' && plain_int_digits(in.data() + 1, in.size() - 1);
  }
  return plain_int_digits(in.data(), in.size());
}

// (Not instrumented by ASan: the 16-byte block may read past the text, see below.)
[[gnu::no_sanitize_address]] bool wxh_unchanged(std::string_view in, std::string_view& width,
                                                std::string_view& height) {
#if defined(__SSE2__)
  // 3-16 bytes: one 16-byte load when it stays inside the text's 4 KiB page (it cannot fault;
  // the bytes after the text are masked off). The text must be digits and exactly one 'x' with
  // 1-9 digits on each side, neither part starting with '0' unless it is "0".
  const std::size_t n = in.size();
  const char* p = in.data();
  if (n - 3 < 14 && (reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned valid = (1u << n) - 1;
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const unsigned digits = static_cast<unsigned>(_mm_movemask_epi8(
                                _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d))) &
                            valid;
    const unsigned xs =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('x')))) & valid;
    if (xs == 0 || (xs & (xs - 1)) != 0 || (digits | xs) != valid) return false;
    const std::size_t k = static_cast<std::size_t>(__builtin_ctz(xs));
    const std::size_t hn = n - k - 1;
    if (k - 1 >= 9 || hn - 1 >= 9) return false;
    if ((p[0] == '0' && k > 1) || (p[k + 1] == '0' && hn > 1)) return false;
    width = in.substr(0, k);
    height = in.substr(k + 1);
    return true;
  }
#endif
  std::size_t x = 0;
  while (x < in.size() && static_cast<unsigned char>(in[x] - '0') <= 9) ++x;
  if (x >= in.size() || in[x] != 'x') return false;
  if (!plain_int_digits(in.data(), x) || !plain_int_digits(in.data() + x + 1, in.size() - x - 1)) {
    return false;
  }
  width = in.substr(0, x);
  height = in.substr(x + 1);
  return true;
}

bool uuid_unchanged(std::string_view in) {
  if (in.size() != 36) return false;
#if defined(__SSE2__)
  // Three 16-byte blocks (bytes 0-15, 16-31, 20-35): in each, the '-' bytes must be exactly the
  // group separators (8, 13, 18, 23) and every other byte '0'-'9' or 'a'-'f'.
  auto check = [](const char* p, unsigned hyphens) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // x - lo <= span (unsigned) exactly when min(x - lo, span) == x - lo.
    const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    const __m128i a = _mm_sub_epi8(x, _mm_set1_epi8('a'));
    const __m128i hex = _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(5)), a);
    const unsigned dash =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('-'))));
    const unsigned ok = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(digit, hex)));
    return dash == hyphens && (ok | dash) == 0xFFFF;
  };
  return check(in.data(), (1u << 8) | (1u << 13)) &&
         check(in.data() + 16, (1u << (18 - 16)) | (1u << (23 - 16))) &&
         check(in.data() + 20, 1u << (23 - 20));
#else
  std::string out;
  return normalize_uuid(in, out) && out == in;
#endif
}

bool convert_uuid(std::string_view in, std::string& out, std::string& error) {
  if (!normalize_uuid(in, out)) {
    out.clear();
    error = "Not a valid UUID";
    return false;
  }
  return true;
}

bool parse_java_long(std::string_view in, int64_t& v) {
  const char* b = in.data();
  const char* e = b + in.size();
  if (in.size() - 1 < 18) {
    // 1-18 plain digits (every millisecond time a tracker sends) cannot overflow: summed here.
    int64_t acc = 0;
    const char* p = b;
    for (; p != e; ++p) {
      const unsigned d = static_cast<unsigned char>(*p - '0');
      if (d > 9) break;
      acc = acc * 10 + static_cast<int64_t>(d);
    }
    if (p == e) {
      v = acc;
      return true;
    }
  }
  if (b != e && *b == '+') {
    ++b;
    if (b != e && *b == '-') return false;
  }
  if (b == e) return false;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e;
}

bool format_checked_tstamp(int64_t ms, std::string& out, std::string& error) {
  out.clear();
  append_tsv_tstamp(ms, out);
  if (!tstamp_year_ok(ms)) {
    error = "Formatting as " + out + " is not Redshift-compatible";
    out.clear();
    return false;
  }
  return true;
}

bool convert_tstamp(std::string_view in, std::string& out, std::string& error) {
  int64_t ms = 0;
  return convert_tstamp(in, out, error, ms);
}

bool convert_tstamp(std::string_view in, std::string& out, std::string& error, int64_t& ms) {
  if (!parse_java_long(in, ms)) {
    out.clear();
    error = "Not in the expected format: ms since epoch";
    return false;
  }
  return format_checked_tstamp(ms, out, error);
}

namespace {

constexpr std::pair<std::string_view, std::string_view> kEventTypes[] = {
    {"se", "struct"},      {"ev", "struct"},           {"ue", "unstruct"},  {"ad", "ad_impression"},
    {"tr", "transaction"}, {"ti", "transaction_item"}, {"pv", "page_view"}, {"pp", "page_ping"},
};
constexpr std::string_view kPlatforms[] = {"web", "mob",  "pc",  "srv",    "app",
                                           "tv",  "cnsl", "iot", "headset"};

}  // namespace

bool event_type_name(std::string_view in, std::string_view& name) {
  // Every code is two bytes: compared as one 16-bit word each (no memcmp calls).
  if (in.size() != 2) return false;
  const unsigned w = static_cast<unsigned>(static_cast<unsigned char>(in[0])) |
                     static_cast<unsigned>(static_cast<unsigned char>(in[1])) << 8;
  for (const auto& [code, type] : kEventTypes) {
    if (w == (static_cast<unsigned>(static_cast<unsigned char>(code[0])) |
              static_cast<unsigned>(static_cast<unsigned char>(code[1])) << 8)) {
      name = type;
      return true;
    }
  }
  return false;
}

bool convert_event_type(std::string_view in, std::string& out, std::string& error) {
  std::string_view name;
  if (event_type_name(in, name)) {
    out.assign(name);
    return true;
  }
  out.clear();
  error = "Not a valid event type";
  return false;
}

bool is_platform(std::string_view in) {
  for (auto p : kPlatforms) {
    if (in == p) return true;
  }
  return false;
}

bool convert_platform(std::string_view in, std::string& out, std::string& error) {
  if (is_platform(in)) {
    out.assign(in);
    return true;
  }
  out.clear();
  error = "Not a valid platform";
  return false;
}

std::string_view ip_token(std::string_view in) {
  // find_first_of(",| \t\n\r\f\v") as one compare chain per byte (the library's find_first_of
  // searches the set with memchr once per byte of `in`).
  std::size_t i = 0;
  for (; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == ',' || c == '|' || c == ' ' || static_cast<unsigned>(c - '\t') <= '\r' - '\t') break;
  }
  return in.substr(0, i);
}

void convert_ip(std::string_view in, std::string& out) {
  tsv_safe(ip_token(in), out);
}

std::size_t java_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;  // 4-byte sequences are surrogate pairs in Java
  }
  return n;
}

}  // namespace furrow::enrich
