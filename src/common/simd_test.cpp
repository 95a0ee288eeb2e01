#include "common/simd.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace furrow::common {
namespace {

bool json_special(unsigned char c) {
  return c == '"' || c == '\\' || c < 0x20;
}

// Each scan against its contract stated byte by byte: it stops exactly at the first stop byte
// when that lies in a whole 32-byte block, otherwise at the first block that does not fit, and
// never skips a stop byte; without AVX2 it does not move.
TEST(Simd, ScansAgreeWithByteRulesOnRandomText) {
  std::mt19937 rng(32);
  const std::string alphabet = std::string("abcXYZ019 {}:,/.-_") + '"' + '\\' + '\t' + '\x01' +
                               '\x1f' + '\x20' + '\x7f' + '\x80' + '\xc3' + '\xff';
  for (int n = 0; n < 5000; ++n) {
    const std::size_t len = rng() % 200;
    std::string s(len, 'a');
    // Mostly plain text with a few stop bytes at random places.
    const int specials = static_cast<int>(rng() % 4);
    for (int k = 0; k < specials && len > 0; ++k)
      s[rng() % len] = alphabet[rng() % alphabet.size()];
    const char* b = s.data();
    const char* e = b + s.size();
    for (int ascii = 0; ascii < 2; ++ascii) {
      auto stops = [&](unsigned char c) { return json_special(c) || (ascii && c >= 0x80); };
      std::size_t first = 0;
      while (first < len && !stops(static_cast<unsigned char>(s[first]))) ++first;
      const char* got = ascii ? skip_json_plain_ascii(b, e) : skip_json_plain(b, e);
      const auto at = static_cast<std::size_t>(got - b);
      if (!cpu_has_avx2()) {
        ASSERT_EQ(at, 0u);
      } else if (first / 32 < len / 32) {
        ASSERT_EQ(at, first) << s;  // the stop byte lies in a whole block
      } else {
        ASSERT_EQ(at, len / 32 * 32) << s;
      }
    }
    std::size_t plain = 0;
    while (plain < len && static_cast<unsigned char>(s[plain]) < 0x80) ++plain;
    const std::size_t blocks = ascii_blocks(b, len);
    ASSERT_EQ(blocks, cpu_has_avx2() ? plain / 32 * 32 : 0u) << s;
  }
}

}  // namespace
}  // namespace furrow::common
