#include "furrow/tracker/tracker.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <charconv>
#include <cmath>

#include "encoding.h"
#include "payload.h"

namespace furrow::tracker {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put(JsonWriter& w, const char* key, const std::string& value) {
  if (value.empty()) return;
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// {"schema":"<unstruct_event>","data":{"schema":"<schema>","data":<data>}}
std::string unstruct_envelope(const std::string& schema, const std::string& data) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("schema");
  w.String(detail::kUnstructEventSchema);
  w.Key("data");
  w.StartObject();
  w.Key("schema");
  w.String(schema.data(), static_cast<rapidjson::SizeType>(schema.size()));
  w.Key("data");
  w.RawValue(data.data(), data.size(), rapidjson::kObjectType);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string size_text(int w, int h) {
  if (w <= 0 || h <= 0) return {};
  return std::to_string(w) + "x" + std::to_string(h);
}

}  // namespace

// Collects one event's parameters, or the first reason it cannot be sent.
class Tracker::Builder {
 public:
  explicit Builder(const char* event_type) { payload.add("e", event_type); }
  void require(const std::string& value, const char* what) {
    if (value.empty() && error.empty()) error = std::string(what) + " is required";
  }
  detail::Payload payload;
  std::string error;
};

Tracker::Tracker(std::shared_ptr<Emitter> emitter, TrackerConfig config, Subject subject)
    : emitter_(std::move(emitter)), config_(std::move(config)), subject_(std::move(subject)) {
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seed);
}

void Tracker::set_subject(Subject subject) {
  std::lock_guard lock(mutex_);
  subject_ = std::move(subject);
}

Subject Tracker::subject() const {
  std::lock_guard lock(mutex_);
  return subject_;
}

std::string Tracker::new_uuid() {
  std::array<std::uint8_t, 16> bytes;
  {
    std::lock_guard lock(mutex_);
    const std::uint64_t a = rng_();
    const std::uint64_t b = rng_();
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
      bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
    }
  }
  return detail::uuid_v4(bytes);
}

TrackResult Tracker::finish(Builder& b, const EventCommon& common) {
  TrackResult result;
  if (!b.error.empty()) {
    result.error = b.error;
    return result;
  }
  if (!emitter_) {
    result.error = "the tracker has no emitter";
    return result;
  }
  for (const auto& c : common.contexts) {
    if (!c.valid()) {
      result.error = "invalid context: " + c.error();
      return result;
    }
  }
  auto& p = b.payload;
  result.event_id = new_uuid();
  p.add("eid", result.event_id);
  p.add("dtm", std::to_string(detail::now_ms()));
  if (common.true_timestamp_ms) p.add("ttm", std::to_string(*common.true_timestamp_ms));
  p.add("tv", kTrackerVersion);
  p.add("tna", config_.tracker_namespace);
  p.add("aid", config_.app_id);
  const Subject s = common.subject ? *common.subject : subject();
  p.add("p", s.platform.empty() ? config_.platform : s.platform);
  p.add("uid", s.user_id);
  p.add("res", size_text(s.screen_width, s.screen_height));
  p.add("vp", size_text(s.viewport_width, s.viewport_height));
  if (s.color_depth > 0) p.add("cd", std::to_string(s.color_depth));
  p.add("lang", s.language);
  p.add("tz", s.timezone);
  p.add("ip", s.ip_address);
  p.add("ua", s.useragent);
  p.add("duid", s.domain_user_id);
  p.add("tnuid", s.network_user_id);
  if (!common.contexts.empty()) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("schema");
    w.String(detail::kContextsSchema);
    w.Key("data");
    w.StartArray();
    for (const auto& c : common.contexts) {
      const std::string one = c.to_json();
      w.RawValue(one.data(), one.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    w.EndObject();
    p.add_json(std::string_view(buf.GetString(), buf.GetSize()), config_.encode_base64, "cx", "co");
  }
  if (!emitter_->add(p.to_json())) {
    result.error = "the emitter refused the event: " + emitter_->stats().last_error;
    result.event_id.clear();
    return result;
  }
  result.ok = true;
  return result;
}

TrackResult Tracker::track(const PageView& e) {
  Builder b("pv");
  b.require(e.url, "page view url");
  b.payload.add("url", e.url);
  b.payload.add("page", e.title);
  b.payload.add("refr", e.referrer);
  return finish(b, e.common);
}

TrackResult Tracker::track(const ScreenView& e) {
  Builder b("ue");
  b.require(e.name, "screen view name");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  put(w, "name", e.name);
  put(w, "id", e.id.empty() ? new_uuid() : e.id);
  put(w, "type", e.type);
  put(w, "previousName", e.previous_name);
  put(w, "previousId", e.previous_id);
  put(w, "previousType", e.previous_type);
  put(w, "transitionType", e.transition_type);
  w.EndObject();
  b.payload.add_json(
      unstruct_envelope(kScreenViewSchema, std::string(buf.GetString(), buf.GetSize())),
      config_.encode_base64, "ue_px", "ue_pr");
  return finish(b, e.common);
}

TrackResult Tracker::track(const Structured& e) {
  Builder b("se");
  b.require(e.category, "structured event category");
  b.require(e.action, "structured event action");
  b.payload.add("se_ca", e.category);
  b.payload.add("se_ac", e.action);
  b.payload.add("se_la", e.label);
  b.payload.add("se_pr", e.property);
  if (e.value) {
    if (!std::isfinite(*e.value)) {
      if (b.error.empty()) b.error = "structured event value must be finite";
    } else {
      // Shortest text that reads back as the same double (enrich parses it as a BigDecimal).
      char text[32];
      auto [end, ec] = std::to_chars(text, text + sizeof text, *e.value);
      if (ec == std::errc()) b.payload.add("se_va", std::string(text, end));
    }
  }
  return finish(b, e.common);
}

TrackResult Tracker::track(const SelfDescribing& e) {
  Builder b("ue");
  if (!e.event.valid()) {
    b.error = "invalid self-describing event: " + e.event.error();
  } else {
    b.payload.add_json(unstruct_envelope(e.event.schema(), e.event.data()), config_.encode_base64,
                       "ue_px", "ue_pr");
  }
  return finish(b, e.common);
}

TrackResult Tracker::track(const Timing& e) {
  Builder b("ue");
  b.require(e.category, "timing category");
  b.require(e.variable, "timing variable");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  put(w, "category", e.category);
  put(w, "variable", e.variable);
  w.Key("timing");
  w.Int64(e.timing_ms);
  put(w, "label", e.label);
  w.EndObject();
  b.payload.add_json(unstruct_envelope(kTimingSchema, std::string(buf.GetString(), buf.GetSize())),
                     config_.encode_base64, "ue_px", "ue_pr");
  return finish(b, e.common);
}

}  // namespace furrow::tracker
