// The canonical enriched event: Snowplow's 131 fields in wire order (spec section 3.1).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace furrow::event {

// Every column of the enriched TSV, in order. The numeric value is the 0-based column index.
enum class Field : uint8_t {
  app_id,                    // 1
  platform,                  // 2
  etl_tstamp,                // 3
  collector_tstamp,          // 4
  dvce_created_tstamp,       // 5
  event,                     // 6
  event_id,                  // 7
  txn_id,                    // 8
  name_tracker,              // 9
  v_tracker,                 // 10
  v_collector,               // 11
  v_etl,                     // 12
  user_id,                   // 13
  user_ipaddress,            // 14
  user_fingerprint,          // 15
  domain_userid,             // 16
  domain_sessionidx,         // 17
  network_userid,            // 18
  geo_country,               // 19
  geo_region,                // 20
  geo_city,                  // 21
  geo_zipcode,               // 22
  geo_latitude,              // 23
  geo_longitude,             // 24
  geo_region_name,           // 25
  ip_isp,                    // 26
  ip_organization,           // 27
  ip_domain,                 // 28
  ip_netspeed,               // 29
  page_url,                  // 30
  page_title,                // 31
  page_referrer,             // 32
  page_urlscheme,            // 33
  page_urlhost,              // 34
  page_urlport,              // 35
  page_urlpath,              // 36
  page_urlquery,             // 37
  page_urlfragment,          // 38
  refr_urlscheme,            // 39
  refr_urlhost,              // 40
  refr_urlport,              // 41
  refr_urlpath,              // 42
  refr_urlquery,             // 43
  refr_urlfragment,          // 44
  refr_medium,               // 45
  refr_source,               // 46
  refr_term,                 // 47
  mkt_medium,                // 48
  mkt_source,                // 49
  mkt_term,                  // 50
  mkt_content,               // 51
  mkt_campaign,              // 52
  contexts,                  // 53
  se_category,               // 54
  se_action,                 // 55
  se_label,                  // 56
  se_property,               // 57
  se_value,                  // 58
  unstruct_event,            // 59
  tr_orderid,                // 60
  tr_affiliation,            // 61
  tr_total,                  // 62
  tr_tax,                    // 63
  tr_shipping,               // 64
  tr_city,                   // 65
  tr_state,                  // 66
  tr_country,                // 67
  ti_orderid,                // 68
  ti_sku,                    // 69
  ti_name,                   // 70
  ti_category,               // 71
  ti_price,                  // 72
  ti_quantity,               // 73
  pp_xoffset_min,            // 74
  pp_xoffset_max,            // 75
  pp_yoffset_min,            // 76
  pp_yoffset_max,            // 77
  useragent,                 // 78
  br_name,                   // 79
  br_family,                 // 80
  br_version,                // 81
  br_type,                   // 82
  br_renderengine,           // 83
  br_lang,                   // 84
  br_features_pdf,           // 85
  br_features_flash,         // 86
  br_features_java,          // 87
  br_features_director,      // 88
  br_features_quicktime,     // 89
  br_features_realplayer,    // 90
  br_features_windowsmedia,  // 91
  br_features_gears,         // 92
  br_features_silverlight,   // 93
  br_cookies,                // 94
  br_colordepth,             // 95
  br_viewwidth,              // 96
  br_viewheight,             // 97
  os_name,                   // 98
  os_family,                 // 99
  os_manufacturer,           // 100
  os_timezone,               // 101
  dvce_type,                 // 102
  dvce_ismobile,             // 103
  dvce_screenwidth,          // 104
  dvce_screenheight,         // 105
  doc_charset,               // 106
  doc_width,                 // 107
  doc_height,                // 108
  tr_currency,               // 109
  tr_total_base,             // 110
  tr_tax_base,               // 111
  tr_shipping_base,          // 112
  ti_currency,               // 113
  ti_price_base,             // 114
  base_currency,             // 115
  geo_timezone,              // 116
  mkt_clickid,               // 117
  mkt_network,               // 118
  etl_tags,                  // 119
  dvce_sent_tstamp,          // 120
  refr_domain_userid,        // 121
  refr_dvce_tstamp,          // 122
  derived_contexts,          // 123
  domain_sessionid,          // 124
  derived_tstamp,            // 125
  event_vendor,              // 126
  event_name,                // 127
  event_format,              // 128
  event_version,             // 129
  event_fingerprint,         // 130
  true_tstamp,               // 131
};

