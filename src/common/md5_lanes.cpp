#include "common/md5_lanes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace furrow::common {
namespace {

// RFC 1321 section 3.4: T[i] = floor(2^32 * |sin(i)|) for i = 1..64 (here 0-based), the left
// rotations of each step, and which message word each step adds.
struct Tables {
  uint32_t t[64];
  Tables() {
    for (int i = 0; i < 64; ++i) {
      t[i] = static_cast<uint32_t>(
          std::floor(std::fabs(std::sin(static_cast<double>(i + 1))) * 4294967296.0));
    }
  }
};
const Tables& tables() {
  static const Tables kTables;
  return kTables;
}

constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
constexpr int word_of(int i) {
  return i < 16 ? i : i < 32 ? (5 * i + 1) % 16 : i < 48 ? (3 * i + 5) % 16 : (7 * i) % 16;
}

constexpr uint32_t kInit[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

uint32_t load_le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void store_digest(const uint32_t s[4], Md5Digest& out) {
  for (std::size_t w = 0; w < 4; ++w) {
    for (std::size_t b = 0; b < 4; ++b) out[4 * w + b] = static_cast<uint8_t>(s[w] >> (8 * b));
  }
}

// The padded end of a message (section 3.1-3.2): its last len % 64 bytes, 0x80, zeros and the
// length in bits (little endian) closing the block; one or two blocks. Returns how many.
int pad_tail(std::string_view m, unsigned char tail[128]) {
  const std::size_t rest = m.size() % 64;
  const int blocks = rest < 56 ? 1 : 2;
  if (rest != 0) std::memcpy(tail, m.data() + (m.size() - rest), rest);
  tail[rest] = 0x80;
  std::memset(tail + rest + 1, 0, static_cast<std::size_t>(64 * blocks) - rest - 1);
  const uint64_t bits = static_cast<uint64_t>(m.size()) * 8;
  for (int b = 0; b < 8; ++b) tail[64 * blocks - 8 + b] = static_cast<unsigned char>(bits >> 8 * b);
  return blocks;
}

std::size_t block_count(std::size_t len) {
  return (len + 8) / 64 + 1;
}

uint32_t rotl(uint32_t x, int s) {
  return (x << s) | (x >> (32 - s));
}

void compress(uint32_t s[4], const unsigned char* block) {
  const uint32_t* t = tables().t;
  uint32_t m[16];
  for (std::size_t i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  uint32_t a = s[0], b = s[1], c = s[2], d = s[3];
  // Unrolled, so that each step's function, shift and word are constants.
#pragma GCC unroll 64
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    if (i < 16) {
      f = d ^ (b & (c ^ d));
    } else if (i < 32) {
      f = c ^ (d & (b ^ c));
    } else if (i < 48) {
      f = b ^ c ^ d;
    } else {
      f = c ^ (b | ~d);
    }
    const uint32_t next = b + rotl(a + f + m[word_of(i)] + t[i], kShift[i]);
    a = d;
    d = c;
    c = b;
    b = next;
  }
  s[0] += a;
  s[1] += b;
  s[2] += c;
  s[3] += d;
}

#if defined(__x86_64__)
bool have_avx2() {
  // __builtin_cpu_init: this may run during static initialisation, before libgcc's own.
  static const bool kAvx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return kAvx2;
}

#define FURROW_AVX2 __attribute__((target("avx2")))

// Rows r[0..7] (eight words each) become columns: r[k] = word k of every former row.
FURROW_AVX2 inline void transpose8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

struct VecState {
  __m256i a, b, c, d;
};

// Step I (0..63) of section 3.4 on eight lanes; the template keeps shifts and word indexes
// constant.
template <int I>
FURROW_AVX2 inline void step(VecState& v, const __m256i m[16], const uint32_t* t) {
  __m256i f;
  if constexpr (I < 16) {
    f = _mm256_xor_si256(v.d, _mm256_and_si256(v.b, _mm256_xor_si256(v.c, v.d)));
  } else if constexpr (I < 32) {
    f = _mm256_xor_si256(v.c, _mm256_and_si256(v.d, _mm256_xor_si256(v.b, v.c)));
  } else if constexpr (I < 48) {
    f = _mm256_xor_si256(_mm256_xor_si256(v.b, v.c), v.d);
  } else {
    // c ^ (b | ~d)
    const __m256i ones = _mm256_set1_epi32(-1);
    f = _mm256_xor_si256(v.c, _mm256_or_si256(v.b, _mm256_xor_si256(v.d, ones)));
  }
  __m256i x = _mm256_add_epi32(_mm256_add_epi32(v.a, f),
                               _mm256_add_epi32(m[word_of(I)], _mm256_set1_epi32(int(t[I]))));
  x = _mm256_or_si256(_mm256_slli_epi32(x, kShift[I]), _mm256_srli_epi32(x, 32 - kShift[I]));
  const __m256i next = _mm256_add_epi32(v.b, x);
  v.a = v.d;
  v.d = v.c;
  v.c = v.b;
  v.b = next;
}

template <int... I>
FURROW_AVX2 inline void all_steps(VecState& v, const __m256i m[16], const uint32_t* t,
                                  std::integer_sequence<int, I...>) {
  (step<I>(v, m, t), ...);
}

FURROW_AVX2 void lanes_avx2(std::span<const std::string_view> msgs, std::span<Md5Digest> out) {
  const uint32_t* t = tables().t;
  alignas(32) static constexpr unsigned char kZero[64] = {};
  alignas(32) unsigned char tails[8][128];
  const unsigned char* data[8];
  int32_t blocks[8], full[8];
  int most = 0;
  for (std::size_t j = 0; j < 8; ++j) {
    if (j < msgs.size()) {
      data[j] = reinterpret_cast<const unsigned char*>(msgs[j].data());
      full[j] = static_cast<int32_t>(msgs[j].size() / 64);
      blocks[j] = full[j] + pad_tail(msgs[j], tails[j]);
    } else {
      data[j] = kZero;
      full[j] = 0;
      blocks[j] = 0;  // never active
    }
    most = std::max(most, blocks[j]);
  }
  const __m256i lane_blocks = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks));
  VecState v{_mm256_set1_epi32(int(kInit[0])), _mm256_set1_epi32(int(kInit[1])),
             _mm256_set1_epi32(int(kInit[2])), _mm256_set1_epi32(int(kInit[3]))};
  for (int b = 0; b < most; ++b) {
    __m256i m[16];
    for (int j = 0; j < 8; ++j) {
      const unsigned char* src = b < full[j]     ? data[j] + 64 * std::size_t(b)
                                 : b < blocks[j] ? tails[j] + 64 * std::size_t(b - full[j])
                                                 : kZero;
      m[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      m[8 + j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32));
    }
    transpose8(m);
    transpose8(m + 8);
    const VecState before = v;
    all_steps(v, m, t, std::make_integer_sequence<int, 64>{});
    // A lane past its last block keeps its state.
    const __m256i active = _mm256_cmpgt_epi32(lane_blocks, _mm256_set1_epi32(b));
    v.a = _mm256_add_epi32(before.a, _mm256_and_si256(v.a, active));
    v.b = _mm256_add_epi32(before.b, _mm256_and_si256(v.b, active));
    v.c = _mm256_add_epi32(before.c, _mm256_and_si256(v.c, active));
    v.d = _mm256_add_epi32(before.d, _mm256_and_si256(v.d, active));
  }
  alignas(32) uint32_t words[4][8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[0]), v.a);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[1]), v.b);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[2]), v.c);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[3]), v.d);
  for (std::size_t j = 0; j < msgs.size(); ++j) {
    const uint32_t s[4] = {words[0][j], words[1][j], words[2][j], words[3][j]};
    store_digest(s, out[j]);
  }
}
#undef FURROW_AVX2
#else
bool have_avx2() {
  return false;
}
#endif

}  // namespace

