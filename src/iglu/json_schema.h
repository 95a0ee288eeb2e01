// JSON Schema draft 4 on top of valijson (RapidJSON adapter): compile once, validate many times.
// Draft-4 `format` is checked for date-time, email, hostname, ipv4, ipv6 and uri; other formats
// are accepted as annotations, as the draft allows.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::iglu {

// Deepest JSON nesting accepted in schemas and instances; deeper documents are rejected
// before validation so that recursion stays bounded.
inline constexpr int kMaxJsonDepth = 64;

// One validation failure, as iglu-scala-client reports it (ValidatorReport).
struct DataReport {
  std::string message;  // "$.price: ..." (the path, then what is wrong)
  std::string path;     // JSONPath of the offending value: "$", "$.price", "$.items[2]"
  std::string keyword;  // the draft-4 keyword that failed: "type", "required", "maxLength", ...
  std::vector<std::string>
      targets;  // keyword-specific: missing property, disallowed property, found type
};

// Fetches the text of a remote document named in a `$ref` (absolute URI, fragment removed).
using RemoteFetcher = std::function<Result<std::string>(const std::string& uri)>;

// The schema key in an Iglu-style schema URL ".../schemas/<vendor>/<name>/<format>/<version>"
// (e.g. http://iglucentral.com/schemas/com.acme/x/jsonschema/1-0-0), as a path
// "vendor/name/format/version"; empty when `uri` is not one.
std::string iglu_path_of_url(const std::string& uri);

class CompiledSchema;
using CompiledSchemaPtr = std::shared_ptr<const CompiledSchema>;

// A parsed, compiled draft-4 schema. Immutable; validate() is safe to call from many threads.
class CompiledSchema {
 public:
  // Compiles `schema` (copied). Remote `$ref`s are fetched through `fetch` (none when empty).
  // Errors: not an object, too deep, an invalid regex, an unresolvable $ref, bad keyword values.
  static Result<CompiledSchemaPtr> compile(const rapidjson::Value& schema,
                                           const RemoteFetcher& fetch = {});
  static Result<CompiledSchemaPtr> compile_text(std::string_view schema_json,
                                                const RemoteFetcher& fetch = {});

  // Fast check: stops at the first failure, builds no reports, no allocation on success for
  // most schemas.
  bool is_valid(const rapidjson::Value& data) const;
  // The fast check through valijson even when the schema has the allocation-free checker (for
  // tests that compare the two, and benchmarks).
  bool is_valid_general(const rapidjson::Value& data) const;
  // Whether is_valid uses furrow's allocation-free checker (the schema stays within its keyword
  // subset, see fast_schema.h) rather than valijson.
  bool has_fast_path() const;
  // Full check: every failure as a DataReport; empty means valid.
  std::vector<DataReport> validate(const rapidjson::Value& data) const;

  const rapidjson::Document& document() const { return doc_; }

  CompiledSchema();
  ~CompiledSchema();
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  rapidjson::Document doc_;
};

// True when `v` nests no deeper than `max_depth` (a scalar has depth 0, [] has depth 1).
bool json_depth_within(const rapidjson::Value& v, int max_depth);

// Draft-4 format checks (exposed for tests). Each takes the string value.
bool is_date_time(std::string_view s);
bool is_email(std::string_view s);
bool is_hostname(std::string_view s);
bool is_ipv4(std::string_view s);
bool is_ipv6(std::string_view s);
bool is_uri(std::string_view s);

// Compact JSON text of a value.
std::string to_json(const rapidjson::Value& v);

}  // namespace furrow::iglu
