// cross_navigation_config: the cross_navigation context from the page URL's `_sp` linker
// parameter (spec 1.6, TV-13). The atomic fields refr_domain_userid / refr_dvce_tstamp, and the
// failure for a non-numeric timestamp, are the pipeline's (step 11); this enrichment only adds the
// context, and only when both the domain user id and a valid timestamp are present.
#pragma once

#include <optional>
#include <string>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kCrossNavigationSchema =
    "iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0";

// The context for one `_sp` value, or nullopt when it yields none.
std::optional<std::string> cross_navigation_context(std::string_view sp);

class CrossNavigationEnrichment final : public Enrichment {
 public:
  std::string_view name() const override { return "cross_navigation_config"; }
  Step step() const override { return Step::kCrossNavigation; }
  void apply(EventContext& ctx) const override;
};

Result<std::shared_ptr<const Enrichment>> make_cross_navigation(const EnrichmentConfig& c,
                                                                const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
