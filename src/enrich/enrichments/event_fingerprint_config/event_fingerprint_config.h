// event_fingerprint_config: a hash of the raw event's parameters →
// event_fingerprint (spec 4.7, TV-15).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

class EventFingerprintEnrichment final : public Enrichment {
 public:
  // `algorithm` (an OpenSSL digest name, e.g. "MD5") lets apply() hash through
  // a per-thread digest context reused from event to event; empty or
  // unavailable: hasher.hex() each time. Both give the same digest.
  EventFingerprintEnrichment(std::vector<std::string> exclude, Hasher hasher,
                             std::string_view algorithm = {});
  ~EventFingerprintEnrichment() override;
  EventFingerprintEnrichment(const EventFingerprintEnrichment&) = delete;
  EventFingerprintEnrichment& operator=(const EventFingerprintEnrichment&) = delete;
  std::string_view name() const override { return "event_fingerprint_config"; }
  Step step() const override { return Step::kEventFingerprint; }
  void apply(EventContext& ctx) const override;

  // The string that is hashed: for each parameter with a value that is not
  // excluded, sorted by name (byte order), name + U+001F + value + U+001F.
  std::string preimage(const event::Params& params) const;
  // The same into `out` (replacing its contents), sized once so that a reused
  // buffer does not reallocate; what apply() hashes.
  void preimage_into(const event::Params& params, std::string& out) const;

 private:
  // Writes the lower-case hex digest of `data` into `out` (replacing it).
  void digest_hex(std::string_view data, std::string& out) const;

  std::vector<std::string> exclude_;
  Hasher hasher_;
  EVP_MD* md_ = nullptr;  // fetched once (EVP_MD_fetch), freed by the destructor
};

Result<std::shared_ptr<const Enrichment>> make_event_fingerprint(const EnrichmentConfig& c,
                                                                 const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