inline constexpr std::size_t kFieldCount = 131;

// How a column's value is written in the TSV and typed by readers (spec 3.2).
enum class FieldKind : uint8_t { kString, kTimestamp, kInt, kDecimal, kFloat, kBool01, kJson };

struct FieldInfo {
  std::string_view name;
  FieldKind kind;
  // Modern enrich's default maximum length (atomicFieldsLimits); 0 = no length check.
  uint32_t max_length;
};

// Metadata for every field, indexed by the Field value.
const std::array<FieldInfo, kFieldCount>& field_infos();
inline const FieldInfo& field_info(Field f) {
  return field_infos()[static_cast<std::size_t>(f)];
}
inline std::string_view field_name(Field f) {
  return field_info(f).name;
}
// Looks a column up by name; returns false when there is no such column.
bool field_by_name(std::string_view name, Field& out);

// The 131 values of an event, with a record of which of them may be non-empty, so that clearing,
// checking and writing an event touch only the ~50 columns a typical event sets.
//
// A value is either a std::string or a view of text held elsewhere (set_view: the pipeline's way
// to take a tracker's value, a constant or a parser's output without copying it). Every way to
// reach a value as a std::string (either operator[], begin()/end()) first turns a view into the
// string (a copy), so code that only knows std::string always sees the value; text() and
// for_each_marked() see either form without copying.
//
// Contract: every way to get a mutable string (non-const operator[], non-const begin()/end())
// marks it (begin()/end() mark all), so an unmarked value is always empty. clear() empties the
// marked values and unmarks everything; a reference taken before clear() must not be written
// after it. The record may over-approximate (a marked value may be empty). A view's text must
// stay valid and unchanged until the value is next written or turned into a string, or the event
// is cleared, and must not lie inside this object's own strings (copies of the object share it).
// Reading a view as a std::string changes its form, so an object holding views must not be read
// from several threads at once (the pipeline keeps its event per thread).
class FieldValues {
 public:
  using value_type = std::string;
  using iterator = std::string*;
  using const_iterator = const std::string*;
  static constexpr std::size_t kWords = (kFieldCount + 63) / 64;

  // (Always inlined: a bit test and an or; GCC declines it in large callers such as the
  // pipeline's enrich_one.)
  [[gnu::always_inline]] std::string& operator[](std::size_t i) {
    if (__builtin_expect(is_view(i), 0)) to_string(i);
    marked_[i >> 6] |= bit(i);
    return v_[i];
  }
  [[gnu::always_inline]] const std::string& operator[](std::size_t i) const {
    if (__builtin_expect(is_view(i), 0)) to_string(i);
    return v_[i];
  }
  static constexpr std::size_t size() { return kFieldCount; }

  // Value i as text, whichever form it has (no copy).
  std::string_view text(std::size_t i) const {
    return is_view(i) ? views_[i] : std::string_view(v_[i]);
  }
  // Sets value i to `text` without copying it (see the contract above).
  void set_view(std::size_t i, std::string_view text) {
    views_[i] = text;
    view_[i >> 6] |= bit(i);
    marked_[i >> 6] |= bit(i);
  }

  const std::string* begin() const {
    all_to_string();
    return v_.data();
  }
  const std::string* end() const {
    all_to_string();
    return v_.data() + kFieldCount;
  }
  std::string* begin() {
    all_to_string();
    mark_all();
    return v_.data();
  }
  std::string* end() {
    all_to_string();
    mark_all();
    return v_.data() + kFieldCount;
  }

