// event_fingerprint_config: a hash of the raw event's parameters → event_fingerprint (spec 4.7,
// TV-15).
#pragma once

#include <string>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

class EventFingerprintEnrichment final : public Enrichment {
 public:
  EventFingerprintEnrichment(std::vector<std::string> exclude, Hasher hasher)
      : exclude_(std::move(exclude)), hasher_(hasher) {}
  std::string_view name() const override { return "event_fingerprint_config"; }
  Step step() const override { return Step::kEventFingerprint; }
  void apply(EventContext& ctx) const override;

  // The string that is hashed: for each parameter with a value that is not excluded, sorted by
  // name (byte order), name + U+001F + value + U+001F.
  std::string preimage(const event::Params& params) const;
  // The same into `out` (replacing its contents), sized once so that a reused buffer does not
  // reallocate; what apply() hashes.
  void preimage_into(const event::Params& params, std::string& out) const;

 private:
  std::vector<std::string> exclude_;
  Hasher hasher_;
};

Result<std::shared_ptr<const Enrichment>> make_event_fingerprint(const EnrichmentConfig& c,
                                                                 const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
