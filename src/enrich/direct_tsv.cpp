#include "enrich/direct_tsv.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/base64.h"
#include "common/short_copy.h"
#include "common/uri.h"
#include "common/uuid.h"
#include "enrich/convert.h"
#include "enrich/param_map.h"
#include "event/enriched_event.h"

namespace furrow::enrich {
namespace {

using event::Field;

constexpr std::size_t kWords = (event::kFieldCount + 63) / 64;

constexpr std::size_t idx(Field f) {
  return static_cast<std::size_t>(f);
}
constexpr uint64_t bit(std::size_t i) {
  return uint64_t{1} << (i & 63);
}

// Per-thread working memory, reused from event to event.
struct DirectScratch {
  // The event's columns: value i is text[i] when bit i of `set` is on, else empty. Each text is a
  // view of a parameter, of the request context, of the run's constants, of a parser's text or of
  // conv[i] / the JSON columns below, all of which stay put until the line is written.
  std::array<std::string_view, event::kFieldCount> text;
  std::array<uint64_t, kWords> set{};
  // The sum of the lengths of every text set since `set` was cleared: at least the total length
  // of the values (a column set twice counts twice), so the line fits in bytes + the tabs.
  std::size_t bytes = 0;
  // Converted values, by column (each column's own string, so that setting a column twice, as a
  // repeated parameter does, replaces its value like the general path does).
  std::array<std::string, event::kFieldCount> conv;
  std::string contexts, unstruct;  // the JSON columns
  std::string error;               // (conversion messages: unused, the general path reports)
  SdjResult sdj;
  std::vector<char> co_buf, ue_buf;  // decoded cx / ue_px (grow only)
  UriParser uri, refr_uri;
  std::optional<std::string> sp_value;
  // collector_tstamp's text (conv) is that of this time (the events of a payload share it).
  int64_t collector_ms = 0;
  bool collector_cached = false;
  std::vector<char> line = std::vector<char>(16384);  // grows only
};

DirectScratch& direct_scratch() {
  thread_local DirectScratch s;
  return s;
}

// The column operations of the general path, on DirectScratch.
class Row {
 public:
  explicit Row(DirectScratch& s) : s_(s) {}

  void set(Field f, std::string_view t) {
    const std::size_t i = idx(f);
    s_.text[i] = t;
    s_.set[i >> 6] |= bit(i);
    s_.bytes += t.size();
  }
  std::string_view text(Field f) const {
    const std::size_t i = idx(f);
    return (s_.set[i >> 6] & bit(i)) != 0 ? s_.text[i] : std::string_view();
  }
  bool has(Field f) const { return !text(f).empty(); }
  std::string& conv(Field f) { return s_.conv[idx(f)]; }
  // The column takes its conv string's value.
  void set_conv(Field f) { set(f, s_.conv[idx(f)]); }
  // tsv_safe(t) into the column: `t` itself when it needs no change.
  void put_safe(Field f, std::string_view t) {
    if (tsv_clean_inline(t)) {
      set(f, t);
    } else {
      tsv_safe(t, conv(f));
      set_conv(f);
    }
  }
  // The split parts of a parsed URI (views of its parser's text) into the six columns from
  // `scheme` on; absent parts leave their (untouched, empty) column as it is.
  void uri_columns(const UriParts& parts, Field scheme, Field host, Field port, Field path,
                   Field query, Field fragment) {
    if (parts.scheme) put_safe(scheme, *parts.scheme);
    if (parts.host) put_safe(host, *parts.host);
    const int port_number = effective_port(parts);
    if (port_number == 80) {
      set(port, "80");
    } else if (port_number == 443) {
      set(port, "443");
    } else {
      conv(port) = std::to_string(port_number);
      set_conv(port);
    }
    if (parts.path) put_safe(path, *parts.path);
    if (parts.query) put_safe(query, *parts.query);
    if (parts.fragment) put_safe(fragment, *parts.fragment);
  }

