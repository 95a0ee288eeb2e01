// The value and tab copies of the two TSV line writers (event/tsv.cpp, enrich/direct_tsv.cpp),
// which copy many short values into a line buffer with room to spare after each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace furrow::common {

// Copies n bytes from src to dst. 1-16 bytes: one 16-byte load when it stays inside src's 4 KiB
// page (it cannot fault, though it may read bytes after the value), else exact loads; 17-32: two
// overlapping 16-byte blocks; longer: memcpy. Up to 16 bytes past dst + n may be written, so dst
// needs that much room; the caller overwrites them with its next write or drops them with the
// line's final length. Callers must not be ASan-instrumented (the over-read of short values).
[[gnu::always_inline]] inline void copy_with_overhang(char* dst, const char* src, std::size_t n) {
#if defined(__SSE2__)
  constexpr std::size_t kBlock = 16;
  if (n - 1 < kBlock) {
    if ((reinterpret_cast<uintptr_t>(src) & 4095) <= 4096 - kBlock) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
    } else if (n >= 8) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else {
      for (std::size_t k = 0; k < n; ++k) dst[k] = src[k];
    }
    return;
  }
  if (n - (kBlock + 1) < kBlock) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - kBlock));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - kBlock), b);
    return;
  }
#endif
  if (n != 0) std::memcpy(dst, src, n);
}

// Writes n tabs at p and returns p + n. With SSE2 one 16-byte block is always stored (even for
// n = 0) and further ones as needed, so up to 16 bytes past p + n may be written, as above.
[[gnu::always_inline]] inline char* put_tabs_with_overhang(char* p, std::size_t n) {
#if defined(__SSE2__)
  const __m128i t = _mm_set1_epi8('\t');
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), t);
  for (std::size_t k = 16; k < n; k += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(p + k), t);
#else
  std::memset(p, '\t', n);
#endif
  return p + n;
}

}  // namespace furrow::common
