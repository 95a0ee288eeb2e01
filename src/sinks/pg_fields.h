// The fields of an enriched TSV line as views, for loaders that encode each event straight from
// its line (the PostgreSQL COPY encoder) instead of copying it into an EnrichedEvent.
#pragma once

#include <array>
#include <string_view>

#include "event/enriched_event.h"

namespace furrow::sinks {

// Views into one line; valid while the line is.
using EventFields = std::array<std::string_view, event::kFieldCount>;

// Splits `line` (no trailing newline) into its fields and returns true only when it is certain
// that event::read_tsv() and storable_value() both accept the line: one pass finds the tabs and
// rules out control bytes, and each value gets the same check as there. Anything unusual (a
// control byte other than tab, a non-ASCII byte in a value that needs a UTF-8 check, a wrong
// field count, a value that fails a check) returns false, and the caller runs the exact checks,
// which decide and say why. Never accepts a line those checks reject (tested on a corpus).
//
// `trusted_json` (furrow run: lines its own enrich just wrote) skips parsing the JSON columns
// (contexts, derived_contexts, unstruct_event): enrich writes them with a JSON writer or as a
// validated compact copy, so they are well-formed by construction, and the parse was about a
// fifth of the loader's work per event. Such a value must still start with '{' and end with '}',
// and keeps every other check (UTF-8, length, the \u0000 escape). Never for input read from
// files or Kafka.
bool quick_accept_enriched(std::string_view line, EventFields& fields, bool trusted_json = false);

// Splits a line that was accepted before (exactly kFieldCount fields); no checks.
void split_enriched(std::string_view line, EventFields& fields);

// Views of an EnrichedEvent's values.
void fields_of(const event::EnrichedEvent& event, EventFields& fields);

}  // namespace furrow::sinks
