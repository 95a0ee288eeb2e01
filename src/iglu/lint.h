// `furrow schema lint`: checks every schema file of a static registry
// (<root>/schemas/<vendor>/<name>/<format>/<version>).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace furrow::iglu {

struct LintIssue {
  std::string file;  // path relative to the registry root, e.g. schemas/com.acme/x/jsonschema/1-0-0
  std::string message;  // what is wrong
};

struct LintReport {
  int files = 0;  // schema files checked
  std::vector<LintIssue> issues;
};

// For every file: the path is vendor/name/format/SchemaVer with a sensible SchemaVer (model >= 1);
// the file is JSON. For format "jsonschema": the self-describing header is present ($schema is
// the Iglu self-desc meta-schema, `self` has exactly vendor/name/format/version and they match the
// path), the schema is valid against the draft-04 meta-schema and compiles, and a $supersededBy
// names a later version of the same model. Other formats (thrift, avro, protobuf IDL documents)
// are only checked to be JSON whose `self`, when present, matches the path.
// Error: the root has no schemas/ folder.
Result<LintReport> lint_registry(const std::string& root);

// Checks one schema text as if it were stored at `key_path` (vendor/name/format/version).
// $refs to Iglu schema URLs are looked up below `registry_root` (none when empty).
std::vector<std::string> lint_schema(const std::string& key_path, const std::string& text);
std::vector<std::string> lint_schema(const std::string& key_path, const std::string& text,
                                     const std::string& registry_root);

inline constexpr const char* kSelfDescMetaschema =
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#";

}  // namespace furrow::iglu
