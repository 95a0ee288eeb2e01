// MD5 (the default algorithm) goes straight to OpenSSL's MD5 functions: through EVP, every
// event's EVP_DigestInit_ex2 looks up an ENGINE and frees and re-creates the provider's context
// (~550 instructions, against ~10 for MD5_Init), and the hashing itself is the same code (the
// provider's MD5 calls MD5_Update/MD5_Final). They are deprecated in OpenSSL 3 but kept; an
// OpenSSL built without them leaves only the EVP path. (Defined before any OpenSSL header.)
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
#include <openssl/opensslconf.h>
#if !defined(OPENSSL_NO_MD5) && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define FURROW_FINGERPRINT_MD5_DIRECT 1
#else
#define FURROW_FINGERPRINT_MD5_DIRECT 0
#endif

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <numeric>
#include <type_traits>

#include "enrich/deferred_md5.h"
#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"

namespace furrow::enrich::enrichments {

EventFingerprintEnrichment::EventFingerprintEnrichment(std::vector<std::string> exclude,
                                                       Hasher hasher, std::string_view algorithm)
    : exclude_(std::move(exclude)), hasher_(hasher) {
  std::array<int, protocol::kParamKeyCount> ids;
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(),
            [](int a, int b) { return protocol::param_key_name(a) < protocol::param_key_name(b); });
  for (int rank = 0; rank < protocol::kParamKeyCount; ++rank) {
    const int id = ids[rank];
    const std::string_view name = protocol::param_key_name(id);
    // Every known name is 1-7 bytes: param_key_id() finds no longer name (it packs names into
    // 8 bytes), so an id never stands for a name that does not fit here.
    KnownName& known = name_at_rank_[rank];
    known.size = static_cast<uint8_t>(std::min<std::size_t>(name.size(), 7));
    std::memcpy(known.text, name.data(), known.size);
    known.text[known.size] = '\x1f';
    const bool excluded = std::find(exclude_.begin(), exclude_.end(), name) != exclude_.end();
    rank_of_id_[id] = static_cast<int8_t>(excluded ? -1 : rank);
  }
  static_assert(protocol::kParamKeyCount <= 127, "ranks are int8_t");
  if (!algorithm.empty()) md_ = EVP_MD_fetch(nullptr, std::string(algorithm).c_str(), nullptr);
  md5_ = algorithm == "MD5";
  md5_direct_ = FURROW_FINGERPRINT_MD5_DIRECT && md5_;
}

EventFingerprintEnrichment::~EventFingerprintEnrichment() {
  EVP_MD_free(md_);
}

namespace {

// memcpy for the short values of a preimage without the call: overlapping word copies, each
// within [src, src + n) and [out, out + n).
inline void copy_bytes(char* out, const char* src, std::size_t n) {
  if (n > 16) {
    std::memcpy(out, src, n);
  } else if (n >= 8) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(out, &a, 8);
    std::memcpy(out + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(out, &a, 4);
    std::memcpy(out + n - 4, &b, 4);
  } else if (n > 0) {
    out[0] = src[0];
    out[n / 2] = src[n / 2];
    out[n - 1] = src[n - 1];
  }
}

}  // namespace

bool EventFingerprintEnrichment::excluded_unknown(std::string_view name) const {
  return std::find(exclude_.begin(), exclude_.end(), name) != exclude_.end();
}

