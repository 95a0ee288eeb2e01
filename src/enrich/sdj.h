// Self-describing JSON carried by events (spec 1.4): parsing with a depth limit, envelope checks,
// validation through the Iglu seam (with blocking retries on registry outages) and Snowplow's
// re-serialisation of the contexts / unstruct_event columns.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iglu/validator.h"

namespace furrow::enrich {

inline constexpr std::string_view kContextsSchema =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";
inline constexpr std::string_view kUnstructSchema =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";
inline constexpr std::string_view kAtomicSchema =
    "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0";

// The parts of an Iglu URI, as views into the URI text.
struct IgluUri {
  std::string_view vendor, name, format, version;
};

// Parses "iglu:vendor/name/format/M-R-A". On failure returns false with `code` set to
// "INVALID_IGLUURI" or "INVALID_SCHEMAVER" (iglu-core's ParseError codes).
// The parts are views into `uri`. Repeated URIs are answered from a small per-thread memo.
bool parse_iglu_uri(std::string_view uri, IgluUri& out, const char*& code);
namespace detail {
// parse_iglu_uri without the memo: the scan itself.
bool parse_iglu_uri_scan(std::string_view uri, IgluUri& out, const char*& code);
}  // namespace detail

// How validation reaches the registry: the validator (may be null: every entity is then taken as
// valid) and the back-off used while the registry is unreachable. Outages are retried for as long
// as they last (never a bad row); the sleep doubles from initial_ms up to max_ms.
struct ValidationSettings {
  iglu::SchemaValidator* validator = nullptr;
  int retry_initial_ms = 100;
  int retry_max_ms = 10'000;
};

// validator->validate with the retry loop above; kValid when there is no validator.
iglu::ValidationOutcome validate_with_retry(const ValidationSettings& vs,
                                            std::string_view schema_uri,
                                            const rapidjson::Value& data);

// Parses JSON text into `doc` (valid UTF-8 required), refusing nesting deeper than `max_depth`.
// On failure returns false with a message in `error`.
bool parse_json_limited(std::string_view text, int max_depth, rapidjson::Document& doc,
                        std::string& error);

// Appends the compact serialisation of `v` to `out` (member order kept, non-ASCII raw).
void append_json(const rapidjson::Value& v, std::string& out);

// Results of checking the ue / co inputs of one event.
struct SdjResult {
  // Column text to store (contexts or unstruct_event); empty when nothing valid remains.
  std::string column;
  // schema_violations messages, compact JSON each.
  std::vector<std::string> messages;
  // validation_info entities for superseded schemas (compact SDJ each).
  std::vector<std::string> validation_infos;
  // For unstruct events: the inner event's schema URI after superseding (empty if none).
  std::string event_schema;
  void clear() {
    column.clear();
    messages.clear();
    validation_infos.clear();
    event_schema.clear();
  }
};

// `json` is the decoded text of co/cx. Without a validator, well-formed input takes a copying
// fast path (fast_contexts_column) with the same result; `allow_fast` = false forces the DOM path
// (for tests that compare the two).
void process_contexts(std::string_view json, const ValidationSettings& vs, int max_depth,
                      SdjResult& result, bool allow_fast = true);
// `json` is the decoded text of ue_pr/ue_px.
void process_unstruct(std::string_view json, const ValidationSettings& vs, int max_depth,
                      SdjResult& result, bool allow_fast = true);

// The no-validator fast paths: the contexts / unstruct_event column written straight from the
// input text, without a DOM. They return false (the caller then takes the DOM path) for anything
// they do not handle, including every input that would give a message; when they return true the
// column (and event_schema) equal what the DOM path gives.
bool fast_contexts_column(std::string_view json, int max_depth, std::string& column);
bool fast_unstruct_column(std::string_view json, int max_depth, std::string& column,
                          std::string& event_schema);

// Checks one derived context (an SDJ produced by an enrichment). Returns true when it is kept;
// otherwise appends a schema_violations message. May rewrite `entity` to a superseding version
// and append a validation_info entity.
bool check_derived_context(std::string& entity, const ValidationSettings& vs, int max_depth,
                           std::vector<std::string>& messages,
                           std::vector<std::string>& validation_infos);

}  // namespace furrow::enrich
