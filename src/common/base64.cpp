#include "common/base64.h"

#include <array>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace furrow::common {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Sextet value for each byte; kSkip for whitespace, kPad for '=', kBad otherwise.
constexpr uint8_t kBad = 0xFF;
constexpr uint8_t kSkip = 0xFE;
constexpr uint8_t kPad = 0xFD;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (uint8_t i = 0; i < 64; ++i) {
    t[static_cast<uint8_t>(kStd[i])] = i;
    t[static_cast<uint8_t>(kUrl[i])] = i;
  }
  for (char c : {' ', '\t', '\r', '\n', '\f', '\v'}) t[static_cast<uint8_t>(c)] = kSkip;
  t[static_cast<uint8_t>('=')] = kPad;
  return t;
}

constexpr std::array<uint8_t, 256> kTable = make_table();

// For the fast loop: the sextet already shifted to its place in a 24-bit group, one table per
// position, and bit 31 set for every byte that is not an alphabet character.
constexpr uint32_t kNotSextet = 0x80000000u;
constexpr std::array<uint32_t, 256> make_shifted(int shift) {
  std::array<uint32_t, 256> t{};
  for (std::size_t c = 0; c < 256; ++c) {
    t[c] = kTable[c] < 64 ? uint32_t{kTable[c]} << shift : kNotSextet;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kShift18 = make_shifted(18);
constexpr std::array<uint32_t, 256> kShift12 = make_shifted(12);
constexpr std::array<uint32_t, 256> kShift6 = make_shifted(6);
constexpr std::array<uint32_t, 256> kShift0 = make_shifted(0);

#if defined(__x86_64__)
// Tables for the AVX2 loop, indexed by a byte's high or low nibble (pshufb), derived from
// kTable. Validity: the high nibble selects a class bit (one per high nibble 2..7, where the
// alphabets live; kOtherHigh for every other); the low-nibble table holds the classes in which
// that low nibble is not an alphabet character, so a byte is valid iff the two ANDed are zero.
constexpr uint8_t kOtherHigh = 0x40;
constexpr uint8_t nibble_class(int hi) {
  return hi >= 2 && hi <= 7 ? static_cast<uint8_t>(1u << (hi - 2)) : kOtherHigh;
}
struct NibbleTables {
  uint8_t high_class[16] = {};
  uint8_t low_invalid[16] = {};
  // Sextet minus byte: offset_by_high[hi] plus, in the two rows whose characters do not share
  // one offset (high nibble 2: '+', '-', '/'; high nibble 5: the letters P-Z and '_'),
  // by_low[lo], selected by split_row[hi] (0xFF in those rows). One low-nibble table serves both
  // rows: the row-5 letters (low nibbles 0-A) take 0 from it, and row 2's base is chosen so that
  // '/' and '_', both at low nibble F, need the same entry.
  int8_t offset_by_high[16] = {};
  int8_t split_row[16] = {};
  int8_t by_low[16] = {};
  static constexpr int offset_of(int c) { return kTable[static_cast<std::size_t>(c)] - c; }
  constexpr NibbleTables() {
    for (int hi = 0; hi < 16; ++hi) high_class[hi] = nibble_class(hi);
    for (int lo = 0; lo < 16; ++lo) {
      for (int hi = 0; hi < 16; ++hi) {
        if (kTable[static_cast<std::size_t>(hi * 16 + lo)] >= 64)
          low_invalid[lo] |= nibble_class(hi);
      }
    }
    for (int hi = 3; hi < 8; ++hi) {
      const int c = hi * 16 + 1;  // '1', 'A', 'Q', 'a', 'q': a letter or digit of that row
      offset_by_high[hi] = static_cast<int8_t>(offset_of(c));
    }
    split_row[2] = split_row[5] = -1;
    by_low[0xF] = static_cast<int8_t>(offset_of('_') - offset_by_high[5]);
    offset_by_high[2] = static_cast<int8_t>(offset_of('/') - by_low[0xF]);
    for (int lo = 0; lo < 0xF; ++lo) {
      const int c = 0x20 + lo;
      if (kTable[static_cast<std::size_t>(c)] < 64)
        by_low[lo] = static_cast<int8_t>(offset_of(c) - offset_by_high[2]);
    }
  }
  // Every alphabet character of high nibble 2..7 gets its sextet (mod 256, as the bytes add).
  constexpr bool offsets_exact() const {
    for (int c = 0x20; c < 0x80; ++c) {
      if (kTable[static_cast<std::size_t>(c)] >= 64) continue;
      const int hi = c >> 4, lo = c & 0xF;
      const int offset = offset_by_high[hi] + (split_row[hi] != 0 ? by_low[lo] : 0);
      if (((c + offset) & 0xFF) != kTable[static_cast<std::size_t>(c)]) return false;
    }
    return true;
  }
};
constexpr NibbleTables kNibbles;
static_assert(kNibbles.offsets_exact());
static_assert(kTable['_'] == 63 && kTable['Z'] == 25 && kTable['p'] == 41);

// AVX2 loop for long inputs: 32 characters (eight whole groups) per iteration while all 32 are
// alphabet characters, of either alphabet. Validity and sextets come from nibble lookups
// (pshufb); then the usual multiply-add packing turns each group of four sextets into three
// bytes. It stops before the first 32-character block holding anything else and returns how many
// characters it used, always a multiple of four, so the scalar loops continue from a group
// boundary with nothing pending. Writes 32 bytes per block of which 24 are output: `dst` needs
// 8 bytes of slack.
__attribute__((target("avx2"))) std::size_t decode_avx2(const uint8_t* src, std::size_t n,
                                                        char*& dst) {
  // Each 16-byte table in both 128-bit halves (pshufb looks up within a half).
  const __m256i high_classes = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.high_class)));
  const __m256i low_invalid = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.low_invalid)));
  const __m256i offset_by_high = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.offset_by_high)));
  const __m256i split_row = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.split_row)));
  const __m256i by_low = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.by_low)));
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i pack_pairs = _mm256_set1_epi32(0x01400140);
  const __m256i pack_quads = _mm256_set1_epi32(0x00011000);
  const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2,
                                         1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  char* out = dst;  // a local: stores through `dst` could alias it, and it would be reloaded
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i lo = _mm256_and_si256(c, nibble);
    const __m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(high_classes, hi),
                                         _mm256_shuffle_epi8(low_invalid, lo));
    if (!_mm256_testz_si256(bad, bad)) break;
    // Sextet = byte + offset: by high nibble, plus by low nibble in rows 2 and 5.
    const __m256i offset = _mm256_add_epi8(
        _mm256_shuffle_epi8(offset_by_high, hi),
        _mm256_and_si256(_mm256_shuffle_epi8(split_row, hi), _mm256_shuffle_epi8(by_low, lo)));
    const __m256i v = _mm256_add_epi8(c, offset);
    // Per group of four sextets a b c d: (a << 6 | b) and (c << 6 | d) as 16-bit lanes, then the
    // 24-bit group in a 32-bit lane; the shuffle puts each group's three bytes in order and the
    // permutation closes the gap between the two 128-bit halves.
    const __m256i pairs = _mm256_maddubs_epi16(v, pack_pairs);
    const __m256i quads = _mm256_madd_epi16(pairs, pack_quads);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, order), lanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bytes);
    out += 24;
  }
  dst = out;
  return i;
}

