#include "common/simd.h"

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace furrow::common {
namespace {

#if defined(__x86_64__)
// Mask of the bytes of `c` that are '"', '\\' or <= 0x1F (unsigned).
__attribute__((target("avx2"))) inline uint32_t json_special(__m256i c) {
  const __m256i quote = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('"'));
  const __m256i backslash = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('\\'));
  const __m256i low = _mm256_set1_epi8(0x1F);
  const __m256i control = _mm256_cmpeq_epi8(_mm256_max_epu8(c, low), low);
  return static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(quote, backslash), control)));
}

__attribute__((target("avx2"))) const char* skip_json_avx2(const char* p, const char* end,
                                                           bool stop_non_ascii) {
  while (end - p >= 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    uint32_t m = json_special(c);
    // movemask of the bytes themselves: their high bits, i.e. the bytes >= 0x80.
    if (stop_non_ascii) m |= static_cast<uint32_t>(_mm256_movemask_epi8(c));
    if (m != 0) return p + __builtin_ctz(m);
    p += 32;
  }
  return p;
}

__attribute__((target("avx2"))) std::size_t ascii_avx2(const char* p, std::size_t n) {
  std::size_t i = 0;
  // 64 bytes per test while they last (the two blocks' high bits ORed), then one block at a time
  // up to the first block with a byte >= 0x80.
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) != 0) break;
  }
  for (; i + 32 <= n; i += 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    if (_mm256_movemask_epi8(c) != 0) break;
  }
  return i;
}
#endif

}  // namespace

bool cpu_has_avx2() {
#if defined(__x86_64__)
  // __builtin_cpu_init: this may run during static initialisation, before libgcc's own.
  static const bool kAvx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return kAvx2;
#else
  return false;
#endif
}

const char* skip_json_plain(const char* p, const char* end) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return skip_json_avx2(p, end, false);
#endif
  (void)end;
  return p;
}

const char* skip_json_plain_ascii(const char* p, const char* end) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return skip_json_avx2(p, end, true);
#endif
  (void)end;
  return p;
}

std::size_t ascii_blocks(const char* p, std::size_t n) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return ascii_avx2(p, n);
#endif
  (void)p;
  (void)n;
  return 0;
}

}  // namespace furrow::common
