// Byte scans with an AVX2 inner loop, chosen at run time (the build targets plain x86-64). Each
// scan covers whole 32-byte blocks only and leaves the last < 32 bytes (and, without AVX2,
// everything) to the caller's own loop, so callers keep one exact scalar statement of their rule.
#pragma once

#include <cstddef>

namespace furrow::common {

// True when the CPU runs AVX2 (checked once).
bool cpu_has_avx2();

// The first byte in [p, end) that is '"', '\\' or below 0x20 (a JSON string's plain run ends
// there), searched block by block: returns its address if it lies in a whole 32-byte block,
// else the start of the first block that does not fit (or p without AVX2).
const char* skip_json_plain(const char* p, const char* end);

// As skip_json_plain, also stopping at bytes >= 0x80.
const char* skip_json_plain_ascii(const char* p, const char* end);

// A multiple of 32, at most n: how many leading bytes of p are ASCII, counted in whole 32-byte
// blocks (0 without AVX2).
std::size_t ascii_blocks(const char* p, std::size_t n);

}  // namespace furrow::common
