#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

#include <algorithm>
#include <memory>

namespace furrow::enrich::enrichments {

namespace {

struct Kept {
  std::string_view name;
  std::string_view value;
};

// Appends the preimage of the parameters `for_each` lists (each name once) to
// `out`, which is cleared and sized once first.
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
  // Names are unique, so the order is total and the result does not depend on
  // the input order.
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

EventFingerprintEnrichment::EventFingerprintEnrichment(std::vector<std::string> exclude,
                                                       Hasher hasher, std::string_view algorithm)
    : exclude_(std::move(exclude)), hasher_(hasher) {
  if (!algorithm.empty()) md_ = EVP_MD_fetch(nullptr, std::string(algorithm).c_str(), nullptr);
}

EventFingerprintEnrichment::~EventFingerprintEnrichment() {
  EVP_MD_free(md_);
}

void EventFingerprintEnrichment::digest_hex(std::string_view data, std::string& out) const {
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  // EVP_Digest() would create, initialise (fetching the algorithm) and free a
  // context per call.
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> context(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md_ == nullptr || context == nullptr ||
      EVP_DigestInit_ex2(context.get(), md_, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &len) != 1) {
    out = hasher_.hex(data);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(2 * std::size_t{len});
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
}

void EventFingerprintEnrichment::apply(EventContext& ctx) const {
  thread_local std::string buffer;
  build_preimage(
      exclude_, [&](auto&& f) { ctx.for_each_parameter(f); }, buffer);
  digest_hex(buffer, ctx.event()[event::Field::event_fingerprint]);
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
      std::make_shared<EventFingerprintEnrichment>(std::move(**exclude), *hasher, *algo));
}

}  // namespace furrow::enrich::enrichments
