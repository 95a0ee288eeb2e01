#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <algorithm>

namespace furrow::enrich::enrichments {

void EventFingerprintEnrichment::preimage_into(const event::Params& params,
                                               std::string& out) const {
  thread_local std::vector<const event::Param*> kept;
  kept.clear();
  std::size_t size = 0;
  for (const auto& p : params.items()) {
    if (!p.value.has_value()) continue;
    if (std::find(exclude_.begin(), exclude_.end(), p.name) != exclude_.end()) continue;
    kept.push_back(&p);
    size += p.name.size() + p.value->size() + 2;
  }
  std::sort(kept.begin(), kept.end(),
            [](const event::Param* a, const event::Param* b) { return a->name < b->name; });
  out.clear();
  out.reserve(size);
  for (const event::Param* p : kept) {
    out += p->name;
    out += '\x1f';
    out += *p->value;
    out += '\x1f';
  }
}

std::string EventFingerprintEnrichment::preimage(const event::Params& params) const {
  std::string out;
  preimage_into(params, out);
  return out;
}

void EventFingerprintEnrichment::apply(EventContext& ctx) const {
  thread_local std::string buffer;
  preimage_into(ctx.raw().parameters, buffer);
  ctx.event()[event::Field::event_fingerprint] = hasher_.hex(buffer);
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
