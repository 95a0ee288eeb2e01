#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <algorithm>

namespace furrow::enrich::enrichments {

std::string EventFingerprintEnrichment::preimage(const event::Params& params) const {
  thread_local std::vector<const event::Param*> kept;
  kept.clear();
  for (const auto& p : params.items()) {
    if (!p.value.has_value()) continue;
    if (std::find(exclude_.begin(), exclude_.end(), p.name) != exclude_.end()) continue;
    kept.push_back(&p);
  }
  std::sort(kept.begin(), kept.end(),
            [](const event::Param* a, const event::Param* b) { return a->name < b->name; });
  std::string out;
  for (const event::Param* p : kept) {
    out += p->name;
    out += '\x1f';
    out += *p->value;
    out += '\x1f';
  }
  return out;
}

void EventFingerprintEnrichment::apply(EventContext& ctx) const {
  ctx.event()[event::Field::event_fingerprint] = hasher_.hex(preimage(ctx.raw().parameters));
}

Result<std::shared_ptr<const Enrichment>> make_event_fingerprint(const EnrichmentConfig& c,
                                                                 const LoadOptions&) {
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s =
          check_keys(c, c.parameters, {"excludeParameters", "hashAlgorithm"}, "data.parameters");
      !s.ok()) {
    return s.error();
  }
  auto exclude = optional_string_array(c, c.parameters, "excludeParameters",
                                       "data.parameters.excludeParameters");
  if (!exclude.ok()) return exclude.error();
  if (!exclude->has_value()) {
    return c.error("data.parameters.excludeParameters", "required array is missing");
  }
  auto algo = required_string(c, c.parameters, "hashAlgorithm", "data.parameters.hashAlgorithm");
  if (!algo.ok()) return algo.error();
  static constexpr std::string_view kAllowed[] = {"MD5", "SHA1", "SHA256", "SHA384", "SHA512"};
  if (std::find(std::begin(kAllowed), std::end(kAllowed), *algo) == std::end(kAllowed)) {
    return c.error("data.parameters.hashAlgorithm",
                   "expected one of MD5, SHA1, SHA256, SHA384, SHA512, got '" + *algo + "'");
  }
  auto hasher = Hasher::by_name(*algo);
  if (!hasher) return c.error("data.parameters.hashAlgorithm", "not available in this OpenSSL");
  return std::shared_ptr<const Enrichment>(
      std::make_shared<EventFingerprintEnrichment>(std::move(**exclude), *hasher));
}

}  // namespace furrow::enrich::enrichments
