// The seam between enrichment and Iglu: validation of self-describing JSON against its schema.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace furrow::iglu {

struct ValidationOutcome {
  enum class Status {
    kValid,
    kInvalid,         // data does not match the schema: a schema_violations bad row
    kNotFound,        // schema not in any registry: a schema_violations bad row
    kInfrastructure,  // a registry could not be reached: retry, never a bad row
  };
  Status status = Status::kValid;
  // For kInvalid / kNotFound: the IgluError JSON object, compact, in iglu-scala-client's encoding
  // ({"error":"ValidationError","dataReports":[...]} or
  // {"error":"ResolutionError","lookupHistory":[...]}).
  std::string error_json;
  // When the schema is superseded ($supersededBy), the version actually validated against
  // (e.g. "1-0-2"); empty otherwise.
  std::string superseded_by;
};

// Validates `data` against the schema named by `schema_uri` (iglu:vendor/name/format/version).
// Implementations are thread-safe.
class SchemaValidator {
 public:
  virtual ~SchemaValidator() = default;
  virtual ValidationOutcome validate(std::string_view schema_uri, const rapidjson::Value& data) = 0;
};

}  // namespace furrow::iglu
