// The enriched-event TSV codec (spec sections 3.1, 3.2): 131 tab-separated fields, no header, no
// trailing tab, null as the empty string.
#pragma once

#include <string>
#include <string_view>

#include "event/enriched_event.h"

namespace furrow::event {

// Appends the event's line (without the '\n') to `out`.
void write_tsv(const EnrichedEvent& event, std::string& out);

// Parses one line (a trailing '\n' or '\r\n' is ignored). Fails with a message naming the problem
// (wrong field count, non-numeric int field, bad timestamp, ...) when the line is not a valid
// enriched event; never throws.
bool read_tsv(std::string_view line, EnrichedEvent& out, std::string& error);

}  // namespace furrow::event
