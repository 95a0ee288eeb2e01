// `furrow schema lint DIR` and `furrow schema validate --schema FILE INSTANCE...` (docs/iglu.md).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "iglu/json_schema.h"
#include "iglu/lint.h"

namespace furrow::app {
namespace {

struct SchemaOptions {
  std::string lint_dir;
  std::string schema_file;
  std::vector<std::string> instances;
};

bool read_whole(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int run_lint(const SchemaOptions& o) {
  auto report = iglu::lint_registry(o.lint_dir);
  if (!report) {
    std::fprintf(stderr, "furrow schema lint: %s\n", report.error().message.c_str());
    return kExitFailure;
  }
  for (const auto& i : report->issues) std::printf("%s: %s\n", i.file.c_str(), i.message.c_str());
  std::fprintf(stderr, "%d schema files checked, %zu problems\n", report->files,
               report->issues.size());
  return report->issues.empty() ? kExitOk : kExitInvalid;
}

int run_validate(const SchemaOptions& o) {
  std::string text;
  if (!read_whole(o.schema_file, text)) {
    std::fprintf(stderr, "furrow schema validate: cannot read %s\n", o.schema_file.c_str());
    return kExitFailure;
  }
  // Remote $refs are not fetched: the schema must be self-contained.
  auto schema =
      iglu::CompiledSchema::compile_text(text, [](const std::string& uri) -> Result<std::string> {
        return Error{"remote $ref " + uri + " is not fetched by `furrow schema validate`"};
      });
  if (!schema) {
    std::fprintf(stderr, "furrow schema validate: %s: %s\n", o.schema_file.c_str(),
                 schema.error().message.c_str());
    return kExitFailure;
  }
  bool all_valid = true;
  for (const auto& path : o.instances) {
    std::string body;
    if (!read_whole(path, body)) {
      std::printf("%s: cannot read the file\n", path.c_str());
      all_valid = false;
      continue;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (doc.HasParseError()) {
      std::printf("%s: not valid JSON: %s at offset %zu\n", path.c_str(),
                  rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset());
      all_valid = false;
      continue;
    }
    auto reports = (*schema)->validate(doc);
    if (reports.empty()) {
      std::printf("%s: valid\n", path.c_str());
      continue;
    }
    all_valid = false;
    for (const auto& r : reports) {
      std::printf("%s: %s [%s]\n", path.c_str(), r.message.c_str(),
                  r.keyword.empty() ? "-" : r.keyword.c_str());
    }
  }
  return all_valid ? kExitOk : kExitInvalid;
}

}  // namespace

void register_schema(CLI::App& root) {
  auto opts = std::make_shared<SchemaOptions>();
  auto* cmd = root.add_subcommand("schema", "Check Iglu schemas and validate JSON against them");
  cmd->require_subcommand(1);

  auto* lint = cmd->add_subcommand(
      "lint",
      "Check every schema of a static registry (DIR/schemas/<vendor>/<name>/<format>/<version>)");
  lint->add_option("DIR", opts->lint_dir, "Registry root holding schemas/")->required();
  lint->callback([opts] { exit_code() = run_lint(*opts); });

  auto* validate = cmd->add_subcommand(
      "validate",
      "Validate JSON instances against a draft-4 schema; prints `valid` or the errors for each");
  validate->add_option("--schema", opts->schema_file, "The JSON schema file")->required();
  validate->add_option("INSTANCE", opts->instances, "JSON files to validate")->required();
  validate->callback([opts] { exit_code() = run_validate(*opts); });
}

}  // namespace furrow::app
