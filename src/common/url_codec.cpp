#include "common/url_codec.h"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/simd.h"

namespace furrow::common {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// hex_value for every byte, as a table (one load per digit, no branches): the value, or -1.
struct HexTable {
  int8_t value[256] = {};
  constexpr HexTable() {
    for (int c = 0; c < 256; ++c) {
      value[c] = static_cast<int8_t>(c >= '0' && c <= '9'   ? c - '0'
                                     : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                            : -1);
    }
  }
};
constexpr HexTable kHex;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at `s[i]`, or 0 when invalid; `maximal` gets the length of the
// maximal invalid subpart to replace (at least 1) when invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& maximal) {
  auto b = [&](std::size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  maximal = 1;
  if (c < 0x80) return 1;
  std::size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    uint8_t t = b(i + k);
    uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (t < l || t > h) return 0;
    maximal = k + 1;
  }
  return len;
}

// Decodes the code point of a valid sequence of length `len` at `s[i]`.
uint32_t code_point(std::string_view s, std::size_t i, std::size_t len) {
  auto b = [&](std::size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])); };
  switch (len) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Characters java.net.URI accepts in a query or fragment (reserved, unreserved; '%' handled apart).
constexpr std::array<bool, 128> make_uric() {
  std::array<bool, 128> t{};
  for (char c = 'a'; c <= 'z'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (char c = 'A'; c <= 'Z'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (char c : std::string_view(";/?:@&=+$,[]-_.!~*'()")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 128> kUric = make_uric();

// java.lang.Character.isSpaceChar (Zs, Zl, Zp) or isISOControl for non-ASCII code points.
bool is_space_or_control(uint32_t cp) {
  if (cp >= 0x80 && cp <= 0x9F) return true;
  switch (cp) {
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#if defined(__x86_64__)
// Set membership of ASCII bytes by nibbles (pshufb): bit h of row[l] says whether byte h * 16 + l
// is in the set; bytes >= 0x80 never are.
struct NibbleSet {
  uint8_t row[16] = {};
  constexpr explicit NibbleSet(bool (*member)(int)) {
    for (int c = 0; c < 128; ++c) {
      if (member(c)) row[c & 15] = static_cast<uint8_t>(row[c & 15] | (1u << (c >> 4)));
    }
  }
};
constexpr NibbleSet kUricOrPercent([](int c) {
  return kUric[static_cast<std::size_t>(c)] || c == '%';
});
constexpr NibbleSet kHexDigits([](int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
});

// How many leading bytes of [p, p + n) is_valid_uri_query's scalar loop would step over as plain
// characters and whole %XX escapes, looked at 32 bytes at a time: it stops at the first block
// holding anything else ('#', a byte >= 0x80, a character outside the query set, a '%' without
// two hex digits after it in the block), at that byte, and before the last < 32 bytes. The
// result never ends inside an escape (its two digits are never '%').
__attribute__((target("avx2"))) std::size_t uri_query_plain_avx2(const char* p, std::size_t n) {
  const __m256i uric_rows = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kUricOrPercent.row)));
  const __m256i hex_rows = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kHexDigits.row)));
  // 1 << high nibble for high nibbles 0-7, 0 for 8-15 (bytes >= 0x80).
  const __m256i bit_of_high =
      _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64,
                       -128, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i percent = _mm256_set1_epi8('%');
  const __m256i zero = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i high =
        _mm256_shuffle_epi8(bit_of_high, _mm256_and_si256(_mm256_srli_epi16(c, 4), nibble));
    const __m256i low = _mm256_and_si256(c, nibble);
    const auto outside = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(uric_rows, low), high), zero)));
    const auto hex = ~static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(hex_rows, low), high), zero)));
    const auto pct = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, percent)));
    // A '%' whose next two bytes are hex digits in this block is a whole escape.
    const uint32_t stop = outside | (pct & ~((hex >> 1) & (hex >> 2)));
    if (stop != 0) return i + static_cast<std::size_t>(__builtin_ctz(stop));
  }
  return i;
}
#endif

}  // namespace

bool is_valid_utf8(std::string_view in) {
  std::size_t i = ascii_blocks(in.data(), in.size());  // leading ASCII, 32 bytes at a time
  const std::size_t n = in.size();
  while (i < n) {
#if defined(__SSE2__)
    // Sixteen ASCII bytes at a time (SSE2 is part of x86-64; text after a multi-byte sequence is
    // mostly ASCII again); otherwise straight to the first byte >= 0x80.
    if (i + 16 <= n) {
      const auto high = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + i))));
      if (high == 0) {
        i += 16;
        continue;
      }
      i += static_cast<std::size_t>(__builtin_ctz(high));
    }
