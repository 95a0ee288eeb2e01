#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <algorithm>

namespace furrow::enrich::enrichments {

namespace {

struct Kept {
  std::string_view name;
  std::string_view value;
};

// Appends the preimage of the parameters `for_each` lists (each name once) to `out`, which is
// cleared and sized once first.
template <class ForEach>
void build_preimage(const std::vector<std::string>& exclude, ForEach&& for_each, std::string& out) {
  thread_local std::vector<Kept> kept;
  kept.clear();
  std::size_t size = 0;
  for_each([&](std::string_view name, std::string_view value) {
    if (std::find(exclude.begin(), exclude.end(), name) != exclude.end()) return;
    kept.push_back({name, value});
    size += name.size() + value.size() + 2;
  });
  // Names are unique, so the order is total and the result does not depend on the input order.
  std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) { return a.name < b.name; });
  out.clear();
  out.reserve(size);
  for (const Kept& p : kept) {
    out += p.name;
    out += '\x1f';
    out += p.value;
    out += '\x1f';
  }
}

}  // namespace

void EventFingerprintEnrichment::preimage_into(const event::Params& params,
                                               std::string& out) const {
  build_preimage(
      exclude_,
      [&](auto&& f) {
        for (const auto& p : params.items()) {
          if (p.value) f(std::string_view(p.name), std::string_view(*p.value));
        }
      },
      out);
}

std::string EventFingerprintEnrichment::preimage(const event::Params& params) const {
  std::string out;
  preimage_into(params, out);
  return out;
}

void EventFingerprintEnrichment::apply(EventContext& ctx) const {
  thread_local std::string buffer;
  build_preimage(
      exclude_, [&](auto&& f) { ctx.for_each_parameter(f); }, buffer);
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
