#include "enrich/pipeline.h"

#include <furrow/version.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "common/base64.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "common/uri.h"
#include "common/uuid.h"
#include "enrich/convert.h"
#include "enrich/deferred_md5.h"
#include "enrich/direct_tsv.h"
#include "enrich/param_map.h"
#include "enrich/sdj.h"
#include "event/bad_row.h"
#include "event/tsv.h"
#include "protocol/adapter.h"
#include "protocol/param_keys.h"

namespace furrow::enrich {
namespace {

using event::Field;

// Built-in steps of spec 4.2 that sit between the configurable enrichments.
constexpr int kStepCollectorVersion = 1;
constexpr int kStepPageUri = 2;
constexpr int kStepDerivedTstamp = 3;
constexpr int kStepRefererSplit = 8;
constexpr int kStepPageQuery = 9;
constexpr int kStepCrossDomain = 11;
constexpr int kStepEventSchema = 17;
constexpr int kBuiltinSteps[] = {kStepCollectorVersion, kStepPageUri,   kStepDerivedTstamp,
                                 kStepRefererSplit,     kStepPageQuery, kStepCrossDomain,
                                 kStepEventSchema};

// Per-thread working memory, reused from event to event.
struct Scratch {
  std::vector<event::RawEvent> raws;
  event::EnrichedEvent ev;
  std::string error;
  std::string tmp;
  std::vector<char> co_text;            // decoded cx (grows only: see decode_base64)
  std::vector<char> ue_text;            // decoded ue_px
  std::vector<std::string> reports;     // atomic dataReports of the current event
  std::vector<std::string> violations;  // schema_violations messages
  std::vector<std::string> failures;    // enrichment_failures messages
  std::vector<std::string> infos;       // validation_info entities
  // Derived-context groups, oldest first: the first group_count (the vectors are kept from event
  // to event, with their capacity).
  std::vector<std::vector<std::string>> groups;
  std::size_t group_count = 0;
  std::vector<std::string> pending;  // EventContext's pending_contexts()
  std::vector<std::pair<std::string, std::string>> ctx_page_query;  // and its page_query()
  SdjResult sdj;
  UriParser uri;       // page URL
  UriParser refr_uri;  // referrer URL
  UriParts parts;
  QueryPairs query;                            // page query pairs (with enrichments only)
  std::optional<std::string_view> page_query;  // the raw page query (see kStepPageUri)
  std::optional<std::string> sp_value;         // its last `_sp` value
  std::string line;
  // collector_tstamp's text, when collector_cached: that of collector_ms.
  std::string collector_text;
  int64_t collector_ms = 0;
  bool collector_cached = false;
  std::vector<protocol::ParamView> param_views;  // a RawEvent's parameters as views
  // The view fast path's payload state (ViewState); `view_busy` while a call uses it, so that a
  // call re-entering the pipeline on this thread (from an enrichment) takes its own instead.
  struct ViewState {
    // Events of the current payload, the arena for strings with escapes, the request context,
    // and a RawEvent holding that context (no parameters) for the built-in steps.
    protocol::ViewEvents views;
    std::string arena;
    protocol::ViewContext ctx;
    event::RawEvent raw;
  };
  ViewState view;
  bool view_busy = false;
};

// Decodes base64 into `buf`, which only grows (so decoding costs no clearing, as resizing a
// string would), and views the result in `text`.
bool decode_base64(std::string_view in, std::vector<char>& buf, std::string_view& text) {
  const std::size_t bound = common::base64_decode_bound(in.size());
  if (buf.size() < bound) buf.resize(bound);
  std::size_t n = 0;
  if (!common::base64_decode_to(in, buf.data(), n)) return false;
  text = std::string_view(buf.data(), n);
  return true;
}

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void add_report(std::vector<std::string>& reports, std::string_view path, std::string_view message,
                std::string_view keyword) {
  std::string r = "{\"message\":";
  event::append_json_string(message, r);
  r += ",\"path\":";
  event::append_json_string(path, r);
  r += ",\"keyword\":";
  event::append_json_string(keyword, r);
  r += ",\"targets\":[]}";
  reports.push_back(std::move(r));
}

std::string atomic_message(const std::vector<std::string>& reports) {
  std::string m = "{\"schemaKey\":\"";
  m += kAtomicSchema;
  m += "\",\"error\":{\"error\":\"ValidationError\",\"dataReports\":[";
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (i) m += ',';
    m += reports[i];
  }
  m += "]}}";
  return m;
}

std::string failure_message(std::string_view message_json) {
  std::string m = "{\"enrichment\":null,\"message\":";
  m += message_json;
  m += '}';
  return m;
}

std::string failure_message(std::string_view schema_key, std::string_view identifier,
                            std::string_view message_json) {
  std::string m = "{\"enrichment\":{\"schemaKey\":";
  event::append_json_string(schema_key, m);
  m += ",\"identifier\":";
  event::append_json_string(identifier, m);
  m += "},\"message\":";
  m += message_json;
  m += '}';
  return m;
}

std::string input_data(std::string_view field, const std::string* value,
                       std::string_view expectation) {
  std::string m = "{\"field\":";
  event::append_json_string(field, m);
  m += ",\"value\":";
  if (value != nullptr) {
    event::append_json_string(*value, m);
  } else {
    m += "null";
  }
  m += ",\"expectation\":";
  event::append_json_string(expectation, m);
  m += '}';
  return m;
}

std::string simple_error(std::string_view error) {
  std::string m = "{\"error\":";
  event::append_json_string(error, m);
  m += '}';
  return m;
}

// tsv_safe(v) into column f: as a view of `v` when it needs no change (then `v` must stay valid
// until the event is written: a parameter of the current payload, a parser's text, a constant).
[[gnu::always_inline]] inline void put_tsv_safe(event::EnrichedEvent& ev, Field f,
                                                std::string_view v) {
  if (tsv_clean_inline(v)) {
    ev.set_view(f, v);
  } else {
    tsv_safe(v, ev[f]);
  }
}

// Writes the split parts of a parsed URI into the six columns starting at `scheme`.
void set_uri_columns(event::EnrichedEvent& ev, const UriParts& parts, Field scheme, Field host,
                     Field port, Field path, Field query, Field fragment) {
  // The parts view the parser's own text, which stays as it is until that parser's next parse
  // (the next event's), so they are taken as views.
  auto put = [&](Field f, const std::optional<std::string_view>& v) {
    if (v) {
      put_tsv_safe(ev, f, *v);
    } else if (ev.has(f)) {  // (an empty column stays unmarked: nothing to write)
      ev.set_view(f, {});
    }
  };
  put(scheme, parts.scheme);
  put(host, parts.host);
  const int port_number = effective_port(parts);
  if (port_number == 80) {
    ev.set_view(port, "80");
  } else if (port_number == 443) {
    ev.set_view(port, "443");
  } else {
    ev[port] = std::to_string(port_number);
  }
  put(path, parts.path);
  put(query, parts.query);
  put(fragment, parts.fragment);
}

bool header_present(const std::vector<std::string>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.size() > name.size() && h[name.size()] == ':' && starts_with_icase(h, name)) return true;
  }
  return false;
}

}  // namespace

