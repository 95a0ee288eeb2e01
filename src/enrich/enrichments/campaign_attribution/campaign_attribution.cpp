#include "enrich/enrichments/campaign_attribution/campaign_attribution.h"

#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// The value of `name`; the last occurrence wins. nullptr when absent.
const std::string* lookup(const Query& q, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : q) {
    if (k == name) found = &v;
  }
  return found;
}

// The column is reached (and so marked in the event's record) only when a value is found: an
// event without campaign parameters leaves the five columns untouched.
void set_first(const Query& q, const std::vector<std::string>& names, event::EnrichedEvent& ev,
               event::Field field) {
  for (const auto& n : names) {
    if (const std::string* v = lookup(q, n)) {
      ev[field] = *v;
      return;
    }
  }
}

}  // namespace

void CampaignAttributionEnrichment::apply(EventContext& ctx) const {
  const Query* q = &ctx.page_query();
  Query own;
  if (q->empty()) {
    const std::string_view raw = ctx.event().text(event::Field::page_urlquery);
    if (raw.empty()) return;
    own = parse_query(raw);
    q = &own;
  }
  auto& ev = ctx.event();
  set_first(*q, config_.medium, ev, event::Field::mkt_medium);
  set_first(*q, config_.source, ev, event::Field::mkt_source);
  set_first(*q, config_.term, ev, event::Field::mkt_term);
  set_first(*q, config_.content, ev, event::Field::mkt_content);
  set_first(*q, config_.campaign, ev, event::Field::mkt_campaign);
  for (const auto& [param, network] : config_.click_ids) {
    if (const std::string* v = lookup(*q, param)) {
      ev[event::Field::mkt_clickid] = *v;
      ev[event::Field::mkt_network] = network;
      break;
    }
  }
}

Result<std::shared_ptr<const Enrichment>> make_campaign_attribution(const EnrichmentConfig& c,
                                                                    const LoadOptions&) {
  CampaignConfig cfg;
  if (auto s = check_keys(c, c.parameters, {"mapping", "fields"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto mapping = optional_string(c, c.parameters, "mapping", "data.parameters.mapping");
  if (!mapping.ok()) return mapping.error();
  if (mapping->has_value() && **mapping != "static" && **mapping != "script") {
    return c.error("data.parameters.mapping", "expected \"static\" or \"script\"");
  }
  auto fields = optional_object(c, c.parameters, "fields", "data.parameters.fields");
  if (!fields.ok()) return fields.error();
  const rapidjson::Value* f = *fields;
  if (auto s = check_keys(
          c, f, {"mktMedium", "mktSource", "mktTerm", "mktContent", "mktCampaign", "mktClickId"},
          "data.parameters.fields");
      !s.ok()) {
    return s.error();
  }
  struct Slot {
    const char* key;
    std::vector<std::string>* target;
  };
  Slot slots[] = {{"mktMedium", &cfg.medium},
                  {"mktSource", &cfg.source},
                  {"mktTerm", &cfg.term},
                  {"mktContent", &cfg.content},
                  {"mktCampaign", &cfg.campaign}};
  for (const auto& slot : slots) {
    auto v =
        optional_string_array(c, f, slot.key, std::string("data.parameters.fields.") + slot.key);
    if (!v.ok()) return v.error();
    if (v->has_value()) *slot.target = std::move(**v);
  }
  auto clicks = optional_object(c, f, "mktClickId", "data.parameters.fields.mktClickId");
  if (!clicks.ok()) return clicks.error();
  if (*clicks != nullptr) {
    for (const auto& m : (*clicks)->GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      if (!m.value.IsString()) {
        return c.error("data.parameters.fields.mktClickId." + key, "expected a string");
      }
      std::string network(m.value.GetString(), m.value.GetStringLength());
      bool replaced = false;
      for (auto& [p, n] : cfg.click_ids) {
        if (p == key) {
          n = network;
          replaced = true;
        }
      }
      if (!replaced) cfg.click_ids.emplace_back(std::move(key), std::move(network));
    }
  }
  return std::shared_ptr<const Enrichment>(
      std::make_shared<CampaignAttributionEnrichment>(std::move(cfg)));
}

}  // namespace furrow::enrich::enrichments
