// pii_enrichment_config: pseudonymises chosen scalar fields and JSON paths inside contexts,
// derived contexts and the self-describing event: value → hex(hash(value + salt)) (spec 4.6).
//
// JSONPath support: "$", ".name", "['name']", ".['name']", unions "['a', 'b']", "[n]", "[*]" and
// ".*" (no filters, no slices, no recursive descent; other forms are a start-up error). Only string
// values are hashed.
//
// emitEvent: Snowplow emits a separate pii_transformation event. The enrichment interface has no
// way to emit a second event, so furrow attaches the same record as a derived context
// (iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0) on the event itself.
#pragma once

#include <string>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/util.h"
#include "event/enriched_event.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kPiiTransformationSchema =
    "iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0";

struct JsonPathStep {
  enum Kind { kKey, kIndex, kWildcard } kind;
  std::vector<std::string> keys;  // kKey: one key, or several for a union ['a', 'b']
  std::size_t index = 0;
};

// Parses a JSONPath of the supported subset; nullopt-like error when unsupported.
Result<std::vector<JsonPathStep>> parse_json_path(std::string_view path);

// "iglu:vendor/name/format/M-R-A" criterion where M, R and A may be "*".
struct SchemaCriterion {
  std::string vendor, name, format;
  int parts[3] = {-1, -1, -1};  // -1 = any
  static Result<SchemaCriterion> parse(std::string_view s);
  bool matches(std::string_view schema_uri) const;
};

struct PiiConfig {
  std::vector<event::Field> pojo;
  struct JsonField {
    event::Field field;  // contexts, derived_contexts or unstruct_event
    SchemaCriterion criterion;
    std::string criterion_text;
    std::string json_path;
    std::vector<JsonPathStep> steps;
  };
  std::vector<JsonField> json;
  std::string hash_function;  // as configured, e.g. "SHA-256"
  std::string salt;
  bool emit_event = false;
  bool anonymous_only = false;
};

class PiiEnrichment final : public Enrichment {
 public:
  PiiEnrichment(PiiConfig config, Hasher hasher) : config_(std::move(config)), hasher_(hasher) {}
  std::string_view name() const override { return "pii_enrichment_config"; }
  Step step() const override { return Step::kPiiPseudonymization; }
  void apply(EventContext& ctx) const override;

 private:
  PiiConfig config_;
  Hasher hasher_;
};

Result<std::shared_ptr<const Enrichment>> make_pii_enrichment(const EnrichmentConfig& c,
                                                              const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