struct PipelineImpl {
  // Enrichments sorted by step (stable: configuration order within a step).
  static std::vector<const Enrichment*> sorted(const PipelineConfig& c) {
    std::vector<const Enrichment*> v;
    for (const auto& e : c.enrichments) {
      if (e) v.push_back(e.get());
    }
    std::stable_sort(v.begin(), v.end(), [](const Enrichment* a, const Enrichment* b) {
      return a->step() < b->step();
    });
    return v;
  }
};

namespace {

// Everything one call needs that does not change per event.
struct Run {
  const PipelineConfig& config;
  const std::vector<const Enrichment*>& chain;
  event::Processor processor;
  int64_t now;
  std::string etl_tstamp;
  ValidationSettings vs;
  std::string_view v_etl;  // artifact-version, the v_etl column (Pipeline::v_etl_)
  bool defer_md5 = false;  // Pipeline::defer_md5_
};

// Phase 1 (spec 4.1): map and validate the tracker-protocol parameters. Returns false when the
// event must become a schema_violations bad row (messages in s.violations).
struct Phase1Times {
  bool has_dtm = false, has_stm = false, has_ttm = false, has_collector = false;
  int64_t dtm = 0, stm = 0, ttm = 0, collector = 0;
};

bool phase1(const Run& run, const event::RawEvent& raw, std::span<const protocol::ParamView> params,
            std::string_view collector_name, Scratch& s, Phase1Times& t) {
  auto& ev = s.ev;
  // Values that need no conversion are taken as views: of the run (v_etl, etl_tstamp), of the
  // payload and `raw` (they outlive the event's line), of constants.
  ev.set_view(Field::v_collector, collector_name);
  ev.set_view(Field::v_etl, run.v_etl);
  ev.set_view(Field::etl_tstamp, run.etl_tstamp);
  if (raw.user_id) ev.set_view(Field::network_userid, *raw.user_id);
  // The adapter has already applied the forwarding-header rules of spec 2.4 to ip_address.
  if (raw.ip_address) put_tsv_safe(ev, Field::user_ipaddress, ip_token(*raw.ip_address));
  if (raw.useragent) put_tsv_safe(ev, Field::useragent, *raw.useragent);
  if (raw.timestamp) {
    // The events of a payload share its time: its text is made once (s.collector_text, which
    // keeps it until a payload with another time) and viewed.
    const int64_t ms = *raw.timestamp;
    if (!s.collector_cached || s.collector_ms != ms) {
      s.collector_cached = format_checked_tstamp(ms, s.collector_text, s.error);
      s.collector_ms = ms;
    }
    if (s.collector_cached) {
      ev.set_view(Field::collector_tstamp, s.collector_text);
      t.has_collector = true;
      t.collector = ms;
    } else {  // (s.error: the message of the call just made)
      add_report(s.reports, "collector_tstamp", s.error, "atomic_field_parse_error");
    }
  } else {
    add_report(s.reports, "collector_tstamp", "Field not set", "atomic_field_parse_error");
  }

  const MappingById& table = param_table();
  const std::string_view* ue = nullptr;
  const std::string_view* co = nullptr;
  bool ue_b64 = false, co_b64 = false;
  std::string_view ue_name, co_name;
  const std::string_view* tnuid = nullptr;
  for (const protocol::ParamView& p : params) {
    if (p.id < 0 || !table.used[static_cast<std::size_t>(p.id)]) continue;
    const Mapping& m = table.mapping[static_cast<std::size_t>(p.id)];
    const std::string_view& v = p.value;
    bool ok = true;
    switch (m.conv) {
      case Conv::kString:
        put_tsv_safe(ev, m.field, v);
        break;
      case Conv::kInt:
        if (java_int_unchanged(v)) {
          ev.set_view(m.field, v);
        } else {
          ok = convert_int(v, ev[m.field], s.error);
        }
        break;
      case Conv::kDecimal:
        ok = convert_decimal(v, ev[m.field], s.error);
        break;
      case Conv::kBool01:
        if (v.size() == 1 && (v[0] == '0' || v[0] == '1')) {
          ev.set_view(m.field, v);
        } else {
          ok = convert_bool01(v, ev[m.field], s.error);
        }
        break;
      case Conv::kWxH: {
        std::string_view width, height;
        if (wxh_unchanged(v, width, height)) {
          ev.set_view(m.field, width);
          ev.set_view(m.second, height);
        } else {
          ok = convert_wxh(v, ev[m.field], ev[m.second], s.error);
        }
        break;
      }
      case Conv::kUuid:
        // Straight into the column: each UUID column has one parameter, so it is empty here.
        if (uuid_unchanged(v)) {
          ev.set_view(m.field, v);
        } else {
          ok = convert_uuid(v, ev[m.field], s.error);
        }
        break;
      case Conv::kTstamp: {
        int64_t ms = 0;
        ok = convert_tstamp(v, ev[m.field], s.error, ms);
        if (ok) {
          if (m.field == Field::dvce_created_tstamp) t.has_dtm = true, t.dtm = ms;
          if (m.field == Field::dvce_sent_tstamp) t.has_stm = true, t.stm = ms;
          if (m.field == Field::true_tstamp) t.has_ttm = true, t.ttm = ms;
        } else {
          if (m.field == Field::dvce_created_tstamp) t.has_dtm = false;
          if (m.field == Field::dvce_sent_tstamp) t.has_stm = false;
          if (m.field == Field::true_tstamp) t.has_ttm = false;
        }
        break;
      }
      case Conv::kEvent: {
        std::string_view name;
        if (event_type_name(v, name)) {
          ev.set_view(m.field, name);
        } else {
          ok = convert_event_type(v, ev[m.field], s.error);
        }
        break;
      }
      case Conv::kPlatform:
        if (is_platform(v)) {
          ev.set_view(m.field, v);
        } else {
          ok = convert_platform(v, ev[m.field], s.error);
        }
        break;
      case Conv::kIp:
        put_tsv_safe(ev, m.field, ip_token(v));
        break;
      case Conv::kUePlain:
      case Conv::kUeBase64:
        ue = &v;
        ue_b64 = m.conv == Conv::kUeBase64;
        ue_name = p.name;
        break;
      case Conv::kCoPlain:
      case Conv::kCoBase64:
        co = &v;
        co_b64 = m.conv == Conv::kCoBase64;
        co_name = p.name;
        break;
      case Conv::kTnuid:
        tnuid = &v;
        break;
    }
    if (!ok) add_report(s.reports, p.name, s.error, "atomic_field_parse_error");
  }
  if (tnuid != nullptr) put_tsv_safe(ev, Field::network_userid, *tnuid);
  // A fresh event id unless the tracker sent a valid one (eid).
  if (!ev.has(Field::event_id)) random_uuid_v4(ev[Field::event_id]);

  // Self-describing inputs: base64 problems are atomic parse errors; JSON/Iglu problems are
  // schema violations of their own.
  std::string_view co_text, ue_text;
  bool have_co = false, have_ue = false;
  if (co != nullptr) {
    if (!co_b64) {
      co_text = *co, have_co = true;
    } else if (decode_base64(*co, s.co_text, co_text)) {
      have_co = true;
    } else {
      add_report(s.reports, co_name, "Could not be decoded as base64", "atomic_field_parse_error");
    }
  }
  if (ue != nullptr) {
    if (!ue_b64) {
      ue_text = *ue, have_ue = true;
    } else if (decode_base64(*ue, s.ue_text, ue_text)) {
      have_ue = true;
    } else {
      add_report(s.reports, ue_name, "Could not be decoded as base64", "atomic_field_parse_error");
    }
  }
  if (!s.reports.empty()) s.violations.push_back(atomic_message(s.reports));
  if (have_co) {
    s.sdj.clear();
    process_contexts(co_text, run.vs, run.config.max_json_depth, s.sdj);
    ev[Field::contexts].swap(s.sdj.column);  // (s.sdj is cleared before its next use)
    for (auto& m : s.sdj.messages) s.violations.push_back(std::move(m));
    for (auto& i : s.sdj.validation_infos) s.infos.push_back(std::move(i));
  }
  s.sdj.clear();
  if (have_ue) {
    process_unstruct(ue_text, run.vs, run.config.max_json_depth, s.sdj);
    ev[Field::unstruct_event].swap(s.sdj.column);
    for (auto& m : s.sdj.messages) s.violations.push_back(m);
    for (auto& i : s.sdj.validation_infos) {
      if (std::find(s.infos.begin(), s.infos.end(), i) == s.infos.end()) s.infos.push_back(i);
    }
  }
  return s.violations.empty();
}

void run_builtin(int step, const event::RawEvent& raw, Scratch& s, const Phase1Times& t,
                 bool with_enrichments, EventContext& ctx, bool& page_uri_ok) {
  auto& ev = s.ev;
  switch (step) {
    case kStepCollectorVersion:
      if (!ev.has(Field::v_collector)) {
        s.failures.push_back(failure_message(input_data("v_collector", nullptr, "should be set")));
      }
      break;
    case kStepPageUri: {
      std::string_view source;
      if (ev.has(Field::page_url)) {
        source = ev.text(Field::page_url);
      } else if (raw.referer_uri) {
        source = *raw.referer_uri;
      } else {
        break;
      }
      if (s.uri.parse(source, s.parts, s.error)) {
        page_uri_ok = true;
        set_uri_columns(ev, s.parts, Field::page_urlscheme, Field::page_urlhost,
                        Field::page_urlport, Field::page_urlpath, Field::page_urlquery,
                        Field::page_urlfragment);
        // The query is needed at steps 9 and 11. Enrichments get all its pairs (parsed here);
        // without them only step 11's `_sp` is looked up, in the raw query, which views the
        // parser's text and stays valid until its next parse (the next event's step 2).
        s.query.clear();
        s.page_query = s.parts.query;
        if (s.parts.query && with_enrichments) parse_query(*s.parts.query, s.query);
        // (valid until s.uri's next parse, the next event's)
        ev.set_view(Field::page_url, s.uri.normalized());
      } else {
        s.failures.push_back(failure_message(simple_error("Provided URI [" + std::string(source) +
                                                          "] could not be parsed: " + s.error)));
      }
      break;
    }
    case kStepDerivedTstamp: {
      if (t.has_ttm) {
        ev[Field::derived_tstamp] = ev[Field::true_tstamp];
      } else if (t.has_collector) {
        int64_t derived = t.collector;
        if (t.has_dtm && t.has_stm && t.dtm < t.stm) derived = t.collector - (t.stm - t.dtm);
        if (!format_checked_tstamp(derived, ev[Field::derived_tstamp], s.error)) {
          s.failures.push_back(failure_message(simple_error(s.error)));
        }
      }
      break;
    }
    case kStepRefererSplit: {
      if (!ev.has(Field::page_referrer)) break;
      UriParts parts;
      if (s.refr_uri.parse(ev.text(Field::page_referrer), parts, s.error)) {
        set_uri_columns(ev, parts, Field::refr_urlscheme, Field::refr_urlhost, Field::refr_urlport,
                        Field::refr_urlpath, Field::refr_urlquery, Field::refr_urlfragment);
      } else {
        s.failures.push_back(failure_message(simple_error(
            "Provided URI [" + ev[Field::page_referrer] + "] could not be parsed: " + s.error)));
      }
      break;
    }
    case kStepPageQuery: {
      // Only enrichments read the page query.
      if (!page_uri_ok || !with_enrichments) break;
      // The pairs move over (s.query is not read again: step 11 looks in the page query too).
      auto& pq = ctx.mutable_page_query();
      pq.reserve(s.query.size());
      for (auto& [name, value] : s.query)
        pq.emplace_back(std::move(name), value ? std::move(*value) : std::string());
      break;
    }
    case kStepCrossDomain: {
      if (!page_uri_ok) break;
      const std::optional<std::string>* sp = nullptr;
      if (with_enrichments) {
        // The page query of step 9, where a parameter without a value is empty, as is `_sp=`:
        // either way the step does nothing.
        const std::string* v = nullptr;
        for (const auto& [name, value] : ctx.page_query()) {
          if (name == "_sp") v = &value;  // last occurrence wins, as in a map
        }
        if (v != nullptr) {
          s.sp_value = *v;
          sp = &s.sp_value;
        }
      } else if (s.page_query && find_last_query_value(*s.page_query, "_sp", s.sp_value)) {
        sp = &s.sp_value;
      }
      if (sp == nullptr || !*sp || (*sp)->empty()) break;
      const std::string& v = **sp;
      const std::size_t dot = v.find('.');
      std::string duid_text, tstamp_text;
      if (dot != std::string::npos) {
        const std::size_t next = v.find('.', dot + 1);
        const std::string part(
            v.substr(dot + 1, next == std::string::npos ? std::string::npos : next - dot - 1));
        if (!part.empty() && !convert_tstamp(part, tstamp_text, s.error)) {
          s.failures.push_back(failure_message(input_data("sp_dtm", &part, s.error)));
          break;
        }
      }
      tsv_safe(std::string_view(v).substr(0, dot), duid_text);
      ev[Field::refr_domain_userid] = duid_text;
      ev[Field::refr_dvce_tstamp] = tstamp_text;
      break;
    }
    case kStepEventSchema: {
      const std::string_view e = ev.text(Field::event);
      EventSchema es;
      // Views: of constants, or of s.sdj.event_schema (kept until the next event).
      switch (event_schema_of(e, s.sdj.event_schema, es)) {
        case EventSchemaFound::kFound:
          ev.set_view(Field::event_vendor, es.vendor);
          ev.set_view(Field::event_name, es.name);
          ev.set_view(Field::event_format, es.format);
          ev.set_view(Field::event_version, es.version);
          break;
        case EventSchemaFound::kUnparsed:
          break;
        case EventSchemaFound::kNoUnstructSchema:
          s.failures.push_back(failure_message(
              input_data("unstruct_event", nullptr, "should be set for an unstruct event")));
          break;
        case EventSchemaFound::kUnknownEvent: {
          const std::string event_text(e);
          s.failures.push_back(failure_message(input_data(
              "event", e.empty() ? nullptr : &event_text, "not recognized as an event type")));
          break;
        }
      }
      break;
    }
    default:
      break;
  }
}

void run_enrichment(const Enrichment& en, EventContext& ctx, Scratch& s) {
  ctx.pending_contexts().clear();
  ctx.failures().clear();
  en.apply(ctx);
  if (!ctx.pending_contexts().empty()) {
    if (s.group_count == s.groups.size()) s.groups.emplace_back();
    s.groups[s.group_count++].swap(ctx.pending_contexts());  // (pending: cleared before use)
  }
  for (auto& f : ctx.failures())
    s.failures.push_back(failure_message(f.schema_key, f.identifier, f.message_json));
  ctx.failures().clear();
}

void emit_bad(const Run& run, std::string row, Output& out) {
  if (row.size() > run.config.max_record_bytes) {
    row = event::size_violation(run.processor, run.now, run.config.max_record_bytes, row.size(),
                                "Bad row exceeds the maximum allowed size of " +
                                    std::to_string(run.config.max_record_bytes) + " bytes",
                                row);
  }
  out.bad.push_back(std::move(row));
}

// Column byte limits (a value of at most max_length bytes has at most max_length UTF-16 units;
// no limit: the largest value).
const std::array<std::size_t, event::kFieldCount>& byte_limits() {
  static const std::array<std::size_t, event::kFieldCount> kByteLimits = [] {
    const auto& infos = event::field_infos();
    std::array<std::size_t, event::kFieldCount> l{};
    for (std::size_t i = 0; i < l.size(); ++i)
      l[i] = infos[i].max_length == 0 ? SIZE_MAX : infos[i].max_length;
    return l;
  }();
  return kByteLimits;
}

// The length limits of phase 3: a report for every value over its limit in UTF-16 units (Java's
// String.length), and their atomic message as a violation.
void check_lengths(Scratch& s) {
  const auto& infos = event::field_infos();
  // Unmarked columns are empty (FieldValues), so only the marked ones can be too long.
  s.ev.values.for_each_longer_than(byte_limits().data(), [&](std::size_t i) {
    const uint32_t max = infos[i].max_length;
    if (java_length(s.ev.values.text(i)) <= max) return;
    add_report(s.reports, infos[i].name,
               "Field is longer than maximum allowed size " + std::to_string(max),
               "atomic_field_length_exceeded");
  });
  if (!s.reports.empty()) s.violations.push_back(atomic_message(s.reports));
}

// Where the view fast path finds the RawEvent a bad row carries: adapt() run on the payload the
// first time one is needed (the fast path's contract: it then succeeds with the same events).
class LazyRaws {
 public:
  LazyRaws(const event::CollectorPayload& payload, std::string_view loader)
      : payload_(payload), loader_(loader) {}
  // Event i's RawEvent, or nullptr if adapt() disagrees with the views (then the caller must
  // redo the payload through the general path).
  const event::RawEvent* get(std::size_t i, std::size_t events) {
    if (!tried_) {
      tried_ = true;
      protocol::AdapterError err;
      ok_ = protocol::adapt(payload_, loader_, raws_, err) && raws_.size() == events;
    }
    return ok_ ? &raws_[i] : nullptr;
  }

