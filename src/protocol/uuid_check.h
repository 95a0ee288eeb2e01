// java.util.UUID.fromString as Snowplow's loaders use it for the collector's networkUserId.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrow::protocol {

// The canonical lower-case form (8-4-4-4-12 hex, zero-padded) of `s` when Java would parse it:
// five '-'-separated non-empty hex groups of at most 8, 4, 4, 4 and 12 digits, 36 characters at
// most. nullopt otherwise.
std::optional<std::string> canonical_uuid(std::string_view s);

}  // namespace furrow::protocol
