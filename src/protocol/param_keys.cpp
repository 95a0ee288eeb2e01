#include "protocol/param_keys.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace furrow::protocol {
namespace {

struct KeyInfo {
  std::string_view name;
  int8_t since;  // payload_data addition that introduced the key; -1 = none
};

// payload_data 1-0-0 keys; later versions add ua (1-0-1), tnuid (1-0-2), stm and sid (1-0-3), ttm
// (1-0-4). Then names outside payload_data that the field mapping knows (tp1).
constexpr KeyInfo kKeys[] = {
    {"tna", 0},     {"aid", 0},    {"p", 0},      {"dtm", 0},    {"tz", 0},     {"e", 0},
    {"tid", 0},     {"eid", 0},    {"tv", 0},     {"duid", 0},   {"nuid", 0},   {"uid", 0},
    {"vid", 0},     {"ip", 0},     {"res", 0},    {"url", 0},    {"page", 0},   {"refr", 0},
    {"fp", 0},      {"ctype", 0},  {"cookie", 0}, {"lang", 0},   {"f_pdf", 0},  {"f_qt", 0},
    {"f_realp", 0}, {"f_wma", 0},  {"f_dir", 0},  {"f_fla", 0},  {"f_java", 0}, {"f_gears", 0},
    {"f_ag", 0},    {"cd", 0},     {"ds", 0},     {"cs", 0},     {"vp", 0},     {"mac", 0},
    {"pp_mix", 0},  {"pp_max", 0}, {"pp_miy", 0}, {"pp_may", 0}, {"ad_ba", 0},  {"ad_ca", 0},
    {"ad_ad", 0},   {"ad_uid", 0}, {"tr_id", 0},  {"tr_af", 0},  {"tr_tt", 0},  {"tr_tx", 0},
    {"tr_sh", 0},   {"tr_ci", 0},  {"tr_st", 0},  {"tr_co", 0},  {"tr_cu", 0},  {"ti_id", 0},
    {"ti_sk", 0},   {"ti_nm", 0},  {"ti_na", 0},  {"ti_ca", 0},  {"ti_pr", 0},  {"ti_qu", 0},
    {"ti_cu", 0},   {"sa", 0},     {"sn", 0},     {"st", 0},     {"sp", 0},     {"se_ca", 0},
    {"se_ac", 0},   {"se_la", 0},  {"se_pr", 0},  {"se_va", 0},  {"ue_na", 0},  {"ue_pr", 0},
    {"ue_px", 0},   {"co", 0},     {"cx", 0},     {"ua", 1},     {"tnuid", 2},  {"stm", 3},
    {"sid", 3},     {"ttm", 4},    {"cv", -1},    {"ev_ca", -1}, {"ev_ac", -1}, {"ev_la", -1},
    {"ev_pr", -1},  {"ev_va", -1},
};
static_assert(std::size(kKeys) == kParamKeyCount);
static_assert(kParamKeyCount <= 128, "the allowed sets are two words");

// Names of up to eight bytes packed into an integer (first byte lowest, zero padded). Every known
// name is 1-7 bytes without NUL, so packing is one-to-one on them.
constexpr uint64_t pack(std::string_view k) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < k.size(); ++i) v |= uint64_t{static_cast<uint8_t>(k[i])} << (8 * i);
  return v;
}

// pack() for 1-7 bytes without a loop (looked up for every parameter of every event): two
// overlapping loads cover 4-7 bytes; 1-3 bytes are the first, middle and last byte (some of
// which coincide, each put at its own place).
uint64_t pack_short(const char* p, std::size_t n) {
  if (n >= 4) {
    uint32_t lo = 0, hi = 0;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return uint64_t{lo} | (uint64_t{hi} << (8 * (n - 4)));
  }
  const auto byte = [p](std::size_t i) { return uint64_t{static_cast<uint8_t>(p[i])} << (8 * i); };
  return byte(0) | byte(n / 2) | byte(n - 1);
}

// Finds a multiplier for which the top kBits of (key * multiplier) put every known name in its
// own slot, so that a lookup is one multiply, one load and one compare.
constexpr detail::ParamKeyTable build_table() {
  detail::ParamKeyTable t;
  constexpr int kBits = detail::ParamKeyTable::kBits;
  uint64_t m = 0x9E3779B97F4A7C15ULL;
  for (;;) {
    t.keys.fill(0);
    t.ids.fill(-1);
    const uint64_t mult = m | 1;
    bool ok = true;
    for (int i = 0; i < kParamKeyCount && ok; ++i) {
      const uint64_t k = pack(kKeys[i].name) | (uint64_t{kKeys[i].name.size()} << 56);
      const std::size_t s = (k * mult) >> (64 - kBits);
      if (t.ids[s] >= 0) ok = false;
      t.keys[s] = k;
      t.ids[s] = static_cast<int8_t>(i);
    }
    if (ok) {
      t.mult = mult;
      break;
    }
    m = m * 6364136223846793005ULL + 1442695040888963407ULL;  // next candidate
  }
  for (int addition = 0; addition < 5; ++addition) {
    for (int i = 0; i < kParamKeyCount; ++i) {
      if (kKeys[i].since >= 0 && kKeys[i].since <= addition) {
        t.allowed[static_cast<std::size_t>(addition)][static_cast<std::size_t>(i >> 6)] |=
            uint64_t{1} << (i & 63);
      }
    }
  }
  return t;
}

}  // namespace

// Built by the compiler: no guard, no constructor, no run-time search.
constexpr detail::ParamKeyTable detail::kParamKeyTable = build_table();

int param_key_id(std::string_view name) {
  if (name.empty() || name.size() > 7) return -1;
  return param_key_id_packed(pack_short(name.data(), name.size()), name.size());
}

std::string_view param_key_name(int id) {
  return kKeys[id].name;
}

int param_key_since(int id) {
  return kKeys[id].since;
}

}  // namespace furrow::protocol
