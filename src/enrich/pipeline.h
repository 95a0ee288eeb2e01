// The enrichment pipeline: CollectorPayloads in, enriched TSV lines and bad rows out (spec 4.1).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/enrichment.h"
#include "event/collector_payload.h"
#include "iglu/validator.h"

namespace furrow::enrich {

class DeferredMd5;  // enrich/deferred_md5.h

struct PipelineConfig {
  // processor.artifact / v_etl prefix
  std::string artifact = "furrow-enrich";
  // Enabled enrichments; the pipeline runs them in step order.
  std::vector<std::shared_ptr<const Enrichment>> enrichments;
  // Validates self-describing events and entities; when null every entity is taken as valid
  // (only JSON and envelope shape are checked).
  std::shared_ptr<iglu::SchemaValidator> validator;
  // Length limits: when false (the default, as modern Snowplow) over-long fields fail the event.
  bool accept_invalid = false;
  // Largest enriched TSV line or bad row (bytes); bigger ones become size_violation bad rows.
  std::size_t max_record_bytes = 10'000'000;
  // Maximum JSON nesting depth in ue/co/bodies.
  int max_json_depth = 50;
  // For tests: fixed etl_tstamp and bad-row timestamps (ms since epoch); 0 = the clock.
  int64_t fixed_now_ms = 0;
  // While the Iglu registry is unreachable (kInfrastructure) validation is retried, blocking the
  // calling worker; the sleep between attempts doubles from the first value up to the second.
  int registry_retry_initial_ms = 100;
  int registry_retry_max_ms = 10'000;
  // For tests: false sends every payload down the general RawEvent path (adapt()), which the
  // parameter-view fast path must match byte for byte.
  bool view_fast_path = true;
  // For tests: false sends every view-path event without enrichments through the EnrichedEvent
  // path instead of the direct TSV writer (direct_tsv.h), which must match it byte for byte.
  bool direct_tsv = true;
};

// Results of one payload.
struct Output {
  std::vector<std::string> good;  // enriched TSV lines, no '\n'
  std::vector<std::string> bad;   // bad-row JSON documents, no '\n'
  // When set (by the streaming runner), good lines are instead appended to this buffer, each
  // followed by '\n', and counted in `good_appended`: no per-line string is built or copied.
  std::string* good_text = nullptr;
  std::size_t good_appended = 0;
  // When set together with good_text: MD5 event fingerprints of good lines may be left
  // as placeholders in good_text and kept here; the caller must call deferred_md5->resolve_all()
  // before good_text is used (bad rows always carry the real fingerprint). Not cleared by clear().
  DeferredMd5* deferred_md5 = nullptr;
  std::size_t good_count() const { return good.size() + good_appended; }
  void clear() {
    good.clear();
    bad.clear();
    good_appended = 0;
  }
};

// Immutable after construction and safe to share between threads; each call keeps its state on
// the stack or in `out`.
class Pipeline {
 public:
  explicit Pipeline(PipelineConfig config);
  ~Pipeline();

  // One Thrift-encoded CollectorPayload (the raw record). Every outcome lands in `out`: each
  // tracked event as a good line or a bad row, or one bad row for the whole payload.
  void process_thrift(std::string_view bytes, Output& out) const;
  // A decoded payload. `loader` is thrift | cloudfront | clj-tomcat (for bad rows). `raw` is the
  // record as read (the log line, or the Thrift bytes): it becomes the payload of a
  // collector_payload_format_violation; when empty, the payload re-encoded as Thrift is used.
  void process_payload(const event::CollectorPayload& payload, std::string_view loader, Output& out,
                       std::string_view raw = {}) const;
  // A payload that could not even be read (bad base64, malformed log line, ...): one
  // collector_payload_format_violation bad row carrying `raw` and the message.
  void reject_raw(std::string_view loader, std::string_view raw, std::string_view message,
                  Output& out) const;

  const PipelineConfig& config() const { return config_; }

 private:
  PipelineConfig config_;
  std::string v_etl_;       // the v_etl column: artifact-version
  bool defer_md5_ = false;  // fingerprint_deferrable(the sorted chain)
};

}  // namespace furrow::enrich
