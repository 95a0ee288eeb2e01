// ua_parser_config: parses the user agent with uap-core rules and adds the
// com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0 context (spec 4.6, 4.7).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kUaParserConfigSchema =
    "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1";
inline constexpr const char* kUaParserContextSchema =
    "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0";

// The ua_parser_context document for one parse result (compact JSON, keys in Snowplow's order).
std::string ua_parser_context_json(const ParsedUserAgent& p);

class UaParserEnrichment final : public Enrichment {
 public:
  explicit UaParserEnrichment(std::shared_ptr<const UserAgentParser> parser);
  std::string_view name() const override { return "ua_parser_config"; }
  Step step() const override { return Step::kUaParser; }
  // No user agent → no context (nothing to parse); otherwise always one context. When the parser
  // caches, each thread also keeps the finished context JSON of its last few hundred user agents
  // (a direct-mapped memo keyed by this enrichment's id and the whole user agent), so a repeated
  // user agent costs one hash and one compare instead of a cache lookup, a copy of the parse
  // result and a JSON rewrite. With the cache off, every event is parsed.
  void apply(EventContext& ctx) const override;

 private:
  std::shared_ptr<const UserAgentParser> parser_;
  uint64_t id_;  // process-unique, never reused: keys the per-thread memo
};

// The rules a ua_parser_config / user_agent_utils_config names (parameters.uri + database), or
// the default rules of `options`. Shared by the loader so one rule set serves both.
Result<std::filesystem::path> ua_rules_path(const EnrichmentConfig& c, const LoadOptions& options);

Result<std::shared_ptr<const Enrichment>> make_ua_parser(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for);

}  // namespace furrow::enrich::enrichments
