// anon_ip: masks the right-hand part of user_ipaddress with "x" (spec 4.7, TV-12).
#pragma once

#include <string>
#include <string_view>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

// Snowplow's masking of one address: IPv4 keeps the first 4−octets parts; IPv6 is written in
// full 8-group form (Java's getHostAddress) and keeps the first 8−segments groups; an
// IPv4-mapped "::ffff:a.b.c.d" keeps its prefix and masks the IPv4 part. Invalid input: with a
// '.' (or empty) → IPv4 masking of whatever parts exist; with a ':' → IPv6 masking of the parts;
// otherwise unchanged.
std::string anonymize_ip(std::string_view ip, int octets, int segments);

class AnonIpEnrichment final : public Enrichment {
 public:
  AnonIpEnrichment(int octets, int segments) : octets_(octets), segments_(segments) {}
  std::string_view name() const override { return "anon_ip"; }
  Step step() const override { return Step::kAnonIp; }
  void apply(EventContext& ctx) const override;

 private:
  int octets_;
  int segments_;
};

Result<std::shared_ptr<const Enrichment>> make_anon_ip(const EnrichmentConfig& c,
                                                       const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