#endif
    // Eight ASCII bytes at a time; a word with any high bit falls through to the exact check.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, in.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<uint8_t>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t maximal = 1;
    const std::size_t len = utf8_sequence(in, i, maximal);
    if (len == 0) return false;
    i += len;
    // Text is mostly ASCII between its multi-byte characters (a page title's accent, then
    // kilobytes of JSON): back to 32-byte blocks for a run that may hold some.
    if (n - i >= 64) i += ascii_blocks(in.data() + i, n - i);
  }
  return true;
}

bool utf8_repair_append(std::string_view in, std::string& out) {
  bool valid = true;
  std::size_t i = 0;
  while (i < in.size()) {
    // Fast path over ASCII.
    std::size_t start = i;
    while (i < in.size() && static_cast<uint8_t>(in[i]) < 0x80) ++i;
    std::size_t maximal = 1;
    while (i < in.size()) {
      std::size_t len = utf8_sequence(in, i, maximal);
      if (len == 0) break;
      i += len;
    }
    out.append(in.substr(start, i - start));
    if (i < in.size()) {
      valid = false;
      out.append(kReplacement);
      i += maximal;
    }
  }
  return valid;
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;

// High bit of every byte of `w` equal to `c`; a borrow can set it spuriously only above a truly
// equal byte, so the lowest set bit is exact.
uint64_t equal_bytes(uint64_t w, char c) {
  const uint64_t x = w ^ (kOnes * static_cast<uint8_t>(c));
  return (x - kOnes) & ~x & kHigh;
}

// Index of the first '%', '+' or non-ASCII byte of `in` at or after `i`, or in.size().
std::size_t next_to_decode(std::string_view in, std::size_t i) {
  for (; i + 8 <= in.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, in.data() + i, 8);  // little-endian: byte k of the text is byte k of w
    const uint64_t flags = equal_bytes(w, '%') | equal_bytes(w, '+') | (w & kHigh);
    if (flags != 0) return i + (static_cast<std::size_t>(__builtin_ctzll(flags)) >> 3);
  }
  for (; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' || c == '+' || static_cast<uint8_t>(c) >= 0x80) break;
  }
  return i;
}

}  // namespace

void url_decode_append(std::string_view in, std::string& out) {
  // Runs without anything to decode are copied whole; the output is never longer than the input
  // before the UTF-8 repair, so it is written through a pointer into a buffer sized once.
  std::size_t i = next_to_decode(in, 0);
  if (i == in.size()) {
    out.append(in);
    return;
  }
  const std::size_t mark = out.size();
  out.resize(mark + in.size());
  char* const base = out.data() + mark;
  std::memcpy(base, in.data(), i);
  char* dst = base + i;
  const char* const src = in.data();
  const std::size_t n = in.size();
  bool high = false;
  while (i < n) {
    const char c = src[i];
    int digits = -1;  // the escape's two hex digits as a byte, or negative when c is no escape
    if (c == '%' && i + 2 < n) {
      const int h = kHex.value[static_cast<uint8_t>(src[i + 1])];
      const int l = kHex.value[static_cast<uint8_t>(src[i + 2])];
      digits = (h | l) < 0 ? -1 : h * 16 + l;
    }
    if (c == '+') {
      *dst++ = ' ';
      ++i;
    } else if (digits >= 0) {
      high |= digits >= 0x80;
      *dst++ = static_cast<char>(digits);
      i += 3;
    } else {
      high |= static_cast<uint8_t>(c) >= 0x80;
      *dst++ = c;
      ++i;
    }
    // The run up to the next byte to decode, eight bytes at a time: each word is stored whole
    // and the write position moves to the first flagged byte. The output is never ahead of the
    // input (dst - base <= i), so a store at dst of a word read at i + 8 <= n stays inside the
    // buffer. (Escapes come every few bytes in encoded URLs: no memcpy call per run.)
    for (;;) {
      if (i + 8 > n) {
        while (i < n && src[i] != '%' && src[i] != '+' && static_cast<uint8_t>(src[i]) < 0x80) {
          *dst++ = src[i++];
        }
        break;
      }
      uint64_t w;
      std::memcpy(&w, src + i, 8);  // little-endian: byte k of the text is byte k of w
      std::memcpy(dst, &w, 8);
      const uint64_t flags = equal_bytes(w, '%') | equal_bytes(w, '+') | (w & kHigh);
      if (flags != 0) {
        const auto k = static_cast<std::size_t>(__builtin_ctzll(flags)) >> 3;
        i += k;
        dst += k;
        break;
      }
      i += 8;
      dst += 8;
    }
  }
  out.resize(static_cast<std::size_t>(dst - out.data()));
  // Invalid UTF-8 becomes U+FFFD, as Java's decoder does; valid text is left as it is.
  if (high && !is_valid_utf8(std::string_view(out).substr(mark))) {
    std::string decoded = out.substr(mark);
    out.resize(mark);
    utf8_repair_append(decoded, out);
  }
}