Md5Digest md5(std::string_view message) {
  uint32_t s[4] = {kInit[0], kInit[1], kInit[2], kInit[3]};
  const auto* p = reinterpret_cast<const unsigned char*>(message.data());
  const std::size_t full = message.size() / 64;
  for (std::size_t i = 0; i < full; ++i) compress(s, p + 64 * i);
  unsigned char tail[128];
  const int blocks = pad_tail(message, tail);
  for (std::size_t i = 0; i < std::size_t(blocks); ++i) compress(s, tail + 64 * i);
  Md5Digest out;
  store_digest(s, out);
  return out;
}

bool md5_lanes_available() {
  return have_avx2();
}

bool md5_lanes8(std::span<const std::string_view> messages, std::span<Md5Digest> out) {
  if (messages.empty() || messages.size() > 8 || out.size() < messages.size() || !have_avx2()) {
    return false;
  }
#if defined(__x86_64__)
  lanes_avx2(messages, out);
  return true;
#else
  return false;
#endif
}

void md5_many(std::span<const std::string_view> messages, std::span<Md5Digest> out) {
  const std::size_t n = messages.size();
  if (n < 2 || !have_avx2()) {
    for (std::size_t i = 0; i < n; ++i) out[i] = md5(messages[i]);
    return;
  }
  // Indexes by block count, so that each pass takes messages that end together: a counting sort
  // (std::sort when the counts spread over more than 256 values).
  constexpr std::size_t kInline = 64;
  uint32_t inline_order[kInline];
  std::vector<uint32_t> heap_order;
  uint32_t* order = inline_order;
  if (n > kInline) {
    heap_order.resize(n);
    order = heap_order.data();
  }
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const std::string_view m : messages) {
    lo = std::min(lo, block_count(m.size()));
    hi = std::max(hi, block_count(m.size()));
  }
  constexpr std::size_t kBuckets = 256;
  if (hi - lo < kBuckets) {
    uint32_t start[kBuckets + 1] = {};
    for (const std::string_view m : messages) ++start[block_count(m.size()) - lo + 1];
    for (std::size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    for (std::size_t i = 0; i < n; ++i) {
      order[start[block_count(messages[i].size()) - lo]++] = static_cast<uint32_t>(i);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    std::sort(order, order + n, [&](uint32_t x, uint32_t y) {
      return block_count(messages[x].size()) < block_count(messages[y].size());
    });
  }
  std::string_view group[8];
  Md5Digest digests[8];
  for (std::size_t i = 0; i < n; i += 8) {
    const std::size_t k = std::min<std::size_t>(8, n - i);
    if (k == 1) {
      out[order[i]] = md5(messages[order[i]]);
      break;
    }
    for (std::size_t j = 0; j < k; ++j) group[j] = messages[order[i + j]];
    md5_lanes8(std::span(group, k), std::span(digests, k));
    for (std::size_t j = 0; j < k; ++j) out[order[i + j]] = digests[j];
  }
}

void md5_hex(const Md5Digest& digest, char* out) {
#if defined(__x86_64__)
  // SSE2 (every x86-64): the high and low nibbles interleaved, each n -> '0' + n (+ 39 above 9).
  const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(digest.data()));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(d, 4), nibble);
  const __m128i low = _mm_and_si128(d, nibble);
  const auto hex = [](__m128i n) {
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(n, _mm_set1_epi8(9)), _mm_set1_epi8(39));
    return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), letter);
  };
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), hex(_mm_unpacklo_epi8(high, low)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), hex(_mm_unpackhi_epi8(high, low)));
#else
  // Two characters per byte from one table.
  static constexpr auto kPairs = [] {
    std::array<char, 512> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t b = 0; b < 256; ++b) {
      t[2 * b] = kHex[b >> 4];
      t[2 * b + 1] = kHex[b & 15];
    }
    return t;
  }();
  for (std::size_t i = 0; i < 16; ++i) std::memcpy(out + 2 * i, &kPairs[2 * digest[i]], 2);
#endif
}

}  // namespace furrow::common
