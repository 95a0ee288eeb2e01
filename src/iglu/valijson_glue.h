// Private to furrow_iglu: valijson with the RapidJSON adapter, plus furrow's draft-4 `format`
// checker. valijson 1.0's own format check converts non-strings to strings (so null fails
// `date-time`) and knows only date/time formats; draft 4 says `format` applies to strings only.
// `pattern` is matched with RE2 where it can be (valijson's std::regex is slow and recursive).
// The specialisations below replace both for the adapter furrow uses; every file that instantiates
// the validator must include this header (and no other valijson validator header first).
#pragma once

#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

// valijson's adapter wants to redefine RAPIDJSON_ASSERT to throw (and warns when RapidJSON came
// first). furrow keeps RapidJSON's own assert everywhere, so the macro is hidden from the adapter
// and restored right after it.
#include <rapidjson/rapidjson.h>
#pragma push_macro("RAPIDJSON_ASSERT")
#undef RAPIDJSON_ASSERT
#include <valijson/adapters/rapidjson_adapter.hpp>
#undef RAPIDJSON_ASSERT
#pragma pop_macro("RAPIDJSON_ASSERT")
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validation_visitor.hpp>

namespace valijson {
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::FormatConstraint& constraint);
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::PatternConstraint& constraint);
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::MultipleOfDoubleConstraint& constraint);
}  // namespace valijson
