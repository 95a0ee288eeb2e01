// MD5 (RFC 1321) of many independent messages at once. With AVX2 (checked at run time; the build
// targets plain x86-64) up to eight messages go through one pass, one per 32-bit lane of the
// vector registers, so eight dependency chains run side by side instead of one; without it each
// message is hashed by the scalar code here. The digests are those of any other MD5.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace furrow::common {

using Md5Digest = std::array<uint8_t, 16>;

// One message, scalar.
Md5Digest md5(std::string_view message);

// out[i] = md5(messages[i]) for every i (out.size() must equal messages.size()). Messages of any
// lengths; they are grouped by block count so that the lanes of a pass finish together. Allocates
// only for more than 64 messages (the grouping order).
void md5_many(std::span<const std::string_view> messages, std::span<Md5Digest> out);

// For tests and benchmarks: the one pass over 1..8 messages (lanes of mixed lengths; a lane whose
// message has ended keeps its state). Returns false, writing nothing, when the CPU lacks AVX2 or
// the count is out of range.
bool md5_lanes8(std::span<const std::string_view> messages, std::span<Md5Digest> out);
bool md5_lanes_available();

// Lower-case hex of a digest: 32 characters at `out`.
void md5_hex(const Md5Digest& digest, char* out);

}  // namespace furrow::common
