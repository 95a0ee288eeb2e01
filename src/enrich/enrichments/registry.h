// The explicit list of configurable enrichments and the loader for a directory of Snowplow
// enrichment configs (spec 4.6). Adding an enrichment = its folder plus one line in registry.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

class UserAgentParser;

// Objects shared between enrichments while one directory loads (e.g. one user-agent rule set
// and cache for both ua_parser_config and user_agent_utils_config).
struct LoadShared {
  std::vector<std::pair<std::filesystem::path, std::shared_ptr<const UserAgentParser>>> ua_parsers;
  Result<std::shared_ptr<const UserAgentParser>> ua_parser(const std::filesystem::path& rules,
                                                           const LoadOptions& options);
};

using EnrichmentFactory = Result<std::shared_ptr<const Enrichment>> (*)(const EnrichmentConfig&,
                                                                        const LoadOptions&,
                                                                        LoadShared&);

struct EnrichmentKind {
  std::string_view name;    // Snowplow config name (data.name and the schema name)
  std::string_view vendor;  // schema vendor
  int model;                // accepted SchemaVer MODEL (criterion vendor/name/jsonschema/M-*-*)
  // nullptr: a Snowplow enrichment furrow does not implement (an error when enabled).
  EnrichmentFactory factory;
};

// Every enrichment name furrow knows, implemented or not.
const std::vector<EnrichmentKind>& enrichment_kinds();

// Loads one config document. Returns nullptr (not an error) for a disabled enrichment.
// Errors name `file` and the key.
Result<std::shared_ptr<const Enrichment>> load_enrichment(std::string_view json,
                                                          const std::string& file,
                                                          const LoadOptions& options,
                                                          LoadShared& shared);

// Loads every *.json file of `dir` (in name order): each is one enrichment config, or Snowplow's
// wrapper iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0 holding a list of
// them. Every config is validated (schema criterion, required keys and types, unknown keys);
// disabled ones are skipped; an unknown enrichment, a duplicate, or a missing or corrupt lookup
// file is an error. The result is ordered by Step (the order the pipeline runs them).
Result<std::vector<std::shared_ptr<const Enrichment>>> load_enrichments(
    const std::filesystem::path& dir, const LoadOptions& options = {});

}  // namespace furrow::enrich::enrichments
