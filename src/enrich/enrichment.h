// The interface every configurable enrichment implements (one folder each under
// src/enrich/enrichments/, registered in enrichments/registry.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event/enriched_event.h"
#include "event/raw_event.h"
#include "protocol/param_keys.h"

namespace furrow::enrich {

class DeferredMd5;  // enrich/deferred_md5.h

// Where an enrichment runs in Snowplow's modern order (spec 4.2; the values are its step
// numbers). The pipeline's own steps sit between them: 1 v_collector check, 2 page URI, 3
// derived_tstamp, 8 referer URL split (before kRefererParser), 9 page query-string parse,
// 17 event vendor/name/format/version.
enum class Step : int {
  kIabSpidersAndRobots = 4,
  kUserAgentUtils = 5,
  kUaParser = 6,
  kCurrencyConversion = 7,
  kRefererParser = 8,
  kCampaignAttribution = 10,
  kCrossNavigation = 11,
  kEventFingerprint = 12,
  kCookieExtractor = 13,
  kHttpHeaderExtractor = 14,
  kWeather = 15,
  kYauaa = 16,
  kIpLookups = 18,
  kAsnLookups = 19,
  kBotDetection = 20,
  kJavascript = 21,
  kSqlQuery = 22,
  kApiRequest = 23,
  kAnonIp = 24,
  kPiiPseudonymization = 25,
};

// What an enrichment sees of one event while it runs. Owned by the pipeline; valid only during
// Enrichment::apply.
class EventContext {
 public:
  EventContext(event::EnrichedEvent& ev, const event::RawEvent& raw) : event_(ev), raw_(raw) {}

  event::EnrichedEvent& event() { return event_; }
  // The request context (timestamp, ip, user agent, referer, network user id). On the pipeline's
  // fast path its `parameters` and `headers` are empty: read them through parameters() and
  // headers(), never through raw().
  const event::RawEvent& raw() const { return raw_; }

  // The request headers ("Name: value" lines as the collector recorded them, plus the bare
  // content type it appends to POSTs): those the pipeline set, else raw().headers.
  const std::vector<std::string>& headers() const {
    return headers_ != nullptr ? *headers_ : raw_.headers;
  }
  // Calls f(name, value) for every parameter of the event that has a value, in the order the
  // tracker sent them, unknown names included (names are unique). The pipeline passes views of
  // the parameters; without them raw().parameters is read.
  template <class F>
  void for_each_parameter(F&& f) const {
    if (has_param_views_) {
      for (const protocol::ParamView& p : param_views_) f(p.name, p.value);
      return;
    }
    for (const event::Param& p : raw_.parameters.items()) {
      if (p.value) f(std::string_view(p.name), std::string_view(*p.value));
    }
  }

  // The same with each parameter's protocol::param_key_id (-1 for a name furrow does not know):
  // f(name, value, id). The pipeline's views carry the id; raw().parameters are looked up.
  template <class F>
  void for_each_parameter_with_id(F&& f) const {
    if (has_param_views_) {
      for (const protocol::ParamView& p : param_views_) f(p.name, p.value, p.id);
      return;
    }
    for (const event::Param& p : raw_.parameters.items()) {
      if (p.value) {
        f(std::string_view(p.name), std::string_view(*p.value), protocol::param_key_id(p.name));
      }
    }
  }

  // For the pipeline: where headers() and for_each_parameter() read. `params` must hold every
  // valued parameter of the event (no name twice); both must outlive the apply calls.
  void set_request(const std::vector<std::string>* headers,
                   std::span<const protocol::ParamView> params) {
    headers_ = headers;
    param_views_ = params;
    has_param_views_ = true;
  }

  // Name/value pairs of the page URL's query string, decoded (UTF-8, '+' as space), in URL order;
  // set by the pipeline at step 9, empty before.
  const std::vector<std::pair<std::string, std::string>>& page_query() const {
    return *page_query_;
  }
  std::vector<std::pair<std::string, std::string>>& mutable_page_query() { return *page_query_; }

