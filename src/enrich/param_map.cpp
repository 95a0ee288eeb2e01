#include "enrich/param_map.h"

#include <cstdlib>
#include <string_view>

#include "enrich/sdj.h"

namespace furrow::enrich {

using event::Field;

namespace {

struct NamedMapping {
  std::string_view name;
  Mapping mapping;
};

}  // namespace

const MappingById& param_table() {
  static const NamedMapping kTable[] = {
      {"e", {Conv::kEvent, Field::event}},
      {"eid", {Conv::kUuid, Field::event_id}},
      {"p", {Conv::kPlatform, Field::platform}},
      {"aid", {Conv::kString, Field::app_id}},
      {"tna", {Conv::kString, Field::name_tracker}},
      {"tv", {Conv::kString, Field::v_tracker}},
      {"cv", {Conv::kString, Field::v_collector}},
      {"tid", {Conv::kInt, Field::txn_id}},
      {"dtm", {Conv::kTstamp, Field::dvce_created_tstamp}},
      {"stm", {Conv::kTstamp, Field::dvce_sent_tstamp}},
      {"ttm", {Conv::kTstamp, Field::true_tstamp}},
      {"tz", {Conv::kString, Field::os_timezone}},
      {"uid", {Conv::kString, Field::user_id}},
      {"duid", {Conv::kString, Field::domain_userid}},
      {"nuid", {Conv::kString, Field::network_userid}},
      {"tnuid", {Conv::kTnuid, Field::network_userid}},
      {"sid", {Conv::kUuid, Field::domain_sessionid}},
      {"vid", {Conv::kInt, Field::domain_sessionidx}},
      {"ip", {Conv::kIp, Field::user_ipaddress}},
      {"ua", {Conv::kString, Field::useragent}},
      {"fp", {Conv::kString, Field::user_fingerprint}},
      {"url", {Conv::kString, Field::page_url}},
      {"page", {Conv::kString, Field::page_title}},
      {"refr", {Conv::kString, Field::page_referrer}},
      {"res", {Conv::kWxH, Field::dvce_screenwidth, Field::dvce_screenheight}},
      {"vp", {Conv::kWxH, Field::br_viewwidth, Field::br_viewheight}},
      {"ds", {Conv::kWxH, Field::doc_width, Field::doc_height}},
      {"cd", {Conv::kString, Field::br_colordepth}},
      {"cs", {Conv::kString, Field::doc_charset}},
      {"lang", {Conv::kString, Field::br_lang}},
      {"cookie", {Conv::kBool01, Field::br_cookies}},
      {"f_pdf", {Conv::kBool01, Field::br_features_pdf}},
      {"f_fla", {Conv::kBool01, Field::br_features_flash}},
      {"f_java", {Conv::kBool01, Field::br_features_java}},
      {"f_dir", {Conv::kBool01, Field::br_features_director}},
      {"f_qt", {Conv::kBool01, Field::br_features_quicktime}},
      {"f_realp", {Conv::kBool01, Field::br_features_realplayer}},
      {"f_wma", {Conv::kBool01, Field::br_features_windowsmedia}},
      {"f_gears", {Conv::kBool01, Field::br_features_gears}},
      {"f_ag", {Conv::kBool01, Field::br_features_silverlight}},
      {"se_ca", {Conv::kString, Field::se_category}},
      {"se_ac", {Conv::kString, Field::se_action}},
      {"se_la", {Conv::kString, Field::se_label}},
      {"se_pr", {Conv::kString, Field::se_property}},
      {"se_va", {Conv::kDecimal, Field::se_value}},
      {"ev_ca", {Conv::kString, Field::se_category}},
      {"ev_ac", {Conv::kString, Field::se_action}},
      {"ev_la", {Conv::kString, Field::se_label}},
      {"ev_pr", {Conv::kString, Field::se_property}},
      {"ev_va", {Conv::kDecimal, Field::se_value}},
      {"tr_id", {Conv::kString, Field::tr_orderid}},
      {"tr_af", {Conv::kString, Field::tr_affiliation}},
      {"tr_tt", {Conv::kDecimal, Field::tr_total}},
      {"tr_tx", {Conv::kDecimal, Field::tr_tax}},
      {"tr_sh", {Conv::kDecimal, Field::tr_shipping}},
      {"tr_ci", {Conv::kString, Field::tr_city}},
      {"tr_st", {Conv::kString, Field::tr_state}},
      {"tr_co", {Conv::kString, Field::tr_country}},
      {"tr_cu", {Conv::kString, Field::tr_currency}},
      {"ti_id", {Conv::kString, Field::ti_orderid}},
      {"ti_sk", {Conv::kString, Field::ti_sku}},
      {"ti_nm", {Conv::kString, Field::ti_name}},
      {"ti_na", {Conv::kString, Field::ti_name}},
      {"ti_ca", {Conv::kString, Field::ti_category}},
      {"ti_cu", {Conv::kString, Field::ti_currency}},
      {"ti_pr", {Conv::kDecimal, Field::ti_price}},
      {"ti_qu", {Conv::kInt, Field::ti_quantity}},
      {"pp_mix", {Conv::kInt, Field::pp_xoffset_min}},
      {"pp_max", {Conv::kInt, Field::pp_xoffset_max}},
      {"pp_miy", {Conv::kInt, Field::pp_yoffset_min}},
      {"pp_may", {Conv::kInt, Field::pp_yoffset_max}},
      {"ue_pr", {Conv::kUePlain, Field::unstruct_event}},
      {"ue_px", {Conv::kUeBase64, Field::unstruct_event}},
      {"co", {Conv::kCoPlain, Field::contexts}},
      {"cx", {Conv::kCoBase64, Field::contexts}},
  };
  static const MappingById kById = [] {
    MappingById m;
    for (const auto& [name, mapping] : kTable) {
      const int id = protocol::param_key_id(name);
      // Every mapped name is a known parameter name (param_keys.cpp); anything else is a bug
      // that every test run would hit at once.
      if (id < 0) std::abort();
      m.mapping[static_cast<std::size_t>(id)] = mapping;
      m.used[static_cast<std::size_t>(id)] = true;
    }
    return m;
  }();
  return kById;
}

bool builtin_event_schema(std::string_view event, EventSchema& s) {
  static constexpr std::string_view kSp = "com.snowplowanalytics.snowplow";
  if (event == "page_view")
    s = {kSp, "page_view", "jsonschema", "1-0-0"};
  else if (event == "page_ping")
    s = {kSp, "page_ping", "jsonschema", "1-0-0"};
  else if (event == "struct")
    s = {"com.google.analytics", "event", "jsonschema", "1-0-0"};
  else if (event == "transaction")
    s = {kSp, "transaction", "jsonschema", "1-0-0"};
  else if (event == "transaction_item")
    s = {kSp, "transaction_item", "jsonschema", "1-0-0"};
  else
    return false;
  return true;
}

EventSchemaFound event_schema_of(std::string_view event, std::string_view unstruct_schema,
                                 EventSchema& s) {
  if (builtin_event_schema(event, s)) return EventSchemaFound::kFound;
  if (event != "unstruct") return EventSchemaFound::kUnknownEvent;
  if (unstruct_schema.empty()) return EventSchemaFound::kNoUnstructSchema;
  IgluUri u;
  const char* code = nullptr;
  if (!parse_iglu_uri(unstruct_schema, u, code)) return EventSchemaFound::kUnparsed;
  s = {u.vendor, u.name, u.format, u.version};
  return EventSchemaFound::kFound;
}

}  // namespace furrow::enrich
