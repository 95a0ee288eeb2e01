// event_fingerprint_config: a hash of the raw event's parameters →
// event_fingerprint (spec 4.7, TV-15).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/util.h"
#include "protocol/param_keys.h"

namespace furrow::enrich::enrichments {

class EventFingerprintEnrichment final : public Enrichment {
 public:
  // `algorithm` (an OpenSSL digest name, e.g. "MD5") lets apply() hash through
  // a per-thread digest context reused from event to event (MD5: OpenSSL's MD5
  // functions directly); empty or unavailable: hasher.hex() each time. All give
  // the same digest.
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
  // The same into `out` (replacing its contents).
  void preimage_into(const event::Params& params, std::string& out) const;

  // Known parameter names (protocol::param_key_id) are placed by a rank computed once from
  // their byte order instead of being compared; unknown names (rare) are sorted among
  // themselves and merged in. Holds what one event's parameters need; one per thread.
  struct Scratch {
    static constexpr int kWords = (protocol::kParamKeyCount + 63) / 64;
    std::array<uint64_t, kWords> present{};  // bit r: rank r seen (all clear between events)
    std::array<std::string_view, protocol::kParamKeyCount> value_at_rank;
    struct Pair {
      std::string_view name;
      std::string_view value;
      uint32_t order;  // position among the unknown ones (the sort is stable)
    };
    // Kept parameters with an unknown name, or a known name seen before (names are unique by
    // contract; a repeat is kept and ordered as a stable sort would).
    std::vector<Pair> unknown;
    std::string buffer;  // the preimage (build_preimage's default room); only grows
  };

 private:
  // Fills `s` from the parameters `for_each` lists and writes the preimage at room(n), which
  // returns space for n bytes (the preimage and some slack); returns it (a view of that space).
  template <class ForEach, class Room>
  std::string_view build_preimage(ForEach&& for_each, Scratch& s, Room&& room) const;
  // The preimage in s.buffer.
  template <class ForEach>
  std::string_view build_preimage(ForEach&& for_each, Scratch& s) const {
    return build_preimage(for_each, s, [&s](std::size_t n) {
      if (s.buffer.size() < n) s.buffer.resize(n);
      return s.buffer.data();
    });
  }
  bool excluded_unknown(std::string_view name) const;
  // Writes the lower-case hex digest of `data` into `out` (replacing it).
  void digest_hex(std::string_view data, std::string& out) const;

  std::vector<std::string> exclude_;
  // Per known parameter id: its rank among all known names in byte order, or -1 when excluded.
  std::array<int8_t, protocol::kParamKeyCount> rank_of_id_{};
  // Per rank: the name followed by U+001F, zero padded to 8 bytes.
  struct KnownName {
    char text[8] = {};
    uint8_t size = 0;  // without the U+001F
  };
  std::array<KnownName, protocol::kParamKeyCount> name_at_rank_;
  Hasher hasher_;
  EVP_MD* md_ = nullptr;     // fetched once (EVP_MD_fetch), freed by the destructor
  bool md5_ = false;         // the algorithm is MD5 (its digests may be deferred: apply())
  bool md5_direct_ = false;  // MD5 through OpenSSL's MD5_* functions instead of EVP
};

Result<std::shared_ptr<const Enrichment>> make_event_fingerprint(const EnrichmentConfig& c,
                                                                 const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