  // Adds one derived context (a compact self-describing JSON object). Contexts added by one
  // enrichment keep their order; each enrichment's group goes before the earlier groups, so the
  // final list is newest-first, as in Snowplow.
  void add_derived_context(std::string sdj_json) { pending_->push_back(std::move(sdj_json)); }
  // The same for JSON the caller keeps (e.g. a memoized context): copied once, straight into
  // the pending list, so the view need only be valid during the call.
  void add_derived_context(std::string_view sdj_json) { pending_->emplace_back(sdj_json); }
  // A literal would be ambiguous between the two overloads above.
  void add_derived_context(const char* sdj_json) {
    add_derived_context(std::string_view(sdj_json));
  }

  // Records a failure of this enrichment for this event (the event becomes an
  // enrichment_failures bad row; the other enrichments still run). `message_json` is one of the
  // bad-row message shapes: {"field":..,"value":..,"expectation":..} or {"error":".."}.
  // `schema_key` / `identifier` name the enrichment config (e.g.
  // "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0", "ua_parser_config").
  void add_failure(std::string schema_key, std::string identifier, std::string message_json) {
    failures_.push_back({std::move(schema_key), std::move(identifier), std::move(message_json)});
  }

  // True when the request carried the SP-Anonymous header.
  bool anonymous() const { return anonymous_; }
  void set_anonymous(bool a) { anonymous_ = a; }

  // One result per event that several enrichments may share instead of each computing it (the
  // user-agent parse that iab_spiders_and_robots_enrichment, user_agent_utils_config and
  // ua_parser_config all need). `key` names what `value` points to (the producer's own tag);
  // both start null in every EventContext, so nothing kept here is seen by another event.
  struct SharedResult {
    const void* key = nullptr;
    const void* value = nullptr;
  };
  SharedResult& shared_result() { return shared_result_; }

  // Deferred fingerprints: set by the pipeline when this event's MD5 fingerprint may be
  // computed later (enrich/deferred_md5.h), else null. The enrichment that deferred it records
  // its entry; the pipeline places or settles it.
  DeferredMd5* deferred_md5() const { return deferred_md5_; }
  void set_deferred_md5(DeferredMd5* d) { deferred_md5_ = d; }
  std::size_t deferred_md5_entry() const { return deferred_md5_entry_; }
  void set_deferred_md5_entry(std::size_t entry) { deferred_md5_entry_ = entry; }

  struct Failure {
    std::string schema_key;
    std::string identifier;
    std::string message_json;
  };
  // For the pipeline.
  std::vector<std::string>& pending_contexts() { return *pending_; }
  std::vector<Failure>& failures() { return failures_; }
  // For the pipeline: the (empty) vectors that pending_contexts() and page_query() use instead
  // of the context's own, kept from event to event so that their capacity is reused. Both must
  // outlive the apply calls.
  void use_vectors(std::vector<std::string>* pending,
                   std::vector<std::pair<std::string, std::string>>* page_query) {
    pending_ = pending;
    page_query_ = page_query;
  }

  // (It points into itself.)
  EventContext(const EventContext&) = delete;
  EventContext& operator=(const EventContext&) = delete;

 private:
  event::EnrichedEvent& event_;
  const event::RawEvent& raw_;
  const std::vector<std::string>* headers_ = nullptr;
  std::span<const protocol::ParamView> param_views_;
  bool has_param_views_ = false;
  std::vector<std::pair<std::string, std::string>> own_page_query_;
  std::vector<std::pair<std::string, std::string>>* page_query_ = &own_page_query_;
  std::vector<std::string> own_pending_;
  std::vector<std::string>* pending_ = &own_pending_;
  std::vector<Failure> failures_;
  bool anonymous_ = false;
  SharedResult shared_result_;
  DeferredMd5* deferred_md5_ = nullptr;
  std::size_t deferred_md5_entry_ = static_cast<std::size_t>(-1);  // DeferredMd5::kNone
};

class Enrichment {
 public:
  virtual ~Enrichment() = default;
  // The Snowplow config name, e.g. "ua_parser_config".
  virtual std::string_view name() const = 0;
  virtual Step step() const = 0;
  // Runs on one event. Must be thread-safe: one instance serves every worker thread. Does not
  // throw; a lookup that finds nothing is not a failure.
  virtual void apply(EventContext& ctx) const = 0;
};

}  // namespace furrow::enrich
