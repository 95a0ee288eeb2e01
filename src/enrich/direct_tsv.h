// The pipeline's direct TSV writer: one event's enriched line written from the tracker's parameter
// views and a few converted values, without an EnrichedEvent (the base path of spec 4.1 when no
// enrichment is configured).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "enrich/sdj.h"
#include "event/raw_event.h"
#include "protocol/param_keys.h"

namespace furrow::enrich {

// What does not change between the events of one call.
struct DirectRun {
  std::string_view collector_name;  // v_collector unless the event has `cv`
  std::string_view v_etl;
  std::string_view etl_tstamp;  // TSV text
  const ValidationSettings* vs = nullptr;
  int max_json_depth = 50;
  bool accept_invalid = false;  // length limits off
  std::size_t max_record_bytes = 10'000'000;
};

// Appends the enriched TSV line (followed by '\n' when `newline`) of the event made of `params` and
// the request context in `raw` (timestamp, ip_address, useragent, referer_uri, user_id; its
// parameters and headers are not read) to `out`, and returns true. The line is byte for byte the
// one the pipeline's general (EnrichedEvent) path writes with no enrichment configured.
//
// Returns false, with `out` unchanged, for any event the general path would not write as a good
// line or that this writer leaves to it: a conversion or parse failure, a schema violation, a
// validation_info entity (a superseded schema), a value over its column's byte limit (the general
// path applies the exact UTF-16 rule), a line over max_record_bytes. The caller then runs the
// general path on the event, which gives the bad row or the line.
//
// The views in `params` and `raw` must stay valid during the call only. Uses per-thread memory;
// not re-entrant (it runs nothing configurable).
bool write_direct_tsv(const DirectRun& run, const event::RawEvent& raw,
                      std::span<const protocol::ParamView> params, std::string& out, bool newline);

}  // namespace furrow::enrich