  // Word w of the record: bit b set when value 64 * w + b may be non-empty.
  uint64_t marked_word(std::size_t w) const { return marked_[w]; }
  bool marked(std::size_t i) const { return (marked_[i >> 6] & bit(i)) != 0; }
  bool is_view(std::size_t i) const { return (view_[i >> 6] & bit(i)) != 0; }
  // Calls f(index, text) for every marked value, in column order.
  template <typename F>
  void for_each_marked(F&& f) const {
    for_each_marked_form([&f](std::size_t i, std::string_view text, bool) { f(i, text); });
  }
  // The same, f(index, text, is_view): a text that is not a view is a std::string's data(), which
  // libstdc++ keeps readable for at least 16 bytes (write_tsv's short copies rely on that).
  template <typename F>
  void for_each_marked_form(F&& f) const {
    for (std::size_t w = 0; w < kWords; ++w) {
      // (The words are copied: stores through the caller's char pointers could alias them.)
      const uint64_t views = view_[w];
      for (uint64_t m = marked_[w]; m != 0; m &= m - 1) {
        const unsigned b = static_cast<unsigned>(__builtin_ctzll(m));
        const std::size_t i = w * 64 + b;
        if ((views >> b) & 1) {
          f(i, views_[i], true);
        } else {
          f(i, std::string_view(v_[i]), false);
        }
      }
    }
  }

  // Calls f(index) for every marked value of more than limits[index] bytes, in column order
  // (`limits` has kFieldCount entries). A plain loop over the record: no text is built.
  template <typename F>
  void for_each_longer_than(const std::size_t* limits, F&& f) const {
    for (std::size_t w = 0; w < kWords; ++w) {
      const uint64_t views = view_[w];
      for (uint64_t m = marked_[w]; m != 0; m &= m - 1) {
        const unsigned b = static_cast<unsigned>(__builtin_ctzll(m));
        const std::size_t i = w * 64 + b;
        const std::size_t n = ((views >> b) & 1) ? views_[i].size() : v_[i].size();
        if (__builtin_expect(n > limits[i], 0)) f(i);
      }
    }
  }

  // Empties every value (capacity kept).
  void clear() {
    for (std::size_t w = 0; w < kWords; ++w) {
      for (uint64_t m = marked_[w]; m != 0; m &= m - 1)
        v_[w * 64 + static_cast<std::size_t>(__builtin_ctzll(m))].clear();
      marked_[w] = 0;
      view_[w] = 0;
    }
  }

  // Equal values (the forms and the record are bookkeeping, not content).
  friend bool operator==(const FieldValues& a, const FieldValues& b) {
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      if (a.text(i) != b.text(i)) return false;
    }
    return true;
  }

 private:
  static constexpr uint64_t bit(std::size_t i) { return uint64_t{1} << (i & 63); }
  // Copies view i into its string (the record already marks it). Logically const: the value
  // does not change, only its form.
  [[gnu::noinline, gnu::cold]] void to_string(std::size_t i) const {
    v_[i].assign(views_[i]);
    view_[i >> 6] &= ~bit(i);
  }
  void all_to_string() const {
    for (std::size_t w = 0; w < kWords; ++w) {
      for (uint64_t m = view_[w]; m != 0; m &= m - 1)
        to_string(w * 64 + static_cast<std::size_t>(__builtin_ctzll(m)));
    }
  }
  static_assert(kFieldCount % 64 != 0, "mark_all's last-word mask");
  void mark_all() {
    for (std::size_t w = 0; w < kWords; ++w) marked_[w] = ~uint64_t{0};
    marked_[kWords - 1] = (uint64_t{1} << (kFieldCount % 64)) - 1;
  }

  mutable std::array<std::string, kFieldCount> v_;
  std::array<std::string_view, kFieldCount> views_{};
  std::array<uint64_t, kWords> marked_{};
  mutable std::array<uint64_t, kWords> view_{};
};

// One enriched event. Every value is kept in its TSV text form; an empty string is null, which is
// exactly how the TSV represents null. Objects are reused across events (clear() keeps capacity),
// so the hot path allocates only when a value grows.
struct EnrichedEvent {
  FieldValues values;

  [[gnu::always_inline]] std::string& operator[](Field f) {
    return values[static_cast<std::size_t>(f)];
  }
  [[gnu::always_inline]] const std::string& operator[](Field f) const {
    return values[static_cast<std::size_t>(f)];
  }
  // The value as text, whichever form it has (no copy).
  std::string_view text(Field f) const { return values.text(static_cast<std::size_t>(f)); }
  // Sets a value without copying it (FieldValues::set_view).
  void set_view(Field f, std::string_view text) {
    values.set_view(static_cast<std::size_t>(f), text);
  }
  bool has(Field f) const { return !text(f).empty(); }
  void clear() { values.clear(); }
};

}  // namespace furrow::event
