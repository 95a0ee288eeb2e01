// Every tracker-protocol parameter name furrow knows (the payload_data keys of every 1-0-x
// version plus the tp1-only names), each with a small integer id, and an O(1) lookup from a name
// to its id through a collision-free hash table built once. The enrich pipeline maps parameters
// to columns by id; the tp2 POST scanner checks keys against payload_data with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace furrow::protocol {

// Number of known names; ids are 0 .. kParamKeyCount - 1.
inline constexpr int kParamKeyCount = 86;

// The id of `name`, or -1 when it is not a known parameter name.
int param_key_id(std::string_view name);
// param_key_id for a name of `n` bytes (1 <= n <= 7) given packed: byte i of the name is byte i of
// `packed` (little-endian order), the bytes above n are zero. Inline (below): the tp2 POST scanner
// looks up every key of every event with it.
inline int param_key_id_packed(uint64_t packed, std::size_t n);
// The name of id `id` (0 <= id < kParamKeyCount).
std::string_view param_key_name(int id);
// The payload_data addition (1-0-<n>) that introduced id's key, or -1 when no payload_data version
// allows it (names only tp1 or the pipeline use, such as ev_ca and cv).
int param_key_since(int id);

// The ids payload_data 1-0-<addition> allows (0 <= addition <= 4), as a 128-bit set: bit (id & 63)
// of word (id >> 6). Ids with param_key_since(id) in [0, addition].
inline const std::array<uint64_t, 2>& param_keys_allowed_by(int addition);

namespace detail {
// The table behind param_key_id (built by the compiler in param_keys.cpp). Slot s holds a known
// name packed as for param_key_id_packed with its length in the top byte (every name is 1-7
// bytes, so that byte is free), or 0; the multiplier is chosen so that no two names share a slot.
struct ParamKeyTable {
  static constexpr int kBits = 10;
  uint64_t mult = 0;
  std::array<uint64_t, std::size_t{1} << kBits> keys{};
  std::array<int8_t, std::size_t{1} << kBits> ids{};
  std::array<std::array<uint64_t, 2>, 5> allowed{};  // param_keys_allowed_by
};
extern const ParamKeyTable kParamKeyTable;
}  // namespace detail

inline int param_key_id_packed(uint64_t packed, std::size_t n) {
  // A name with a NUL byte packs like a shorter one: the length byte tells them apart.
  const uint64_t k = packed | (uint64_t{n} << 56);
  const detail::ParamKeyTable& t = detail::kParamKeyTable;
  const std::size_t s = (k * t.mult) >> (64 - detail::ParamKeyTable::kBits);
  return t.keys[s] == k ? t.ids[s] : -1;
}

inline const std::array<uint64_t, 2>& param_keys_allowed_by(int addition) {
  return detail::kParamKeyTable.allowed[static_cast<std::size_t>(addition)];
}

// A parameter seen as views: `name` and `value` point into memory the producer keeps alive while
// the views are used. `id` is param_key_id(name).
struct ParamView {
  std::string_view name;
  std::string_view value;
  int id = -1;
};

}  // namespace furrow::protocol
