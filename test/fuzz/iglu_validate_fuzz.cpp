// Fuzz target: untrusted schema and instance JSON through furrow's draft-4 validator, plus schema
// keys and the lint checks. Input: a schema JSON document, a newline, an instance JSON document.
// Properties checked: no crash; the fast check (is_valid) agrees with the full report (validate);
// a parsed schema key prints back to a key that parses to the same value.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "iglu/json_schema.h"
#include "iglu/lint.h"
#include "iglu/schema_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  std::string_view schema_text = in.substr(0, nl);
  std::string_view instance_text =
      nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  if (auto key = furrow::iglu::SchemaKey::parse(schema_text)) {
    auto again = furrow::iglu::SchemaKey::parse(key->uri());
    if (!again || !(*again == *key)) std::abort();
  }
  (void)furrow::iglu::SchemaCriterion::parse(schema_text);
  (void)furrow::iglu::lint_schema("com.acme/fuzz/jsonschema/1-0-0", std::string(schema_text));

  auto no_remote = [](const std::string& uri) -> furrow::Result<std::string> {
    return furrow::Error{"no remote documents: " + uri};
  };
  auto schema = furrow::iglu::CompiledSchema::compile_text(schema_text, no_remote);
  if (!schema) return 0;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(instance_text.data(), instance_text.size());
  if (doc.HasParseError()) return 0;
  bool fast = (*schema)->is_valid(doc);
  bool full = (*schema)->validate(doc).empty();
  if (fast != full) std::abort();
  return 0;
}