 private:
  DirectScratch& s_;
};

bool decode_base64(std::string_view in, std::vector<char>& buf, std::string_view& text) {
  const std::size_t bound = common::base64_decode_bound(in.size());
  if (buf.size() < bound) buf.resize(bound);
  std::size_t n = 0;
  if (!common::base64_decode_to(in, buf.data(), n)) return false;
  text = std::string_view(buf.data(), n);
  return true;
}

// Writes the columns as one TSV line and appends it (and '\n' when `newline`) to `out`. False,
// with `out` unchanged, when a value is longer than its column's byte limit (`limits`, null = no
// limits) or the line longer than `max_bytes`.
[[gnu::no_sanitize_address]] bool write_line(DirectScratch& s, const std::size_t* limits,
                                             std::size_t max_bytes, bool newline,
                                             std::string& out) {
  constexpr std::size_t kBlock = 16;
  // Room for the line: the values (at most s.bytes), every tab, a block of overhang (short copies
  // and tab blocks write up to 16 bytes past their end) and the newline; made once, before the
  // loop.
  const std::size_t room = s.bytes + event::kFieldCount + 3 * kBlock;
  if (s.line.size() < room) s.line.resize(std::max(s.line.size() * 2, room));
  char* const base = s.line.data();
  char* p = base;
  std::size_t tabs = 0;  // tabs written so far (column i's value follows i tabs)
  auto put_tabs = [&p](std::size_t n) { p = common::put_tabs_with_overhang(p, n); };
  for (std::size_t w = 0; w < kWords; ++w) {
    for (uint64_t m = s.set[w]; m != 0; m &= m - 1) {
      const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(m));
      const std::string_view v = s.text[i];
      const std::size_t n = v.size();
      if (limits != nullptr && __builtin_expect(n > limits[i], 0)) return false;
      put_tabs(i - tabs);
      tabs = i;
      common::copy_with_overhang(p, v.data(), n);
      p += n;
    }
  }
  put_tabs(event::kFieldCount - 1 - tabs);
  const std::size_t len = static_cast<std::size_t>(p - base);
  if (len > max_bytes) return false;
  if (newline) *p++ = '\n';
  out.append(base, static_cast<std::size_t>(p - base));
  return true;
}

// Column byte limits (modern enrich's atomicFieldsLimits; a value of at most N bytes has at most N
// UTF-16 units, so only longer values can be over the limit).
const std::array<std::size_t, event::kFieldCount>& byte_limits() {
  static const std::array<std::size_t, event::kFieldCount> kLimits = [] {
    std::array<std::size_t, event::kFieldCount> l{};
    const auto& infos = event::field_infos();
    for (std::size_t i = 0; i < l.size(); ++i)
      l[i] = infos[i].max_length == 0 ? SIZE_MAX : infos[i].max_length;
    return l;
  }();
  return kLimits;
}

}  // namespace

