#include "protocol/uuid_check.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstdint>

namespace furrow::protocol {
namespace {

#if !defined(__SSE2__)
// The lower-case form of each hex digit; 0 for every other byte (the byte loop's table; the SSE2
// blocks need none, and clang rejects an unused constant under -Werror).
constexpr std::array<char, 256> make_lower_hex() {
  std::array<char, 256> t{};
  for (char c = '0'; c <= '9'; ++c) t[static_cast<uint8_t>(c)] = c;
  for (char c = 'a'; c <= 'f'; ++c) t[static_cast<uint8_t>(c)] = c;
  for (char c = 'A'; c <= 'F'; ++c) t[static_cast<uint8_t>(c)] = static_cast<char>(c - 'A' + 'a');
  return t;
}
constexpr std::array<char, 256> kLowerHex = make_lower_hex();
#endif

#if defined(__SSE2__)
// For the 16 bytes at `in`: stores them with bit 0x20 set at `out` and returns a bit per byte
// that is a hex digit. Setting 0x20 lower-cases 'A'-'F' and leaves '0'-'9', 'a'-'f' and '-' as
// they are; a byte is a hex digit when it is '0'-'9', or when it with 0x20 set is 'a'-'f' (only
// 'A'-'F' and 'a'-'f' give that). Signed compares: bytes >= 0x80 are negative, in no range.
unsigned lower_hex_block(const char* in, char* out) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const __m128i lower = _mm_or_si128(c, _mm_set1_epi8(0x20));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lower);
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                                      _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), c));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                       _mm_cmpgt_epi8(_mm_set1_epi8('f' + 1), lower));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(digit, letter)));
}
#endif

}  // namespace

std::optional<std::string> canonical_uuid(std::string_view s) {
  if (s.size() > 36) return std::nullopt;
  constexpr std::size_t kWidth[5] = {8, 4, 4, 4, 12};
  std::string out;
  out.reserve(36);
  std::size_t pos = 0;
  for (int g = 0; g < 5; ++g) {
    std::size_t end = g < 4 ? s.find('-', pos) : s.size();
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view group = s.substr(pos, end - pos);
    if (group.empty() || group.size() > kWidth[g]) return std::nullopt;
    if (g > 0) out.push_back('-');
    out.append(kWidth[g] - group.size(), '0');
    for (char c : group) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
      out.push_back(c);
    }
    pos = end + 1;
  }
  return out;
}

bool canonical_uuid(std::string_view s, std::string& out) {
  // 8-4-4-4-12 hex digits: the groups have their full widths, so the canonical form is the text
  // lower-cased. Anything else (short groups, other bytes) goes the general way.
  if (s.size() == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-') {
    out.resize(36);
#if defined(__SSE2__)
    // Bytes 0-15, 16-31 and 20-35 (the last block overlaps the second and stores the same bytes
    // there); every byte but the four dashes must be a hex digit.
    const unsigned a = lower_hex_block(s.data(), out.data());
    const unsigned b = lower_hex_block(s.data() + 16, out.data() + 16);
    const unsigned c = lower_hex_block(s.data() + 20, out.data() + 20);
    constexpr unsigned kDashes0 = (1u << 8) | (1u << 13), kDashes16 = (1u << 2) | (1u << 7);
    constexpr unsigned kDashes20 = 1u << 3;
    if ((a | kDashes0) == 0xFFFF && (b | kDashes16) == 0xFFFF && (c | kDashes20) == 0xFFFF) {
      return true;
    }
#else
    bool hex = true;
    for (std::size_t i = 0; i < 36; ++i) {
      const char c = s[i];
      const char lower = kLowerHex[static_cast<uint8_t>(c)];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      hex &= dash || lower != 0;
      out[i] = dash ? '-' : lower;
    }
    if (hex) return true;
#endif
  }
  std::optional<std::string> general = canonical_uuid(s);
  if (!general) return false;
  out = std::move(*general);
  return true;
}

}  // namespace furrow::protocol
