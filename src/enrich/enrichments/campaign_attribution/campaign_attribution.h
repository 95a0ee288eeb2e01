// campaign_attribution: mkt_* fields from the page URL's query string (spec 4.7, TV-07, TV-08).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

struct CampaignConfig {
  // Parameter names per field, in priority order (defaults: utm_*).
  std::vector<std::string> medium{"utm_medium"}, source{"utm_source"}, term{"utm_term"},
      content{"utm_content"}, campaign{"utm_campaign"};
  // Click-id parameter → network name, in priority order: gclid, msclkid, dclid, then the
  // configured mktClickId entries (a configured name replaces a built-in one's network).
  std::vector<std::pair<std::string, std::string>> click_ids{
      {"gclid", "Google"}, {"msclkid", "Microsoft"}, {"dclid", "DoubleClick"}};
};

class CampaignAttributionEnrichment final : public Enrichment {
 public:
  explicit CampaignAttributionEnrichment(CampaignConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "campaign_attribution"; }
  Step step() const override { return Step::kCampaignAttribution; }
  // Reads ctx.page_query() (set by the pipeline at step 9); when that is empty, decodes
  // page_urlquery itself so the enrichment also works on its own.
  void apply(EventContext& ctx) const override;

 private:
  CampaignConfig config_;
};

Result<std::shared_ptr<const Enrichment>> make_campaign_attribution(const EnrichmentConfig& c,
                                                                    const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