// Mirrors the general path's phase 1, the built-in steps 1, 2, 3, 8, 11 and 17, and phase 3
// (pipeline.cpp: phase1, run_builtin, enrich_one) for an event with no enrichment configured;
// every place where the general path would add a report, a violation or a failure returns false.
bool write_direct_tsv(const DirectRun& run, const event::RawEvent& raw,
                      std::span<const protocol::ParamView> params, std::string& out, bool newline) {
  DirectScratch& s = direct_scratch();
  s.set = {};
  s.bytes = 0;
  Row r(s);

  // Phase 1: the request context, then the parameters in their order (a later one replaces an
  // earlier one's column).
  r.set(Field::v_collector, run.collector_name);
  r.set(Field::v_etl, run.v_etl);
  r.set(Field::etl_tstamp, run.etl_tstamp);
  if (raw.user_id) r.set(Field::network_userid, *raw.user_id);
  if (raw.ip_address) r.put_safe(Field::user_ipaddress, ip_token(*raw.ip_address));
  if (raw.useragent) r.put_safe(Field::useragent, *raw.useragent);
  if (!raw.timestamp) return false;
  const int64_t collector = *raw.timestamp;
  if (!s.collector_cached || s.collector_ms != collector) {
    s.collector_cached = false;
    if (!format_checked_tstamp(collector, r.conv(Field::collector_tstamp), s.error)) return false;
    s.collector_ms = collector;
    s.collector_cached = true;
  }
  r.set_conv(Field::collector_tstamp);

  bool has_dtm = false, has_stm = false, has_ttm = false;
  int64_t dtm = 0, stm = 0;
  const std::string_view* ue = nullptr;
  const std::string_view* co = nullptr;
  const std::string_view* tnuid = nullptr;
  bool ue_b64 = false, co_b64 = false;
  const MappingById& table = param_table();
  for (const protocol::ParamView& p : params) {
    if (p.id < 0 || !table.used[static_cast<std::size_t>(p.id)]) continue;
    const Mapping& m = table.mapping[static_cast<std::size_t>(p.id)];
    const std::string_view& v = p.value;
    switch (m.conv) {
      case Conv::kString:
        r.put_safe(m.field, v);
        break;
      case Conv::kInt:
        if (java_int_unchanged(v)) {
          r.set(m.field, v);
        } else {
          if (!convert_int(v, r.conv(m.field), s.error)) return false;
          r.set_conv(m.field);
        }
        break;
      case Conv::kDecimal:
        if (!convert_decimal(v, r.conv(m.field), s.error)) return false;
        r.set_conv(m.field);
        break;
      case Conv::kBool01:
        if (v.size() == 1 && (v[0] == '0' || v[0] == '1')) {
          r.set(m.field, v);
        } else {
          if (!convert_bool01(v, r.conv(m.field), s.error)) return false;
          r.set_conv(m.field);
        }
        break;
      case Conv::kWxH: {
        std::string_view width, height;
        if (wxh_unchanged(v, width, height)) {
          r.set(m.field, width);
          r.set(m.second, height);
        } else {
          if (!convert_wxh(v, r.conv(m.field), r.conv(m.second), s.error)) return false;
          r.set_conv(m.field);
          r.set_conv(m.second);
        }
        break;
      }
      case Conv::kUuid:
        if (uuid_unchanged(v)) {
          r.set(m.field, v);
        } else {
          if (!convert_uuid(v, r.conv(m.field), s.error)) return false;
          r.set_conv(m.field);
        }
        break;
      case Conv::kTstamp: {
        int64_t ms = 0;
        if (!convert_tstamp(v, r.conv(m.field), s.error, ms)) return false;
        r.set_conv(m.field);
        if (m.field == Field::dvce_created_tstamp) has_dtm = true, dtm = ms;
        if (m.field == Field::dvce_sent_tstamp) has_stm = true, stm = ms;
        if (m.field == Field::true_tstamp) has_ttm = true;
        break;
      }
      case Conv::kEvent: {
        std::string_view name;
        if (event_type_name(v, name)) {
          r.set(m.field, name);
        } else {
          if (!convert_event_type(v, r.conv(m.field), s.error)) return false;
          r.set_conv(m.field);
        }
        break;
      }
      case Conv::kPlatform:
        if (is_platform(v)) {
          r.set(m.field, v);
        } else {
          if (!convert_platform(v, r.conv(m.field), s.error)) return false;
          r.set_conv(m.field);
        }
        break;
      case Conv::kIp:
        r.put_safe(m.field, ip_token(v));
        break;
      case Conv::kUePlain:
      case Conv::kUeBase64:
        ue = &v;
        ue_b64 = m.conv == Conv::kUeBase64;
        break;
      case Conv::kCoPlain:
      case Conv::kCoBase64:
        co = &v;
        co_b64 = m.conv == Conv::kCoBase64;
        break;
      case Conv::kTnuid:
        tnuid = &v;
        break;
    }
  }
  if (tnuid != nullptr) r.put_safe(Field::network_userid, *tnuid);
  if (!r.has(Field::event_id)) {
    random_uuid_v4(r.conv(Field::event_id));
    r.set_conv(Field::event_id);
  }

  // Self-describing inputs: any message or validation_info entity is left to the general path.
  std::string_view co_text, ue_text;
  if (co != nullptr) {
    if (!co_b64) {
      co_text = *co;
    } else if (!decode_base64(*co, s.co_buf, co_text)) {
      return false;
    }
  }
  if (ue != nullptr) {
    if (!ue_b64) {
      ue_text = *ue;
    } else if (!decode_base64(*ue, s.ue_buf, ue_text)) {
      return false;
    }
  }
  s.sdj.clear();
  if (co != nullptr) {
    process_contexts(co_text, *run.vs, run.max_json_depth, s.sdj);
    if (!s.sdj.messages.empty() || !s.sdj.validation_infos.empty()) return false;
    s.contexts.swap(s.sdj.column);
    r.set(Field::contexts, s.contexts);
  }
  s.sdj.clear();
  if (ue != nullptr) {
    process_unstruct(ue_text, *run.vs, run.max_json_depth, s.sdj);
    if (!s.sdj.messages.empty() || !s.sdj.validation_infos.empty()) return false;
    s.unstruct.swap(s.sdj.column);
    r.set(Field::unstruct_event, s.unstruct);
  }

  // Step 1: collector version.
  if (!r.has(Field::v_collector)) return false;
  // Step 2: page URI (the page_url column, else the request's referer).
  bool page_uri_ok = false;
  std::optional<std::string_view> page_query;
  {
    std::optional<std::string_view> source;
    if (r.has(Field::page_url)) {
      source = r.text(Field::page_url);
    } else if (raw.referer_uri) {
      source = *raw.referer_uri;
    }
    if (source) {
      UriParts parts;
      if (!s.uri.parse(*source, parts, s.error)) return false;
      page_uri_ok = true;
      r.uri_columns(parts, Field::page_urlscheme, Field::page_urlhost, Field::page_urlport,
                    Field::page_urlpath, Field::page_urlquery, Field::page_urlfragment);
      page_query = parts.query;
      r.set(Field::page_url, s.uri.normalized());
    }
  }
  // Step 3: derived_tstamp.
  if (has_ttm) {
    r.set(Field::derived_tstamp, r.text(Field::true_tstamp));
  } else {
    int64_t derived = collector;
    if (has_dtm && has_stm && dtm < stm) derived = collector - (stm - dtm);
    if (!format_checked_tstamp(derived, r.conv(Field::derived_tstamp), s.error)) return false;
    r.set_conv(Field::derived_tstamp);
  }
  // Step 8: referer split.
  if (r.has(Field::page_referrer)) {
    UriParts parts;
    if (!s.refr_uri.parse(r.text(Field::page_referrer), parts, s.error)) return false;
    r.uri_columns(parts, Field::refr_urlscheme, Field::refr_urlhost, Field::refr_urlport,
                  Field::refr_urlpath, Field::refr_urlquery, Field::refr_urlfragment);
  }
  // Step 11: cross-domain `_sp` of the page query (the last one).
  if (page_uri_ok && page_query && find_last_query_value(*page_query, "_sp", s.sp_value) &&
      s.sp_value && !s.sp_value->empty()) {
    const std::string_view v = *s.sp_value;
    const std::size_t dot = v.find('.');
    std::string& tstamp_text = r.conv(Field::refr_dvce_tstamp);
    tstamp_text.clear();
    if (dot != std::string_view::npos) {
      const std::size_t next = v.find('.', dot + 1);
      const std::string_view part = v.substr(
          dot + 1, next == std::string_view::npos ? std::string_view::npos : next - dot - 1);
      if (!part.empty() && !convert_tstamp(part, tstamp_text, s.error)) return false;
    }
    tsv_safe(v.substr(0, dot), r.conv(Field::refr_domain_userid));
    r.set_conv(Field::refr_domain_userid);
    r.set_conv(Field::refr_dvce_tstamp);
  }
  // Step 17: event schema (views of constants or of s.sdj.event_schema).
  {
    EventSchema es;
    switch (event_schema_of(r.text(Field::event), s.sdj.event_schema, es)) {
      case EventSchemaFound::kFound:
        r.set(Field::event_vendor, es.vendor);
        r.set(Field::event_name, es.name);
        r.set(Field::event_format, es.format);
        r.set(Field::event_version, es.version);
        break;
      case EventSchemaFound::kUnparsed:
        break;
      case EventSchemaFound::kNoUnstructSchema:
      case EventSchemaFound::kUnknownEvent:
        return false;
    }
  }

  // Phase 3: no derived contexts without enrichments (validation_info entities went the general
  // way); length limits and the record size while writing.
  return write_line(s, run.accept_invalid ? nullptr : byte_limits().data(), run.max_record_bytes,
                    newline, out);
}

}  // namespace furrow::enrich
