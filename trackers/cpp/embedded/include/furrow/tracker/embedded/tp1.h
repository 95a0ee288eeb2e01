// furrow's embedded tracker core: builds Snowplow Tracker Protocol GET (tp1) query strings for
// microcontrollers and other small devices.
//
// Contract: no heap allocation, no exceptions, no RTTI, no libstdc++ symbols, no static state.
// Every function writes into a caller-provided buffer and reports kBufferTooSmall (leaving an
// empty NUL-terminated string) when the result does not fit, so a fixed buffer is always safe.
// The caller sends "GET <collector>/i?<query>" with whatever network stack the device has; the
// collector answers a 1x1 GIF. Randomness (for the event id) comes from a caller-provided source,
// and time (dtm, ms since the Unix epoch) from the caller's clock.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace furrow::tracker::embedded {

inline constexpr const char* kTrackerVersion = "furrow-embedded-0.1.0";
inline constexpr const char* kGetPath = "/i";

enum class Status : uint8_t {
  kOk = 0,
  kBufferTooSmall,   // the output buffer cannot hold the query string and its NUL
  kInvalidArgument,  // a required argument is missing or malformed (see each function)
};

// Fills out[0..n) with random bytes (hardware RNG, seeded PRNG, ...). Called once per event.
using RandomFn = void (*)(void* context, uint8_t* out, size_t n);

struct Config {
  const char* app_id = nullptr;                   // aid; optional
  const char* platform = "iot";                   // p; one of Snowplow's platform codes
  const char* tracker_version = kTrackerVersion;  // tv
  const char* tracker_namespace = nullptr;        // tna; optional
  RandomFn random = nullptr;                      // required: the event id (eid) source
  void* random_context = nullptr;
};

// One property of a self-describing (sensor) event's data object.
enum class FieldType : uint8_t { kInt, kFixed, kString, kBool };
struct Field {
  const char* name = nullptr;
  FieldType type = FieldType::kInt;
  int64_t int_value = 0;               // kInt; kFixed: the value scaled by 10^decimals
  uint8_t decimals = 0;                // kFixed: digits after the point (0..18)
  const char* string_value = nullptr;  // kString (UTF-8, escaped as needed)
  bool bool_value = false;             // kBool
};
constexpr Field int_field(const char* name, int64_t v) {
  return Field{name, FieldType::kInt, v, 0, nullptr, false};
}
// fixed_field("celsius", 2150, 2) is 21.50: decimals without floating point.
constexpr Field fixed_field(const char* name, int64_t scaled, uint8_t decimals) {
  return Field{name, FieldType::kFixed, scaled, decimals, nullptr, false};
}
constexpr Field string_field(const char* name, const char* v) {
  return Field{name, FieldType::kString, 0, 0, v, false};
}
constexpr Field bool_field(const char* name, bool v) {
  return Field{name, FieldType::kBool, 0, 0, nullptr, v};
}

struct StructuredEvent {
  const char* category = nullptr;  // se_ca; required
  const char* action = nullptr;    // se_ac; required
  const char* label = nullptr;     // se_la; optional
  const char* property = nullptr;  // se_pr; optional
  const char* value = nullptr;     // se_va; optional decimal text, e.g. "21.5"
};

// Structured event (e=se). kInvalidArgument: no random source, empty category/action, or a value
// that is not a plain decimal number.
Status build_structured(const Config& config, const StructuredEvent& event, uint64_t dtm_ms,
                        char* out, size_t capacity, size_t* length);

// Self-describing event (e=ue) whose data object holds `fields`, wrapped in Snowplow's
// unstruct_event envelope and sent base64url-encoded (no padding) as ue_px. The JSON is streamed
// through the base64 encoder straight into `out`: no scratch buffer. kInvalidArgument: no random
// source, a schema that does not start with "iglu:", a field without a name, a kString field
// without a value, or kFixed with more than 18 decimals.
Status build_self_describing(const Config& config, const char* schema, const Field* fields,
                             size_t field_count, uint64_t dtm_ms, char* out, size_t capacity,
                             size_t* length);

// Lower-level pieces, exposed for tests and for callers composing their own events.
// Writes base64url (no padding) of in[0..n) into out; returns the length or 0 when capacity is
// too small (the result needs ceil(4n/3) + 1 bytes).
size_t base64url_encode(const uint8_t* in, size_t n, char* out, size_t capacity);
// Formats 16 random bytes as a lower-case UUID v4 (sets the version and variant bits) into
// out[0..37).
void format_uuid_v4(const uint8_t random[16], char out[37]);

}  // namespace furrow::tracker::embedded
