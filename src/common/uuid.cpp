#include "common/uuid.h"

#include <array>
#include <cstdint>
#include <random>

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
bool lower_uuid(const char* s, char* out) {
  bool ok = s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
  unsigned char all = 0xFF;
  for (int i = 0; i < 36; ++i) {
    const char c = kHexLower[static_cast<unsigned char>(s[i])];
    out[i] = c;
    // The four hyphens are not in the table (0); they are checked above and copied back below.
    if (i != 8 && i != 13 && i != 18 && i != 23)
      all &= static_cast<unsigned char>(c != 0 ? 0xFF : 0);
  }
  out[8] = out[13] = out[18] = out[23] = '-';
  return ok && all != 0;
}

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