 private:
  const event::CollectorPayload& payload_;
  std::string_view loader_;
  std::vector<event::RawEvent> raws_;
  bool tried_ = false, ok_ = false;
};

// How enrich_one writes a bad row. General path (`lazy` null, `decline` false): with `raw`. View
// fast path, where `raw` carries the request context but no parameters or headers: with `decline`
// it returns false instead, leaving `out` as it was, so that the caller redoes the payload through
// the general path; with `lazy` (used when enrichments are configured, so that none runs twice on
// an event) it takes event `index`'s RawEvent from adapt().
struct BadRowSource {
  bool decline = false;
  LazyRaws* lazy = nullptr;
  std::size_t index = 0, events = 0;
};

// Enriches one event into `out`. `params` holds every parameter with a value when enrichments are
// configured (they may read them all), at least the known ones otherwise; `headers` are the
// request headers. Returns false only when it declined (see BadRowSource).
bool enrich_one(const Run& run, const event::RawEvent& raw,
                std::span<const protocol::ParamView> params,
                const std::vector<std::string>& headers, std::string_view collector_name,
                const BadRowSource& bad_source, Output& out) {
  // The RawEvent a bad row carries, or nullptr to decline.
  auto bad_raw = [&]() -> const event::RawEvent* {
    if (bad_source.decline) return nullptr;
    if (bad_source.lazy != nullptr)
      return bad_source.lazy->get(bad_source.index, bad_source.events);
    return &raw;
  };
  Scratch& s = scratch();
  s.ev.clear();
  s.reports.clear();
  s.violations.clear();
  s.failures.clear();
  s.infos.clear();
  s.group_count = 0;
  s.query.clear();
  s.page_query.reset();
  s.sdj.clear();
  Phase1Times times;

  if (!phase1(run, raw, params, collector_name, s, times)) {
    const event::RawEvent* r = bad_raw();
    if (r == nullptr) return false;
    emit_bad(run, event::schema_violations(run.processor, run.now, s.violations, s.ev, *r), out);
    return true;
  }

  // Phase 2: built-in steps and configured enrichments in Snowplow's order.
  EventContext ctx(s.ev, raw);
  if (run.defer_md5 && out.good_text != nullptr) ctx.set_deferred_md5(out.deferred_md5);
  if (!run.chain.empty()) {
    s.pending.clear();
    s.ctx_page_query.clear();
    ctx.use_vectors(&s.pending, &s.ctx_page_query);
    ctx.set_request(&headers, params);
    ctx.set_anonymous(header_present(headers, "SP-Anonymous"));
  }
  bool page_uri_ok = false;
  std::size_t next = 0;
  for (int step : kBuiltinSteps) {
    while (next < run.chain.size() && static_cast<int>(run.chain[next]->step()) < step) {
      run_enrichment(*run.chain[next++], ctx, s);
    }
    run_builtin(step, raw, s, times, !run.chain.empty(), ctx, page_uri_ok);
  }
  while (next < run.chain.size()) run_enrichment(*run.chain[next++], ctx, s);

  if (!s.failures.empty()) {
    settle_deferred_md5(ctx);  // a bad row carries the real fingerprint
    const event::RawEvent* r = bad_raw();
    if (r == nullptr) return false;
    emit_bad(run, event::enrichment_failures(run.processor, run.now, s.failures, s.ev, *r), out);
    return true;
  }

  // Phase 3: derived contexts (newest group first), validation_info last; length limits.
  // (The column is reached only when it has or gets a value: an untouched column costs nothing.)
  if (s.ev.has(Field::derived_contexts)) s.ev[Field::derived_contexts].clear();
  bool any = false;
  auto add_entity = [&](const std::string& entity) {
    std::string& derived = s.ev[Field::derived_contexts];
    if (any) {
      derived += ',';
    } else {
      derived += "{\"schema\":\"";
      derived += kContextsSchema;
      derived += "\",\"data\":[";
    }
    derived += entity;
    any = true;
  };
  for (std::size_t g = s.group_count; g-- > 0;) {
    for (auto& entity : s.groups[g]) {
      if (check_derived_context(entity, run.vs, run.config.max_json_depth, s.violations, s.infos))
        add_entity(entity);
    }
  }
  for (const auto& info : s.infos) add_entity(info);
  if (any) s.ev[Field::derived_contexts] += "]}";

  // Length limits (modern enrich's atomicFieldsLimits, in UTF-16 units). A value of at most
  // max_length bytes has at most max_length units, so only longer ones need java_length. With no
  // violation yet, that byte test is left to the line's writer (one compare per column); an event
  // with a longer value then goes through check_lengths and is written without the test, or
  // becomes a bad row, as it would have here.
  const std::size_t* limits = nullptr;
  if (!run.config.accept_invalid) {
    if (s.violations.empty()) {
      limits = byte_limits().data();
    } else {
      check_lengths(s);
    }
  }
  auto violations_row = [&]() {
    settle_deferred_md5(ctx);  // a bad row carries the real fingerprint
    const event::RawEvent* r = bad_raw();
    if (r == nullptr) return false;
    emit_bad(run, event::schema_violations(run.processor, run.now, s.violations, s.ev, *r), out);
    return true;
  };
  if (!s.violations.empty()) return violations_row();
  // Appends the line to `dst`; false (dst unchanged) when the length limits make it a bad row.
  auto write_line = [&](std::string& dst) {
    if (event::write_tsv(s.ev, dst, limits)) return true;
    check_lengths(s);
    if (!s.violations.empty()) return false;
    event::write_tsv(s.ev, dst);
    return true;
  };

  if (out.good_text != nullptr) {
    // Straight into the caller's buffer; an over-long line is taken back out again.
    std::string& dst = *out.good_text;
    const std::size_t mark = dst.size();
    if (!write_line(dst)) return violations_row();
    if (dst.size() - mark <= run.config.max_record_bytes) {
      place_deferred_md5(ctx, dst, mark);  // its fingerprint is written later
      dst.push_back('\n');
      ++out.good_appended;
      return true;
    }
    s.line.assign(dst, mark, std::string::npos);
    dst.resize(mark);
  } else {
    s.line.clear();
    if (!write_line(s.line)) return violations_row();
  }
  if (s.line.size() > run.config.max_record_bytes) {
    settle_deferred_md5(ctx, &s.line);  // a bad row carries the real fingerprint
    if (bad_raw() == nullptr) return false;
    emit_bad(
        run,
        event::size_violation(run.processor, run.now, run.config.max_record_bytes, s.line.size(),
                              "Enriched event exceeds the maximum allowed size of " +
                                  std::to_string(run.config.max_record_bytes) + " bytes",
                              s.line),
        out);
    return true;
  }
  out.good.push_back(s.line);
  return true;
}

}  // namespace

