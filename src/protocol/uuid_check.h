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

// canonical_uuid into `out` (its storage reused): true with the canonical form, or false (`out`
// unspecified). The usual 36-character 8-4-4-4-12 form is checked and lower-cased in one pass.
bool canonical_uuid(std::string_view s, std::string& out);

}  // namespace furrow::protocol