std::string url_decode(std::string_view in) {
  std::string out;
  url_decode_append(in, out);
  return out;
}

namespace {

// is_valid_uri_query, with the 32-byte block scan (`blocks`) or byte by byte.
bool check_uri_query(std::string_view query, std::string* why, bool blocks) {
  static_cast<void>(blocks);  // (no block scan off x86-64)
  auto fail = [&](std::string_view what, std::size_t index) {
    // The index is into the whole URI string, as URISyntaxException reports it.
    if (why) {
      *why = std::string(what) + " in query at index " + std::to_string(index + 18) +
             ": http://localhost/?";
      why->append(query);
    }
    return false;
  };
  bool in_fragment = false;
#if defined(__x86_64__)
  const bool avx2 = blocks && query.size() >= 32 && cpu_has_avx2();
#endif
  for (std::size_t i = 0; i < query.size();) {
#if defined(__x86_64__)
    // Runs of plain characters and escapes 32 bytes at a time; the loop below takes each byte the
    // block scan stops at, and the last < 32 bytes.
    if (avx2 && query.size() - i >= 32) {
      i += uri_query_plain_avx2(query.data() + i, query.size() - i);
      if (i >= query.size()) break;
    }
#endif
    auto c = static_cast<uint8_t>(query[i]);
    if (c < 0x80) {
      if (kUric[c]) {
        ++i;
      } else if (c == '%') {
        if (i + 2 >= query.size() || hex_value(query[i + 1]) < 0 || hex_value(query[i + 2]) < 0) {
          return fail("Malformed escape pair", i);
        }
        i += 3;
      } else if (c == '#' && !in_fragment) {
        in_fragment = true;
        ++i;
      } else {
        return fail("Illegal character", i);
      }
      continue;
    }
    std::size_t maximal = 1;
    std::size_t len = utf8_sequence(query, i, maximal);
    if (len == 0) {
      // Invalid UTF-8 arrives in Java as U+FFFD, which java.net.URI accepts.
      i += maximal;
      continue;
    }
    if (is_space_or_control(code_point(query, i, len))) return fail("Illegal character", i);
    i += len;
  }
  return true;
}

}  // namespace

bool is_valid_uri_query(std::string_view query, std::string* why) {
  return check_uri_query(query, why, true);
}

namespace detail {
bool is_valid_uri_query_bytewise(std::string_view query, std::string* why) {
  return check_uri_query(query, why, false);
}
}  // namespace detail

std::string_view normalize_blanks(std::string_view in, std::string& scratch) {
  // Fast path: no byte at or below ' ' (so no blank at all), eight bytes at a time.
  {
    std::size_t i = 0;
    uint64_t low = 0;
    for (; i + 8 <= in.size() && low == 0; i += 8) {
      uint64_t w;
      std::memcpy(&w, in.data() + i, 8);
      low = (w - kOnes * 0x21) & ~w & kHigh;  // a byte below 0x21 (maybe spuriously above one)
    }
    for (; i < in.size() && low == 0; ++i) low = static_cast<uint8_t>(in[i]) <= 0x20;
    if (low == 0) return in;
  }
  bool needs = false;
  for (char c : in) {
    if (is_blank(c) && c != ' ') needs = true;
  }
  if (!needs) {
    // Only plain spaces: fine unless leading, trailing or doubled.
    if (in.empty() || (!is_blank(in.front()) && !is_blank(in.back()) &&
                       in.find("  ") == std::string_view::npos)) {
      return in;
    }
  }
  scratch.clear();
  bool pending = false;
  for (char c : in) {
    if (is_blank(c)) {
      pending = !scratch.empty();
    } else {
      if (pending) scratch.push_back(' ');
      pending = false;
      scratch.push_back(c);
    }
  }
  return scratch;
}

void parse_query_string(std::string_view query, QueryPairs& out) {
  std::string scratch;
  for_each_raw_pair(query, [&](std::string_view name, std::optional<std::string_view> value) {
    std::string_view n = normalize_blanks(name, scratch);
    if (n.empty()) return;
    std::pair<std::string, std::optional<std::string>> pair;
    url_decode_append(n, pair.first);
    if (value) {
      pair.second.emplace();
      url_decode_append(normalize_blanks(*value, scratch), *pair.second);
    }
    out.push_back(std::move(pair));
  });
}

std::string url_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() * 3);
  for (char ch : in) {
    auto c = static_cast<uint8_t>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace furrow::common
