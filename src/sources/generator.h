// A deterministic traffic generator (`furrow gen`): realistic raw payloads in enrich's default
// input format (one base64 Thrift CollectorPayload per line), as a stream collector records them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "event/collector_payload.h"

namespace furrow::sources {

struct GeneratorConfig {
  // Same seed (and same other settings) → byte-identical output on every platform: the generator
  // uses its own PRNG and integer arithmetic only, never std:: distributions or the clock.
  uint64_t seed = 1;
  // Share of payloads (0..1) that are malformed in one of the ways listed in MalformedKind.
  double malformed_share = 0.0;
  // Collector time of the first payload, ms since epoch (default 2026-01-01T00:00:00Z).
  int64_t start_ms = 1767225600000;
  // Size of the simulated visitor population.
  uint32_t visitors = 5000;
};

// The ways a generated payload can be broken. Every kind makes exactly one bad row in enrich (a
// payload rejected as a whole, or a single-event GET whose one event fails).
enum class MalformedKind : uint8_t {
  kNone,
  kInvalidBase64,     // the line is not base64 → collector_payload_format_violation
  kTruncatedThrift,   // valid base64 of a cut Thrift struct → collector_payload_format_violation
  kBadQuerystring,    // raw '{' / space in the query string → collector_payload_format_violation
  kBadNetworkUserId,  // sp cookie value not a UUID → collector_payload_format_violation
  kUnknownPath,       // /com.acme/v9 → adapter_failures
  kWrongContentType,  // POST text/plain → tracker_protocol_violations
  kInvalidJsonBody,   // POST body cut mid-JSON → tracker_protocol_violations
  kEmptyBody,         // POST with content type and no body → tracker_protocol_violations
  kBadEventType,      // e=xx → schema_violations
  kBadEventId,        // eid not a UUID → schema_violations
  kBadTimestamp,      // dtm not ms since epoch → schema_violations
  kBadUnstructJson,   // ue_pr not JSON → schema_violations
  kCount
};
std::string_view malformed_kind_name(MalformedKind k);

struct GeneratedPayload {
  std::string line;  // the input line, without '\n'
  // Events enrich will count for this payload (good + bad rows it produces): the number of
  // tracked events, or 1 for a malformed payload.
  uint32_t events = 0;
  MalformedKind malformed = MalformedKind::kNone;
  bool post = false;
};

class Generator {
 public:
  explicit Generator(GeneratorConfig config);

  // The next payload, carrying between 1 and `max_events` events (max_events >= 1). Deterministic
  // in (config, sequence of max_events values).
  void next(uint32_t max_events, GeneratedPayload& out);

  // The CollectorPayload behind the last well-formed Thrift line (for tests).
  const event::CollectorPayload& last_payload() const { return payload_; }

 private:
  uint64_t rand();
  uint32_t below(uint32_t n);  // uniform-ish in [0, n)
  bool chance(uint32_t per_mille);
  void uuid(std::string& out);
  struct Visitor;
  void visitor(uint32_t index, Visitor& v);
  void build_event(const Visitor& v, bool post, std::string& tmp, bool page_view);
  void add_param(std::string_view name, std::string_view value);
  void malformed(MalformedKind kind, const Visitor& v, GeneratedPayload& out);
  void fill_request(const Visitor& v);
  void encode_line(GeneratedPayload& out);

  GeneratorConfig config_;
  uint64_t state_;
  uint64_t threshold_;  // malformed when rand() < threshold_
  int64_t now_ms_;
  uint64_t order_seq_ = 0;
  // Scratch, reused between calls.
  event::CollectorPayload payload_;
  std::string scratch_;
  bool post_mode_ = false;  // add_param writes JSON members instead of query pairs
  bool first_param_ = true;
};

}  // namespace furrow::sources
