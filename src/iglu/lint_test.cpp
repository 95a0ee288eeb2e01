#include "iglu/lint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "iglu/builtin_schemas.h"
#include "iglu/json_schema.h"
#include "support/test_support.h"

namespace furrow::iglu {
namespace {

namespace fs = std::filesystem;

bool mentions(const std::vector<std::string>& issues, const std::string& text) {
  for (const auto& i : issues) {
    if (i.find(text) != std::string::npos) return true;
  }
  return false;
}

const std::string kHeader =
    R"("$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",)";

TEST(Lint, AcceptsAGoodSchema) {
  auto issues = lint_schema(
      "com.acme/x/jsonschema/1-0-0",
      "{" + kHeader +
          R"("self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},)"
          R"("type":"object","properties":{"a":{"type":"string","maxLength":5}}})");
  EXPECT_TRUE(issues.empty()) << issues.front();
}

TEST(Lint, ReportsEachKindOfProblem) {
  EXPECT_TRUE(mentions(lint_schema("com.acme/x/jsonschema/1-0-0", "{"), "not valid JSON"));
  EXPECT_TRUE(mentions(lint_schema("com.acme/x/jsonschema/1-0", "{}"), "path is not"));
  EXPECT_TRUE(mentions(lint_schema("com.acme/x/jsonschema/0-1-0", "{}"), "MODEL starts at 1"));
  auto no_header = lint_schema("com.acme/x/jsonschema/1-0-0", R"({"type":"object"})");
  EXPECT_TRUE(mentions(no_header, "missing the self-describing"));
  EXPECT_TRUE(mentions(no_header, "missing \"$schema\""));
  auto mismatch = lint_schema(
      "com.acme/x/jsonschema/1-0-1",
      "{" + kHeader +
          R"("self":{"vendor":"com.acme","name":"y","format":"jsonschema","version":"1-0-0"}})");
  EXPECT_TRUE(mentions(mismatch, "self.name is 'y'"));
  EXPECT_TRUE(mentions(mismatch, "self.version is '1-0-0'"));
  auto not_draft4 = lint_schema(
      "com.acme/x/jsonschema/1-0-0",
      "{" + kHeader +
          R"("self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"type":"strin","minLength":-1})");
  EXPECT_TRUE(mentions(not_draft4, "not a valid draft-04 schema: $.type"));
  EXPECT_TRUE(mentions(not_draft4, "not a valid draft-04 schema: $.minLength"));
  auto bad_sup = lint_schema(
      "com.acme/x/jsonschema/1-0-2",
      "{" + kHeader +
          R"("$supersededBy":"1-0-1","self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-2"}})");
  EXPECT_TRUE(mentions(bad_sup, "$supersededBy"));
}

TEST(Lint, BuiltinSchemasAreClean) {
  ASSERT_FALSE(builtin_schema_files().empty());
  for (const auto& f : builtin_schema_files()) {
    auto issues = lint_schema(std::string(f.path), std::string(f.text));
    EXPECT_TRUE(issues.empty()) << f.path << ": " << issues.front();
  }
}

// Acceptance 2: every Iglu Central schema loads and compiles, and lint finds nothing wrong.
TEST(Lint, IgluCentralIsCleanAndEverySchemaCompiles) {
  fs::path root = test::shared_dir() / "iglu-central";
  auto report = lint_registry(root.string());
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& i : report->issues) ADD_FAILURE() << i.file << ": " << i.message;
  EXPECT_GT(report->files, 600);
  int compiled = 0;
  for (const auto& e : fs::recursive_directory_iterator(root / "schemas")) {
    if (!e.is_regular_file() || e.path().parent_path().filename() != "jsonschema") continue;
    auto c = CompiledSchema::compile_text(test::read_file(e.path()), [&](const std::string& uri) {
      std::string path = iglu_path_of_url(uri);
      return path.empty() ? Result<std::string>(Error{"not an Iglu URL: " + uri})
                          : Result<std::string>(test::read_file(root / "schemas" / path));
    });
    EXPECT_TRUE(c) << e.path() << ": " << c.error().message;
    ++compiled;
  }
  std::printf("iglu-central: %d files linted, %d JSON schemas compiled\n", report->files, compiled);
  EXPECT_GT(compiled, 600);
}

TEST(Lint, RegistryWithoutSchemasFolderIsAnError) {
  EXPECT_FALSE(lint_registry("/nonexistent/registry"));
}

}  // namespace
}  // namespace furrow::iglu
