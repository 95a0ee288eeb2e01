#include "run/micro.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "event/enriched_event.h"
#include "event/tsv.h"

namespace furrow::run {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using event::Field;

std::string_view strip_iglu(std::string_view s) {
  if (s.starts_with("iglu:")) s.remove_prefix(5);
  return s;
}

Result<rapidjson::Document> parse_object(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return Error{"the request body is not a JSON object"};
  return d;
}

Status get_string(const rapidjson::Value& o, const char* key, std::optional<std::string>& out) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsString()) return Error{std::string("'") + key + "' must be a string"};
  out = std::string(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

Status get_limit(const rapidjson::Value& o, std::optional<std::size_t>& out) {
  auto it = o.FindMember("limit");
  if (it == o.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsInt64() || it->value.GetInt64() < 0) {
    return Error{"'limit' must be a non-negative integer"};
  }
  out = static_cast<std::size_t>(it->value.GetInt64());
  return Status::Ok();
}

// The schemas of the entities in a contexts column value ({"schema":..,"data":[{schema,..}]}).
void context_schemas(std::string_view json, std::vector<std::string>& out) {
  if (json.empty()) return;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return;
  auto data = d.FindMember("data");
  if (data == d.MemberEnd() || !data->value.IsArray()) return;
  for (const auto& e : data->value.GetArray()) {
    if (!e.IsObject()) continue;
    auto s = e.FindMember("schema");
    if (s != e.MemberEnd() && s->value.IsString()) {
      out.emplace_back(s->value.GetString(), s->value.GetStringLength());
    }
  }
}

// The inner schema of an unstruct_event column value.
std::string unstruct_schema(std::string_view json) {
  if (json.empty()) return {};
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  auto data = d.FindMember("data");
  if (data == d.MemberEnd() || !data->value.IsObject()) return {};
  auto s = data->value.FindMember("schema");
  if (s == data->value.MemberEnd() || !s->value.IsString()) return {};
  return std::string(s->value.GetString(), s->value.GetStringLength());
}

void write_value(Writer& w, event::FieldKind kind, const std::string& v) {
  using event::FieldKind;
  if (v.empty()) {
    w.Null();
    return;
  }
  switch (kind) {
    case FieldKind::kInt:
    case FieldKind::kFloat:
    case FieldKind::kDecimal: {
      // The TSV codec has checked the syntax; RawValue keeps the exact digits.
      rapidjson::Document d;
      d.Parse(v.data(), v.size());
      if (!d.HasParseError() && d.IsNumber()) {
        w.RawValue(v.data(), v.size(), rapidjson::kNumberType);
      } else {
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      }
      return;
    }
    case FieldKind::kBool01:
      w.Bool(v == "1");
      return;
    case FieldKind::kTimestamp: {
      std::string iso = v;
      if (iso.size() > 10 && iso[10] == ' ') iso[10] = 'T';
      iso += 'Z';
      w.String(iso.data(), static_cast<rapidjson::SizeType>(iso.size()));
      return;
    }
    case FieldKind::kJson: {
      rapidjson::Document d;
      d.Parse(v.data(), v.size());
      if (!d.HasParseError()) {
        d.Accept(w);
      } else {
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      }
      return;
    }
    case FieldKind::kString:
      break;
  }
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

struct GoodSummary {
  std::string event_type;
  std::string schema;
  std::vector<std::string> contexts;
};

void summarise(const event::EnrichedEvent& e, GoodSummary& s) {
  s.event_type = e[Field::event];
  s.schema = unstruct_schema(e[Field::unstruct_event]);
  s.contexts.clear();
  context_schemas(e[Field::contexts], s.contexts);
}

bool matches(const GoodFilter& f, const GoodSummary& s) {
  if (f.event_type && *f.event_type != s.event_type) return false;
  if (f.schema && strip_iglu(*f.schema) != strip_iglu(s.schema)) return false;
  for (const auto& want : f.contexts) {
    bool found = std::any_of(s.contexts.begin(), s.contexts.end(), [&](const std::string& c) {
      return strip_iglu(c) == strip_iglu(want);
    });
    if (!found) return false;
  }
  return true;
}

void write_good(Writer& w, const event::EnrichedEvent& e, const GoodSummary& s) {
  w.StartObject();
  w.Key("rawEvent");
  w.Null();
  w.Key("event");
  w.StartObject();
  const auto& infos = event::field_infos();
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    w.Key(infos[i].name.data(), static_cast<rapidjson::SizeType>(infos[i].name.size()));
    write_value(w, infos[i].kind, e.values[i]);
  }
  w.EndObject();
  w.Key("eventType");
  w.String(s.event_type.data(), static_cast<rapidjson::SizeType>(s.event_type.size()));
  w.Key("schema");
  if (s.schema.empty()) {
    w.Null();
  } else {
    w.String(s.schema.data(), static_cast<rapidjson::SizeType>(s.schema.size()));
  }
  w.Key("contexts");
  w.StartArray();
  for (const auto& c : s.contexts) w.String(c.data(), static_cast<rapidjson::SizeType>(c.size()));
  w.EndArray();
  w.EndObject();
}

// Looks for a string member `key` in the bad row's payload (payload.raw.<key> for events,
// payload.<key> for collector payloads).
std::string bad_payload_string(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return {};
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) return {};
  auto payload = data->value.FindMember("payload");
  if (payload == data->value.MemberEnd() || !payload->value.IsObject()) return {};
  const rapidjson::Value* where = &payload->value;
  auto raw = payload->value.FindMember("raw");
  if (raw != payload->value.MemberEnd() && raw->value.IsObject()) where = &raw->value;
  auto it = where->FindMember(key);
  if (it == where->MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

Result<GoodFilter> parse_good_filter(std::string_view body) {
  GoodFilter f;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return f;
  auto d = parse_object(body);
  if (!d.ok()) return d.error();
  if (Status s = get_string(*d, "schema", f.schema); !s.ok()) return s.error();
  if (Status s = get_string(*d, "event_type", f.event_type); !s.ok()) return s.error();
  if (Status s = get_limit(*d, f.limit); !s.ok()) return s.error();
  auto c = d->FindMember("contexts");
  if (c != d->MemberEnd() && !c->value.IsNull()) {
    if (!c->value.IsArray()) return Error{"'contexts' must be an array of schema URIs"};
    for (const auto& v : c->value.GetArray()) {
      if (!v.IsString()) return Error{"'contexts' must be an array of schema URIs"};
      f.contexts.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return f;
}

Result<BadFilter> parse_bad_filter(std::string_view body) {
  BadFilter f;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return f;
  auto d = parse_object(body);
  if (!d.ok()) return d.error();
  if (Status s = get_string(*d, "vendor", f.vendor); !s.ok()) return s.error();
  if (Status s = get_string(*d, "version", f.version); !s.ok()) return s.error();
  if (Status s = get_limit(*d, f.limit); !s.ok()) return s.error();
  return f;
}

bool good_event_json(std::string_view tsv, std::string& out) {
  event::EnrichedEvent e;
  std::string err;
  if (!event::read_tsv(tsv, e, err)) return false;
  GoodSummary s;
  summarise(e, s);
  rapidjson::StringBuffer sb;
  Writer w(sb);
  write_good(w, e, s);
  out.assign(sb.GetString(), sb.GetSize());
  return true;
}

void MicroStore::trim(std::deque<std::string>& q, std::size_t& bytes) {
  while (!q.empty() && (q.size() > limits_.max_events || bytes > limits_.max_bytes)) {
    bytes -= q.front().size();
    q.pop_front();
  }
}

void MicroStore::add(const std::vector<std::string_view>& good,
                     const std::vector<std::string_view>& bad) {
  std::vector<std::string> g(good.begin(), good.end());
  std::vector<std::string> b(bad.begin(), bad.end());
  add_moved(std::move(g), std::move(b));
}

void MicroStore::add_moved(std::vector<std::string>&& good, std::vector<std::string>&& bad) {
  std::vector<Waiter> ready;
  uint64_t count = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& g : good) {
      good_bytes_ += g.size();
      good_.push_back(std::move(g));
    }
    for (auto& b : bad) {
      bad_bytes_ += b.size();
      bad_.push_back(std::move(b));
    }
    good_count_ += good.size();
    bad_count_ += bad.size();
    trim(good_, good_bytes_);
    trim(bad_, bad_bytes_);
    count = good_count_;
    if (!good.empty()) {
      auto mid = std::partition(waiters_.begin(), waiters_.end(),
                                [&](const Waiter& w) { return w.count > count; });
      std::move(mid, waiters_.end(), std::back_inserter(ready));
      waiters_.erase(mid, waiters_.end());
    }
  }
  good.clear();
  bad.clear();
  for (auto& w : ready) w.done(true, count);
}

void MicroStore::reset() {
  std::lock_guard lock(mu_);
  good_.clear();
  bad_.clear();
  good_bytes_ = bad_bytes_ = 0;
  good_count_ = bad_count_ = 0;
}

MicroStore::Counts MicroStore::counts() const {
  std::lock_guard lock(mu_);
  return {good_count_, bad_count_};
}

std::string MicroStore::all_json() const {
  const Counts c = counts();
  return "{\"total\":" + std::to_string(c.good + c.bad) + ",\"good\":" + std::to_string(c.good) +
         ",\"bad\":" + std::to_string(c.bad) + "}";
}

std::string MicroStore::good_json(const GoodFilter& filter) const {
  // Copy under the lock, format outside it: the loader is never held up by a slow query.
  std::vector<std::string> lines;
  {
    std::lock_guard lock(mu_);
    lines.assign(good_.rbegin(), good_.rend());
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartArray();
  std::size_t n = 0;
  event::EnrichedEvent e;
  GoodSummary s;
  std::string err;
  for (const auto& line : lines) {
    if (filter.limit && n >= *filter.limit) break;
    if (!event::read_tsv(line, e, err)) continue;
    summarise(e, s);
    if (!matches(filter, s)) continue;
    write_good(w, e, s);
    ++n;
  }
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string MicroStore::bad_json(const BadFilter& filter) const {
  std::vector<std::string> docs;
  {
    std::lock_guard lock(mu_);
    docs.assign(bad_.rbegin(), bad_.rend());
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartArray();
  std::size_t n = 0;
  for (const auto& text : docs) {
    if (filter.limit && n >= *filter.limit) break;
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError()) continue;
    if (filter.vendor && bad_payload_string(d, "vendor") != *filter.vendor) continue;
    if (filter.version && bad_payload_string(d, "version") != *filter.version) continue;
    w.StartObject();
    w.Key("collectorPayload");
    w.Null();
    w.Key("rawEvent");
    w.Null();
    // Micro lists error messages; a bad row's failure messages are JSON objects, given as text.
    w.Key("errors");
    w.StartArray();
    if (d.IsObject()) {
      auto data = d.FindMember("data");
      if (data != d.MemberEnd() && data->value.IsObject()) {
        auto failure = data->value.FindMember("failure");
        if (failure != data->value.MemberEnd()) {
          const rapidjson::Value* msgs = nullptr;
          if (failure->value.IsObject()) {
            auto m = failure->value.FindMember("messages");
            if (m != failure->value.MemberEnd() && m->value.IsArray()) msgs = &m->value;
          }
          auto emit = [&w](const rapidjson::Value& v) {
            if (v.IsString()) {
              w.String(v.GetString(), v.GetStringLength());
              return;
            }
            rapidjson::StringBuffer inner;
            rapidjson::Writer<rapidjson::StringBuffer> iw(inner);
            v.Accept(iw);
            w.String(inner.GetString(), static_cast<rapidjson::SizeType>(inner.GetSize()));
          };
          if (msgs != nullptr) {
            for (const auto& m : msgs->GetArray()) emit(m);
          } else {
            emit(failure->value);
          }
        }
      }
    }
    w.EndArray();
    w.Key("badRow");
    d.Accept(w);
    w.EndObject();
    ++n;
  }
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

bool MicroStore::wait(uint64_t count, std::chrono::steady_clock::time_point deadline,
                      WaitDone done) {
  uint64_t now_count = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_ || waiters_.size() >= limits_.max_waiters) return false;
    now_count = good_count_;
    if (now_count < count) {
      waiters_.push_back(Waiter{count, deadline, std::move(done)});
      return true;
    }
  }
  done(true, now_count);
  return true;
}

void MicroStore::expire(std::chrono::steady_clock::time_point now) {
  std::vector<Waiter> expired;
  uint64_t count = 0;
  {
    std::lock_guard lock(mu_);
    count = good_count_;
    auto mid = std::partition(waiters_.begin(), waiters_.end(),
                              [&](const Waiter& w) { return w.deadline > now; });
    std::move(mid, waiters_.end(), std::back_inserter(expired));
    waiters_.erase(mid, waiters_.end());
  }
  for (auto& w : expired) w.done(false, count);
}

void MicroStore::close() {
  std::vector<Waiter> all;
  uint64_t count = 0;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    count = good_count_;
    all.swap(waiters_);
  }
  for (auto& w : all) w.done(false, count);
}

}  // namespace furrow::run
