// Encoding atomic_events rows for PostgreSQL COPY ... FROM STDIN, in the binary format (the
// default: the server then skips parsing timestamps and numbers) or in the text format.
//
// Both encodings store exactly the same values: the binary encoder converts only the canonical
// forms whose PostgreSQL text parse it reproduces bit for bit (timestamps `yyyy-MM-dd
// HH:mm:ss[.f{1,6}]` in years 1..9999, 32-bit integers, finite doubles, 0/1 booleans) and declines
// any other row, which the caller then sends in the text format for the server to parse as before.
// Column order and types are those of loader_schema (the 131 enriched fields, then load_id).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sinks/pg_fields.h"

namespace furrow::sinks {

// What starts a binary COPY stream (signature, flags, header extension length) and what ends it.
std::string_view pg_binary_copy_header();
std::string_view pg_binary_copy_trailer();

// Appends one row (the 131 values, empty = NULL, then load_id) in COPY binary format. Returns false
// and leaves `out` as it was when a value is not in a form the binary encoder converts exactly
// (see above); values are otherwise assumed to be checked already (storable_value).
bool append_pg_binary_row(std::string& out, const EventFields& values, int64_t load_id);

// Appends one row in COPY text format: backslash, tab, newline and CR escaped, empty as \N,
// `load_id` as given. Never fails.
void append_pg_text_row(std::string& out, const EventFields& values, std::string_view load_id);

// A TSV timestamp as PostgreSQL `timestamp` binary: microseconds since 2000-01-01 00:00:00.
// False for anything but `yyyy-MM-dd HH:mm:ss[.f{1,6}]` with a valid date and time, year 1..9999.
bool pg_timestamp_micros(std::string_view value, int64_t& micros);

}  // namespace furrow::sinks