bool have_avx2() {
  // __builtin_cpu_init: this may run during static initialisation, before libgcc's own.
  static const bool kAvx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return kAvx2;
}
#endif

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  std::size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  out.resize(base64_decode_bound(in.size()));
  std::size_t n = 0;
  if (!base64_decode_to(in, out.data(), n)) {
    out.clear();
    return false;
  }
  out.resize(n);
  return true;
}

bool base64_decode_to(std::string_view in, char* const out, std::size_t& written) {
  // Writes through a raw pointer into a buffer sized for the worst case: no per-byte capacity
  // checks on this hot path (one base64 line per raw payload). (The bound includes 8 bytes of
  // slack: the AVX2 loop stores 32 bytes for every 24 it produces.)
  char* dst = out;
  uint32_t acc = 0;
  int n = 0;
  std::size_t i = 0;
#if defined(__x86_64__)
  if (in.size() >= 64 && have_avx2()) {
    i = decode_avx2(reinterpret_cast<const uint8_t*>(in.data()), in.size(), dst);
  }
#endif
  // Fast loop: whole groups of four alphabet characters (the common case: no whitespace, no
  // padding yet). It stops at the first group holding anything else, with n == 0 and acc == 0,
  // so the general loop below continues from exactly the state it would have reached itself.
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  for (; i + 4 <= in.size(); i += 4) {
    const uint32_t v =
        kShift18[src[i]] | kShift12[src[i + 1]] | kShift6[src[i + 2]] | kShift0[src[i + 3]];
    if ((v & kNotSextet) != 0) break;  // not four alphabet characters
    dst[0] = static_cast<char>(v >> 16);
    dst[1] = static_cast<char>((v >> 8) & 0xFF);
    dst[2] = static_cast<char>(v & 0xFF);
    dst += 3;
  }
  for (; i < in.size(); ++i) {
    uint8_t v = kTable[static_cast<uint8_t>(in[i])];
    if (v < 64) {
      acc = (acc << 6) | v;
      if (++n == 4) {
        *dst++ = static_cast<char>((acc >> 16) & 0xFF);
        *dst++ = static_cast<char>((acc >> 8) & 0xFF);
        *dst++ = static_cast<char>(acc & 0xFF);
        acc = 0;
        n = 0;
      }
    } else if (v == kSkip) {
      continue;
    } else if (v == kPad) {
      break;
    } else {
      return false;
    }
  }
  // After padding only more '=' and whitespace may follow.
  for (; i < in.size(); ++i) {
    uint8_t v = kTable[static_cast<uint8_t>(in[i])];
    if (v != kPad && v != kSkip) return false;
  }
  if (n == 2) {
    *dst++ = static_cast<char>((acc >> 4) & 0xFF);
  } else if (n == 3) {
    *dst++ = static_cast<char>((acc >> 10) & 0xFF);
    *dst++ = static_cast<char>((acc >> 2) & 0xFF);
  }
  // n == 1: six dangling bits make no byte; commons-codec drops them too.
  written = static_cast<std::size_t>(dst - out);
  return true;
}

std::string base64_encode(std::string_view in) {
  return encode(in, kStd, true);
}

std::string base64url_encode(std::string_view in) {
  return encode(in, kUrl, false);
}

}  // namespace furrow::common
