#include "iglu/lint.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "iglu/draft4_metaschema.h"
#include "iglu/json_schema.h"
#include "iglu/schema_key.h"

namespace furrow::iglu {
namespace {

const CompiledSchema& metaschema() {
  static const CompiledSchemaPtr compiled = [] {
    auto c = CompiledSchema::compile_text(kDraft4Metaschema);
    return c ? *c : nullptr;
  }();
  return *compiled;
}

void check_self(const rapidjson::Value& doc, const SchemaKey& key, bool required,
                std::vector<std::string>& out) {
  auto self = doc.FindMember("self");
  if (self == doc.MemberEnd()) {
    if (required) out.push_back("missing the self-describing 'self' object");
    return;
  }
  if (!self->value.IsObject()) {
    out.push_back("'self' must be an object");
    return;
  }
  const std::pair<const char*, std::string> expected[] = {{"vendor", key.vendor},
                                                          {"name", key.name},
                                                          {"format", key.format},
                                                          {"version", key.version.str()}};
  for (const auto& [field, want] : expected) {
    auto m = self->value.FindMember(field);
    if (m == self->value.MemberEnd() || !m->value.IsString()) {
      out.push_back(std::string("'self' lacks the string '") + field + "'");
    } else if (want != m->value.GetString()) {
      out.push_back(std::string("self.") + field + " is '" + m->value.GetString() +
                    "' but the path says '" + want + "'");
    }
  }
  for (auto m = self->value.MemberBegin(); m != self->value.MemberEnd(); ++m) {
    std::string k = m->name.GetString();
    if (k != "vendor" && k != "name" && k != "format" && k != "version") {
      out.push_back("'self' has an unexpected key '" + k + "'");
    }
  }
}

}  // namespace

std::vector<std::string> lint_schema(const std::string& key_path, const std::string& text) {
  return lint_schema(key_path, text, "");
}

std::vector<std::string> lint_schema(const std::string& key_path, const std::string& text,
                                     const std::string& registry_root) {
  std::vector<std::string> out;
  auto key = SchemaKey::parse_path(key_path);
  if (!key) {
    out.push_back("path is not vendor/name/format/MODEL-REVISION-ADDITION: " + key.error().message);
    return out;
  }
  if (key->version.model < 1)
    out.push_back("SchemaVer MODEL starts at 1 (found " + key->version.str() + ")");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    out.push_back(std::string("not valid JSON: ") +
                  rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                  std::to_string(doc.GetErrorOffset()));
    return out;
  }
  if (!doc.IsObject()) {
    out.push_back("not a JSON object");
    return out;
  }
  if (!json_depth_within(doc, kMaxJsonDepth)) {
    out.push_back("nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return out;
  }
  bool jsonschema = key->format == "jsonschema";
  check_self(doc, *key, jsonschema, out);
  if (!jsonschema) return out;
  auto meta = doc.FindMember("$schema");
  if (meta == doc.MemberEnd() || !meta->value.IsString()) {
    out.push_back(std::string("missing \"$schema\": \"") + kSelfDescMetaschema + "\"");
  } else if (std::string(meta->value.GetString()) != kSelfDescMetaschema) {
    out.push_back(std::string("$schema is '") + meta->value.GetString() + "', expected '" +
                  kSelfDescMetaschema + "'");
  }
  for (const auto& r : metaschema().validate(doc)) {
    out.push_back("not a valid draft-04 schema: " + r.message);
  }
  auto sup = doc.FindMember("$supersededBy");
  if (sup != doc.MemberEnd()) {
    auto ver = sup->value.IsString() ? SchemaVer::parse(sup->value.GetString())
                                     : Result<SchemaVer>(Error{"not a string"});
    if (!ver || ver->model != key->version.model || !(key->version < *ver)) {
      out.push_back("$supersededBy must name a later version of the same MODEL");
    }
  }
  // $refs to other Iglu schemas are looked up in the registry being linted.
  auto compiled = CompiledSchema::compile(doc, [&](const std::string& uri) -> Result<std::string> {
    std::string path = iglu_path_of_url(uri);
    if (path.empty() || registry_root.empty())
      return Error{"remote $ref " + uri + " is not an Iglu schema URL"};
    std::ifstream in(std::filesystem::path(registry_root) / "schemas" / path, std::ios::binary);
    if (!in) return Error{"$ref " + uri + " is not in this registry"};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  });
  if (!compiled) out.push_back(compiled.error().message);
  return out;
}

Result<LintReport> lint_registry(const std::string& root) {
  namespace fs = std::filesystem;
  fs::path base = fs::path(root) / "schemas";
  std::error_code ec;
  if (!fs::is_directory(base, ec))
    return Error{root + " has no schemas/ folder (expected a static registry root)"};
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(base, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return Error{"cannot list " + base.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  LintReport report;
  for (const auto& f : files) {
    ++report.files;
    std::string rel = fs::relative(f, base).generic_string();
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    for (auto& msg : lint_schema(rel, ss.str(), root))
      report.issues.push_back({"schemas/" + rel, std::move(msg)});
  }
  return report;
}

}  // namespace furrow::iglu
