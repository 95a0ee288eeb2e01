// http_header_extractor_config: one org.ietf/http_header/jsonschema/1-0-0 context {name, value}
// (both trimmed) per request header whose name fully matches `headersPattern` (spec 4.6). The
// pattern is a Java regex; it is translated to RE2 syntax (see ua_rules.h translate_pcre) and
// matched in linear time.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kHttpHeaderSchema = "iglu:org.ietf/http_header/jsonschema/1-0-0";

class HttpHeaderExtractorEnrichment final : public Enrichment {
 public:
  explicit HttpHeaderExtractorEnrichment(std::unique_ptr<RE2> pattern);
  std::string_view name() const override { return "http_header_extractor_config"; }
  Step step() const override { return Step::kHttpHeaderExtractor; }
  void apply(EventContext& ctx) const override;

 private:
  // Whether `name` fully matches the pattern; remembered per thread for recent names.
  bool matches(std::string_view name) const;

  std::unique_ptr<RE2> pattern_;
  uint64_t id_;  // process-unique, never reused: keys the per-thread memo of name matches
};

Result<std::shared_ptr<const Enrichment>> make_http_header_extractor(const EnrichmentConfig& c,
                                                                     const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