template <class ForEach, class Room>
std::string_view EventFingerprintEnrichment::build_preimage(ForEach&& for_each, Scratch& s,
                                                            Room&& room) const {
  std::size_t size = 0;
  for_each([&](std::string_view name, std::string_view value, int id) {
    if (id >= 0) {
      const int rank = rank_of_id_[static_cast<std::size_t>(id)];
      if (rank < 0) return;
      uint64_t& word = s.present[static_cast<std::size_t>(rank) / 64];
      const uint64_t bit = uint64_t{1} << (rank % 64);
      if ((word & bit) == 0) {
        word |= bit;
        s.value_at_rank[static_cast<std::size_t>(rank)] = value;
        size += name.size() + value.size() + 2;
        return;
      }
    } else if (excluded_unknown(name)) {
      return;
    }
    s.unknown.push_back({name, value, static_cast<uint32_t>(s.unknown.size())});
    size += name.size() + value.size() + 2;
  });
  if (!s.unknown.empty()) {
    std::sort(s.unknown.begin(), s.unknown.end(), [](const auto& a, const auto& b) {
      return a.name != b.name ? a.name < b.name : a.order < b.order;
    });
  }
  // Known names are written as one 8-byte store (name and U+001F, zero padded): 8 bytes of slack.
  char* const begin = room(size + 8);
  char* out = begin;
  const auto put = [&out](std::string_view bytes) {
    copy_bytes(out, bytes.data(), bytes.size());
    out += bytes.size();
  };
  const auto put_unknown = [&](const Scratch::Pair& p) {
    put(p.name);
    *out++ = '\x1f';
    put(p.value);
    *out++ = '\x1f';
  };
  std::size_t next_unknown = 0;
  const std::size_t unknowns = s.unknown.size();
  // (Twice: without unknown names, the usual case, the loop has no merge step.)
  const auto put_known = [&](auto merge) {
    for (std::size_t w = 0; w < s.present.size(); ++w) {
      uint64_t bits = s.present[w];
      s.present[w] = 0;
      while (bits != 0) {
        const std::size_t rank = 64 * w + static_cast<std::size_t>(std::countr_zero(bits));
        bits &= bits - 1;
        const KnownName& name = name_at_rank_[rank];
        if constexpr (decltype(merge)::value) {
          // A repeated known name sorts after its first occurrence (strict <), as it was listed.
          while (next_unknown < unknowns &&
                 s.unknown[next_unknown].name < std::string_view(name.text, name.size)) {
            put_unknown(s.unknown[next_unknown++]);
          }
        }
        std::memcpy(out, name.text, 8);
        out += name.size + 1;
        put(s.value_at_rank[rank]);
        *out++ = '\x1f';
      }
    }
  };
  if (unknowns == 0) {
    put_known(std::false_type{});
  } else {
    put_known(std::true_type{});
  }
  while (next_unknown < unknowns) put_unknown(s.unknown[next_unknown++]);
  s.unknown.clear();
  return {begin, static_cast<std::size_t>(out - begin)};
}

void EventFingerprintEnrichment::preimage_into(const event::Params& params,
                                               std::string& out) const {
  thread_local Scratch scratch;
  out = build_preimage(
      [&](auto&& f) {
        for (const auto& p : params.items()) {
          if (p.value) {
            f(std::string_view(p.name), std::string_view(*p.value), protocol::param_key_id(p.name));
          }
        }
      },
      scratch);
}

std::string EventFingerprintEnrichment::preimage(const event::Params& params) const {
  std::string out;
  preimage_into(params, out);
  return out;
}

namespace {

// Lower-case hex of `len` digest bytes into `out` (replacing it): two characters per byte from
// one table.
void put_hex(const unsigned char* digest, unsigned int len, std::string& out) {
  static constexpr auto kPairs = [] {
    std::array<char, 512> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      t[static_cast<std::size_t>(2 * b)] = kHex[b >> 4];
      t[static_cast<std::size_t>(2 * b + 1)] = kHex[b & 15];
    }
    return t;
  }();
  out.resize(2 * std::size_t{len});
  char* p = out.data();
  for (unsigned int i = 0; i < len; ++i) std::memcpy(p + 2 * i, &kPairs[2 * digest[i]], 2);
}

}  // namespace

void EventFingerprintEnrichment::digest_hex(std::string_view data, std::string& out) const {
#if FURROW_FINGERPRINT_MD5_DIRECT
  if (md5_direct_) {
    MD5_CTX md5;
    unsigned char digest[MD5_DIGEST_LENGTH];
    if (MD5_Init(&md5) == 1 && MD5_Update(&md5, data.data(), data.size()) == 1 &&
        MD5_Final(digest, &md5) == 1) {
      put_hex(digest, MD5_DIGEST_LENGTH, out);
    } else {
      out = hasher_.hex(data);
    }
    return;
  }
#endif
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
  put_hex(digest, len, out);
}

void EventFingerprintEnrichment::apply(EventContext& ctx) const {
  thread_local Scratch scratch;
  const auto params = [&](auto&& f) { ctx.for_each_parameter_with_id(f); };
  // When the pipeline allows it, the MD5 is computed later with those of the other events of the
  // batch (enrich/deferred_md5.h): the preimage is written straight into its store, and the column
  // holds a placeholder of the digest's length until then.
  if (DeferredMd5* deferred = md5_ ? ctx.deferred_md5() : nullptr;
      deferred != nullptr && ctx.deferred_md5_entry() == DeferredMd5::kNone) {
    static constexpr std::string_view kPlaceholder = "00000000000000000000000000000000";
    static_assert(kPlaceholder.size() == DeferredMd5::kHexSize);
    const std::string_view preimage =
        build_preimage(params, scratch, [&](std::size_t n) { return deferred->reserve(n); });
    ctx.set_deferred_md5_entry(deferred->commit(preimage.size()));
    ctx.event().set_view(event::Field::event_fingerprint, kPlaceholder);
    return;
  }
  const std::string_view preimage = build_preimage(params, scratch);
  digest_hex(preimage, ctx.event()[event::Field::event_fingerprint]);
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
