// cookie_extractor_config: one org.ietf/http_cookie/jsonschema/1-0-0 context {name, value} per
// configured cookie found in the request's Cookie headers, in header order (spec 4.7).
#pragma once

#include <string>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kHttpCookieSchema = "iglu:org.ietf/http_cookie/jsonschema/1-0-0";

class CookieExtractorEnrichment final : public Enrichment {
 public:
  explicit CookieExtractorEnrichment(std::vector<std::string> cookies)
      : cookies_(std::move(cookies)) {}
  std::string_view name() const override { return "cookie_extractor_config"; }
  Step step() const override { return Step::kCookieExtractor; }
  void apply(EventContext& ctx) const override;

 private:
  std::vector<std::string> cookies_;
};

Result<std::shared_ptr<const Enrichment>> make_cookie_extractor(const EnrichmentConfig& c,
                                                                const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
