// Distinct counting for visitors: exact while small, HyperLogLog when large.
//
// A DistinctSketch holds 64-bit hashes of the values seen. While it holds at most `sparse_limit`
// distinct hashes it keeps them all (sorted) and counts exactly (up to hash collisions, which are
// negligible at 64 bits); past that it switches to a HyperLogLog of 2^12 one-byte registers
// (standard error about 1.6%). Sketches merge, so one stored per hour (or day) and app answers
// "distinct visitors" for any range by merging the buckets it covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::dashboard {

// The hash a value contributes (FNV-1a, then a 64-bit finaliser for well-spread high bits).
uint64_t distinct_hash(std::string_view value);

class DistinctSketch {
 public:
  static constexpr std::size_t kStoredSparseLimit = 512;  // 4 KB as hashes, as big as the HLL
  static constexpr int kPrecision = 12;
  static constexpr std::size_t kRegisters = std::size_t{1} << kPrecision;

  explicit DistinctSketch(std::size_t sparse_limit = kStoredSparseLimit)
      : sparse_limit_(sparse_limit) {}

  void add_hash(uint64_t h);
  void add(std::string_view value) { add_hash(distinct_hash(value)); }
  // Merges a serialized sketch; false (and nothing merged) when `bytes` is not one.
  bool merge_serialized(std::string_view bytes);
  void merge(const DistinctSketch& other);

  bool exact() const { return registers_.empty(); }
  // The number of distinct values (exact while exact()).
  int64_t estimate();
  // Byte 0 is the kind (1 sparse, 2 HyperLogLog), then the sorted hashes (little-endian) or the
  // registers.
  std::string serialize();

 private:
  void normalize();  // sorts and dedups pending hashes; switches to HLL past the limit
  void to_registers();
  void add_register(uint64_t h);

  std::size_t sparse_limit_;
  std::vector<uint64_t> hashes_;  // sorted unique prefix [0, sorted_) + pending tail
  std::size_t sorted_ = 0;
  std::vector<uint8_t> registers_;  // non-empty: HLL mode
};

}  // namespace furrow::dashboard
