// Decimal text as Java's BigDecimal reads and prints it (spec 1.3 "decimal", 3.2).
#pragma once

#include <string>
#include <string_view>

namespace furrow {

// Parses `in` with the grammar of `new java.math.BigDecimal(String)` ([+-] digits [. digits]
// [e|E [+-] digits], at least one significand digit), normalises a negative scale to 0 (so
// "1E+3" becomes "1000", as Snowplow does) and writes BigDecimal.toString() of the result into
// `out` (scale preserved: "12.90" stays "12.90"; exponent form when the adjusted exponent is
// below -6, e.g. "0.0000001" -> "1E-7"). On failure returns false and sets `error` to the reason
// (Java's wording where it has one). Results longer than 1000 characters are refused to keep
// memory bounded (Java would build them).
bool java_decimal(std::string_view in, std::string& out, std::string& error);

}  // namespace furrow
