// The enriched-event TSV codec (spec sections 3.1, 3.2): 131 tab-separated fields, no header, no
// trailing tab, null as the empty string.
#pragma once

#include <string>
#include <string_view>

#include "event/enriched_event.h"

namespace furrow::event {

// Appends the event's line (without the '\n') to `out`.
void write_tsv(const EnrichedEvent& event, std::string& out);
// The same, unless a value is longer than its column's entry in `byte_limits` (kFieldCount
// entries; null = no limits): then returns false with `out` unchanged.
bool write_tsv(const EnrichedEvent& event, std::string& out, const std::size_t* byte_limits);

// Parses one line (a trailing '\n' or '\r\n' is ignored). Fails with a message naming the problem
// (wrong field count, non-numeric int field, bad timestamp, ...) when the line is not a valid
// enriched event; never throws.
bool read_tsv(std::string_view line, EnrichedEvent& out, std::string& error);

// The value checks read_tsv applies by column kind (also used by loaders that check lines without
// read_tsv, so both accept exactly the same values).
// Java Integer.parseInt range: the analytics SDKs read these columns as 32-bit ints.
bool valid_tsv_int(std::string_view s);
// The text BigDecimal.toString produces (and accepts): [+-]digits[.digits][E[+-]digits].
bool valid_tsv_decimal(std::string_view s);
// A finite double.
bool valid_tsv_float(std::string_view s);
// JSON syntax and UTF-8, without building a document; `why` says what is wrong when false.
bool valid_tsv_json(std::string_view s, std::string& why);

}  // namespace furrow::event
