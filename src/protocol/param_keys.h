// Every tracker-protocol parameter name furrow knows (the payload_data keys of every 1-0-x
// version plus the tp1-only names), each with a small integer id, and an O(1) lookup from a name
// to its id through a collision-free hash table built once. The enrich pipeline maps parameters
// to columns by id; the tp2 POST scanner checks keys against payload_data with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace furrow::protocol {

// Number of known names; ids are 0 .. kParamKeyCount - 1.
inline constexpr int kParamKeyCount = 86;

// The id of `name`, or -1 when it is not a known parameter name.
int param_key_id(std::string_view name);
// param_key_id for a name of `n` bytes (1 <= n <= 7) given packed: byte i of the name is byte i of
// `packed` (little-endian order), the bytes above n are zero.
int param_key_id_packed(uint64_t packed, std::size_t n);
// The name of id `id` (0 <= id < kParamKeyCount).
std::string_view param_key_name(int id);
// The payload_data addition (1-0-<n>) that introduced id's key, or -1 when no payload_data version
// allows it (names only tp1 or the pipeline use, such as ev_ca and cv).
int param_key_since(int id);

// A parameter seen as views: `name` and `value` point into memory the producer keeps alive while
// the views are used. `id` is param_key_id(name).
struct ParamView {
  std::string_view name;
  std::string_view value;
  int id = -1;
};

}  // namespace furrow::protocol
