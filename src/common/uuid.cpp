#include "common/uuid.h"

#include <array>
#include <cstdint>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace furrow {
namespace {

// For each byte: its lower-case form if it is a hexadecimal digit, else 0 (both checks in one
// load; UUIDs are checked for every event that carries eid or sid).
constexpr std::array<char, 256> kHexLower = [] {
  std::array<char, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<char>(c);
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<char>(c);
  for (int c = 'A'; c <= 'F'; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<char>(c - 'A' + 'a');
  return t;
}();

// Checks the 8-4-4-4-12 form and writes the lower-case text to `out` (36 bytes) as it goes;
// false at the first character out of place (then `out` holds garbage).
bool lower_uuid_scalar(const char* s, char* out, int from) {
  bool ok = true;
  for (int i = from; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok &= s[i] == '-';
      out[i] = '-';
    } else {
      const char c = kHexLower[static_cast<unsigned char>(s[i])];
      ok &= c != 0;
      out[i] = c;
    }
  }
  return ok;
}

#if defined(__SSE2__)
// The first 32 characters as two 16-byte blocks (SSE2 is part of x86-64): each byte must be a
// hex digit, or '-' where the form has one; 'A'-'F' become 'a'-'f'. The last 4 are scalar.
bool lower_uuid(const char* s, char* out) {
  // Hyphens at 8, 13, 18 and 23: bytes 8 and 13 of the first block, 2 and 7 of the second.
  const __m128i dash_at_0 = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0);
  const __m128i dash_at_1 = _mm_setr_epi8(0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0);
  auto block = [](__m128i c, __m128i dash_at, char* dst) {
    // Signed compares: bytes >= 0x80 are negative and fall in no range.
    auto in_range = [c](char lo, char hi) {
      return _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8(static_cast<char>(lo - 1))),
                           _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(hi + 1)), c));
    };
    const __m128i upper = in_range('A', 'F');
    const __m128i hex = _mm_or_si128(_mm_or_si128(in_range('0', '9'), in_range('a', 'f')), upper);
    const __m128i dash = _mm_cmpeq_epi8(c, _mm_set1_epi8('-'));
    // Valid where (hex and not a hyphen place) or (a hyphen at a hyphen place).
    const __m128i ok = _mm_or_si128(_mm_andnot_si128(dash_at, hex), _mm_and_si128(dash_at, dash));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst),
                     _mm_add_epi8(c, _mm_and_si128(upper, _mm_set1_epi8(0x20))));
    return _mm_movemask_epi8(ok) == 0xFFFF;
  };
  const bool a = block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)), dash_at_0, out);
  const bool b =
      block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16)), dash_at_1, out + 16);
  return a && b && lower_uuid_scalar(s, out, 32);
}
#else
bool lower_uuid(const char* s, char* out) {
  return lower_uuid_scalar(s, out, 0);
}
#endif

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return rng;
}

}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  char lower[36];
  return lower_uuid(s.data(), lower);
}

bool normalize_uuid(std::string_view s, std::string& out) {
  if (s.size() != 36) return false;
  char lower[36];
  if (!lower_uuid(s.data(), lower)) return false;
  out.assign(lower, 36);
  return true;
}

void random_uuid_v4(std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto& rng = thread_rng();
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  out.resize(36);
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[pos++] = '-';
    const uint64_t word = i < 16 ? hi : lo;
    const int shift = 60 - 4 * (i % 16);
    out[pos++] = kHex[(word >> shift) & 0xF];
  }
}

std::string random_uuid_v4() {
  std::string s;
  random_uuid_v4(s);
  return s;
}

}  // namespace furrow
