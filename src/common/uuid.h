// UUID text helpers (RFC 4122 canonical 8-4-4-4-12 form).
#pragma once

#include <string>
#include <string_view>

namespace furrow {

// True when `s` is exactly 36 characters in the 8-4-4-4-12 hexadecimal form (either case). This is
// Snowplow's UUID rule: Java's UUID.fromString must accept it and its canonical lower-case form
// must equal the lower-cased input, which rules out short groups and un-hyphenated forms.
bool is_uuid(std::string_view s);

// Writes the lower-case form of a valid UUID into `out` (replacing its content); false if `s` is
// not a UUID (then `out` is unchanged).
bool normalize_uuid(std::string_view s, std::string& out);

// A random version-4 UUID in lower case. Uses a per-thread generator seeded from the OS; not for
// secrets, only for unique identifiers.
void random_uuid_v4(std::string& out);
std::string random_uuid_v4();

}  // namespace furrow