Pipeline::Pipeline(PipelineConfig config)
    : config_(std::move(config)), v_etl_(config_.artifact + '-' + kVersion) {
  defer_md5_ = fingerprint_deferrable(PipelineImpl::sorted(config_));
}
Pipeline::~Pipeline() = default;

void Pipeline::process_thrift(std::string_view bytes, Output& out) const {
  Result<event::CollectorPayload> decoded = event::decode_thrift(bytes);
  if (!decoded.ok()) {
    const int64_t now = config_.fixed_now_ms != 0 ? config_.fixed_now_ms : now_ms();
    const event::Processor processor{config_.artifact, kVersion};
    std::string row = event::collector_payload_format_violation(
        processor, now, "thrift", simple_error(decoded.error().message),
        common::base64_encode(bytes));
    if (row.size() > config_.max_record_bytes) {
      row = event::size_violation(processor, now, config_.max_record_bytes, row.size(),
                                  "Bad row exceeds the maximum allowed size of " +
                                      std::to_string(config_.max_record_bytes) + " bytes",
                                  row);
    }
    out.bad.push_back(std::move(row));
    return;
  }
  process_payload(*decoded, "thrift", out, bytes);
}

void Pipeline::process_payload(const event::CollectorPayload& payload, std::string_view loader,
                               Output& out, std::string_view raw_record) const {
  const std::vector<const Enrichment*> chain = PipelineImpl::sorted(config_);
  Run run{config_,
          chain,
          event::Processor{config_.artifact, kVersion},
          config_.fixed_now_ms != 0 ? config_.fixed_now_ms : now_ms(),
          {},
          {}};
  append_tsv_tstamp(run.now, run.etl_tstamp);
  run.v_etl = v_etl_;
  run.defer_md5 = defer_md5_;
  run.vs.validator = config_.validator.get();
  run.vs.retry_initial_ms = config_.registry_retry_initial_ms;
  run.vs.retry_max_ms = config_.registry_retry_max_ms;

  Scratch& s = scratch();
  const std::string_view collector =
      payload.collector ? std::string_view(*payload.collector) : std::string_view();
  // Fast path: parameters as views into the body, no RawEvents. It produces good lines only; at
  // the first event that would be a bad row, whatever it wrote is taken back and the payload goes
  // the general way below. Enrichments see the views and the payload's headers (EventContext);
  // when the views lack a valued parameter (an unknown GET name) they take the general path.
  // While enrichments run, one could re-enter the pipeline on this thread: the inner call then
  // finds the scratch's ViewState busy and uses one of its own.
  std::optional<Scratch::ViewState> own_view;
  const bool reentered = s.view_busy;
  Scratch::ViewState& vst = reentered ? own_view.emplace() : s.view;
  struct BusyGuard {
    Scratch& s;
    bool set;
    ~BusyGuard() {
      if (set) s.view_busy = false;
    }
  } busy_guard{s, !reentered};
  s.view_busy = true;
  if (config_.view_fast_path && protocol::adapt_views(payload, vst.arena, vst.views, vst.ctx) &&
      (run.chain.empty() || !vst.views.dropped_unknown)) {
    static const std::vector<std::string> kNoHeaders;
    const std::vector<std::string>& headers = payload.headers ? *payload.headers : kNoHeaders;
    const bool with_chain = !run.chain.empty();
    const protocol::ViewEvents& views = vst.views;
    event::RawEvent& vr = vst.raw;
    vr.timestamp = payload.timestamp;
    vr.ip_address = vst.ctx.ip_address;
    vr.useragent = payload.user_agent;
    vr.referer_uri = payload.referer_uri;
    vr.user_id = vst.ctx.user_id;
    const std::size_t text_mark = out.good_text != nullptr ? out.good_text->size() : 0;
    const std::size_t appended_mark = out.good_appended;
    const std::size_t good_mark = out.good.size();
    const std::size_t bad_mark = out.bad.size();
    const std::size_t md5_mark = out.deferred_md5 != nullptr ? out.deferred_md5->size() : 0;
    // Without enrichments a bad event sends the payload the general way (nothing ran that could
    // run twice); with them bad rows take their RawEvent from adapt() (LazyRaws).
    LazyRaws lazy(payload, loader);
    BadRowSource source;
    source.decline = !with_chain;
    source.lazy = with_chain ? &lazy : nullptr;
    source.events = views.size();
    // Without enrichments an event is first offered to the direct TSV writer; what it leaves
    // (bad rows, anything unusual) takes the EnrichedEvent path.
    const bool direct = !with_chain && config_.direct_tsv;
    DirectRun drun;
    drun.collector_name = collector;
    drun.v_etl = run.v_etl;
    drun.etl_tstamp = run.etl_tstamp;
    drun.vs = &run.vs;
    drun.max_json_depth = config_.max_json_depth;
    drun.accept_invalid = config_.accept_invalid;
    drun.max_record_bytes = config_.max_record_bytes;
    bool all_good = true;
    for (std::size_t i = 0; i < views.size() && all_good; ++i) {
      if (direct) {
        if (out.good_text != nullptr) {
          if (write_direct_tsv(drun, vr, views.event(i), *out.good_text, true)) {
            ++out.good_appended;
            continue;
          }
        } else {
          s.line.clear();
          if (write_direct_tsv(drun, vr, views.event(i), s.line, false)) {
            out.good.push_back(s.line);
            continue;
          }
        }
      }
      source.index = i;
      all_good = enrich_one(run, vr, views.event(i), headers, collector, source, out);
    }
    if (all_good) return;
    if (out.good_text != nullptr) out.good_text->resize(text_mark);
    out.good_appended = appended_mark;
    out.good.resize(good_mark);
    out.bad.resize(bad_mark);
    if (out.deferred_md5 != nullptr) out.deferred_md5->truncate(md5_mark);
  }

  s.raws.clear();
  protocol::AdapterError err;
  if (!protocol::adapt(payload, loader, s.raws, err)) {
    std::string row;
    switch (err.kind) {
      case protocol::AdapterError::Kind::kCollectorPayloadFormat: {
        std::string record;
        if (raw_record.empty()) {
          record = common::base64_encode(event::encode_thrift(payload));
        } else if (loader == "thrift") {
          record = common::base64_encode(raw_record);
        } else {
          record.assign(raw_record);
        }
        const std::string message = err.messages_json.empty()
                                        ? simple_error("collector payload rejected")
                                        : err.messages_json.front();
        row = event::collector_payload_format_violation(run.processor, run.now, loader, message,
                                                        record);
        break;
      }
      case protocol::AdapterError::Kind::kTrackerProtocol:
        row = event::tracker_protocol_violations(run.processor, run.now, err.vendor, err.version,
                                                 err.messages_json, payload);
        break;
      case protocol::AdapterError::Kind::kAdapter:
        row = event::adapter_failures(run.processor, run.now, err.vendor, err.version,
                                      err.messages_json, payload);
        break;
    }
    emit_bad(run, std::move(row), out);
    return;
  }
  // Move the events out: an enrichment could re-enter the pipeline on this thread.
  std::vector<event::RawEvent> raws;
  raws.swap(s.raws);
  std::vector<protocol::ParamView> views;
  for (const auto& raw : raws) {
    views.swap(s.param_views);  // (re-entrancy, as above)
    views.clear();
    for (const auto& p : raw.parameters.items()) {
      if (p.value) views.push_back({p.name, *p.value, protocol::param_key_id(p.name)});
    }
    enrich_one(run, raw, views, raw.headers, collector, BadRowSource{}, out);
    views.swap(s.param_views);
  }
  raws.clear();
  s.raws.swap(raws);
}

void Pipeline::reject_raw(std::string_view loader, std::string_view raw, std::string_view message,
                          Output& out) const {
  const std::vector<const Enrichment*> chain;
  Run run{config_,
          chain,
          event::Processor{config_.artifact, kVersion},
          config_.fixed_now_ms != 0 ? config_.fixed_now_ms : now_ms(),
          {},
          {}};
  const std::string payload = loader == "thrift" ? common::base64_encode(raw) : std::string(raw);
  emit_bad(run,
           event::collector_payload_format_violation(run.processor, run.now, loader,
                                                     simple_error(message), payload),
           out);
}

}  // namespace furrow::enrich
