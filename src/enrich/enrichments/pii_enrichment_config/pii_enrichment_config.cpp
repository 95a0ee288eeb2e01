#include "enrich/enrichments/pii_enrichment_config/pii_enrichment_config.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"

namespace furrow::enrich::enrichments {

namespace {

constexpr event::Field kPojoFields[] = {
    event::Field::user_id,       event::Field::user_ipaddress,     event::Field::user_fingerprint,
    event::Field::domain_userid, event::Field::network_userid,     event::Field::ip_organization,
    event::Field::ip_domain,     event::Field::tr_orderid,         event::Field::ti_orderid,
    event::Field::mkt_term,      event::Field::mkt_content,        event::Field::se_category,
    event::Field::se_action,     event::Field::se_label,           event::Field::se_property,
    event::Field::mkt_clickid,   event::Field::refr_domain_userid, event::Field::domain_sessionid,
};

struct Change {
  std::string field_name;
  std::string original;
  std::string modified;
  std::string json_path;  // json changes only
  std::string schema;     // json changes only
};

// Hashes every string reached by `steps` from `v`; records each change.
void apply_path(rapidjson::Value& v, const std::vector<JsonPathStep>& steps, std::size_t i,
                rapidjson::Document::AllocatorType& alloc, const Hasher& hasher,
                const std::string& salt, std::vector<std::string>& originals,
                std::vector<std::string>& modified) {
  if (i == steps.size()) {
    if (!v.IsString()) return;
    std::string original(v.GetString(), v.GetStringLength());
    std::string hashed = hasher.hex(original + salt);
    v.SetString(hashed.data(), static_cast<rapidjson::SizeType>(hashed.size()), alloc);
    originals.push_back(std::move(original));
    modified.push_back(std::move(hashed));
    return;
  }
  const JsonPathStep& s = steps[i];
  switch (s.kind) {
    case JsonPathStep::kKey:
      if (v.IsObject()) {
        for (const auto& key : s.keys) {
          auto it = v.FindMember(rapidjson::StringRef(key.data(), key.size()));
          if (it != v.MemberEnd()) {
            apply_path(it->value, steps, i + 1, alloc, hasher, salt, originals, modified);
          }
        }
      }
      break;
    case JsonPathStep::kIndex:
      if (v.IsArray() && s.index < v.Size()) {
        apply_path(v[static_cast<rapidjson::SizeType>(s.index)], steps, i + 1, alloc, hasher, salt,
                   originals, modified);
      }
      break;
    case JsonPathStep::kWildcard:
      if (v.IsArray()) {
        for (auto& e : v.GetArray()) {
          apply_path(e, steps, i + 1, alloc, hasher, salt, originals, modified);
        }
      } else if (v.IsObject()) {
        for (auto& m : v.GetObject()) {
          apply_path(m.value, steps, i + 1, alloc, hasher, salt, originals, modified);
        }
      }
      break;
  }
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// Applies the JSON rules for `field` to every entity (schema + data) in `entities`.
bool transform_entities(rapidjson::Value& entities, event::Field field, const PiiConfig& config,
                        rapidjson::Document::AllocatorType& alloc, const Hasher& hasher,
                        std::vector<Change>& changes) {
  bool changed = false;
  auto one = [&](rapidjson::Value& entity) {
    if (!entity.IsObject()) return;
    auto schema = entity.FindMember("schema");
    auto data = entity.FindMember("data");
    if (schema == entity.MemberEnd() || !schema->value.IsString() || data == entity.MemberEnd()) {
      return;
    }
    std::string_view uri(schema->value.GetString(), schema->value.GetStringLength());
    for (const auto& rule : config.json) {
      if (rule.field != field || !rule.criterion.matches(uri)) continue;
      std::vector<std::string> originals, modified;
      apply_path(data->value, rule.steps, 0, alloc, hasher, config.salt, originals, modified);
      for (std::size_t i = 0; i < originals.size(); ++i) {
        changes.push_back({std::string(event::field_name(field)), std::move(originals[i]),
                           std::move(modified[i]), rule.json_path, std::string(uri)});
        changed = true;
      }
    }
  };
  if (entities.IsArray()) {
    for (auto& e : entities.GetArray()) one(e);
  } else {
    one(entities);
  }
  return changed;
}

// A column holding {"schema": wrapper, "data": entities}: transforms in place.
void transform_column(std::string& column, event::Field field, const PiiConfig& config,
                      const Hasher& hasher, std::vector<Change>& changes) {
  if (column.empty()) return;
  rapidjson::Document doc;
  doc.Parse(column.data(), column.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd()) return;
  if (transform_entities(data->value, field, config, doc.GetAllocator(), hasher, changes)) {
    column = to_json(doc);
  }
}

}  // namespace

Result<std::vector<JsonPathStep>> parse_json_path(std::string_view p) {
  std::vector<JsonPathStep> steps;
  if (p.empty() || p[0] != '$') return Error{"a JSONPath must start with '$'"};
  std::size_t i = 1;
  auto unsupported = [&]() {
    return Error{"unsupported JSONPath '" + std::string(p) +
                 "' (supported: $, .name, ['name'], [n], [*], .*)"};
  };
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      if (i < p.size() && p[i] == '.') return unsupported();
      if (i < p.size() && p[i] == '[') continue;  // ".['name']" is the same as "['name']"
      if (i < p.size() && p[i] == '*') {
        steps.push_back({JsonPathStep::kWildcard, {}, 0});
        ++i;
        continue;
      }
      std::size_t start = i;
      while (i < p.size() && p[i] != '.' && p[i] != '[') ++i;
      if (i == start) return unsupported();
      steps.push_back({JsonPathStep::kKey, {std::string(p.substr(start, i - start))}, 0});
    } else if (p[i] == '[') {
      auto close = p.find(']', i);
      if (close == std::string_view::npos) return unsupported();
      std::string_view inner = p.substr(i + 1, close - i - 1);
      if (inner == "*") {
        steps.push_back({JsonPathStep::kWildcard, {}, 0});
      } else if (!inner.empty() && (inner.front() == '\'' || inner.front() == '"')) {
        // One quoted key or a comma-separated union of quoted keys.
        JsonPathStep step{JsonPathStep::kKey, {}, 0};
        std::string_view rest = inner;
        while (true) {
          rest = trim(rest);
          if (rest.size() < 2 || (rest.front() != '\'' && rest.front() != '"')) {
            return unsupported();
          }
          char q = rest.front();
          auto end = rest.find(q, 1);
          if (end == std::string_view::npos) return unsupported();
          step.keys.emplace_back(rest.substr(1, end - 1));
          rest = trim(rest.substr(end + 1));
          if (rest.empty()) break;
          if (rest.front() != ',') return unsupported();
          rest.remove_prefix(1);
        }
        steps.push_back(std::move(step));
      } else {
        std::size_t idx = 0;
        auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), idx);
        if (ec != std::errc() || end != inner.data() + inner.size()) return unsupported();
        steps.push_back({JsonPathStep::kIndex, {}, idx});
      }
      i = close + 1;
    } else {
      return unsupported();
    }
  }
  return steps;
}

Result<SchemaCriterion> SchemaCriterion::parse(std::string_view s) {
  SchemaCriterion c;
  auto bad = [&]() {
    return Error{"expected iglu:vendor/name/format/M-R-A (parts may be *), got '" + std::string(s) +
                 "'"};
  };
  if (s.rfind("iglu:", 0) != 0) return bad();
  std::string_view rest = s.substr(5);
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    auto slash = rest.find('/');
    if ((i < 3) == (slash == std::string_view::npos)) return bad();
    parts[i] = rest.substr(0, slash);
    if (parts[i].empty()) return bad();
    rest = i < 3 ? rest.substr(slash + 1) : std::string_view();
  }
  c.vendor = parts[0];
  c.name = parts[1];
  c.format = parts[2];
  std::string_view ver = parts[3];
  for (int i = 0; i < 3; ++i) {
    auto dash = ver.find('-');
    if ((i < 2) == (dash == std::string_view::npos)) return bad();
    std::string_view v = ver.substr(0, dash);
    if (v == "*") {
      c.parts[i] = -1;
    } else {
      int n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return bad();
      c.parts[i] = n;
    }
    ver = i < 2 ? ver.substr(dash + 1) : std::string_view();
  }
  return c;
}

bool SchemaCriterion::matches(std::string_view uri) const {
  if (uri.rfind("iglu:", 0) != 0) return false;
  uri.remove_prefix(5);
  std::string_view expect[3] = {vendor, name, format};
  for (auto e : expect) {
    auto slash = uri.find('/');
    if (slash == std::string_view::npos || uri.substr(0, slash) != e) return false;
    uri.remove_prefix(slash + 1);
  }
  for (int i = 0; i < 3; ++i) {
    auto dash = uri.find('-');
    std::string_view v = uri.substr(0, dash);
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size()) return false;
    if (parts[i] >= 0 && parts[i] != n) return false;
    if (i < 2) {
      if (dash == std::string_view::npos) return false;
      uri.remove_prefix(dash + 1);
    }
  }
  return true;
}

void PiiEnrichment::apply(EventContext& ctx) const {
  if (config_.anonymous_only && !ctx.anonymous()) return;
  auto& ev = ctx.event();
  std::vector<Change> changes;
  for (event::Field f : config_.pojo) {
    std::string& v = ev[f];
    if (v.empty()) continue;
    std::string hashed = hasher_.hex(v + config_.salt);
    changes.push_back({std::string(event::field_name(f)), v, hashed, "", ""});
    v = std::move(hashed);
  }
  if (!config_.json.empty()) {
    transform_column(ev[event::Field::contexts], event::Field::contexts, config_, hasher_, changes);
    transform_column(ev[event::Field::unstruct_event], event::Field::unstruct_event, config_,
                     hasher_, changes);
    transform_column(ev[event::Field::derived_contexts], event::Field::derived_contexts, config_,
                     hasher_, changes);
    // Contexts derived by earlier enrichments that the pipeline has not yet written out.
    for (std::string& sdj : ctx.pending_contexts()) {
      rapidjson::Document doc;
      doc.Parse(sdj.data(), sdj.size());
      if (doc.HasParseError()) continue;
      if (transform_entities(doc, event::Field::derived_contexts, config_, doc.GetAllocator(),
                             hasher_, changes)) {
        sdj = to_json(doc);
      }
    }
  }
  if (!config_.emit_event || changes.empty()) return;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  w.String(kPiiTransformationSchema);
  w.Key("data");
  w.StartObject();
  w.Key("pii");
  w.StartObject();
  bool any_pojo = false, any_json = false;
  for (const auto& c : changes) (c.json_path.empty() ? any_pojo : any_json) = true;
  if (any_pojo) {
    w.Key("pojo");
    w.StartArray();
    for (const auto& c : changes) {
      if (!c.json_path.empty()) continue;
      w.StartObject();
      w.Key("fieldName");
      write_string(w, c.field_name);
      w.Key("originalValue");
      write_string(w, c.original);
      w.Key("modifiedValue");
      write_string(w, c.modified);
      w.EndObject();
    }
    w.EndArray();
  }
  if (any_json) {
    w.Key("json");
    w.StartArray();
    for (const auto& c : changes) {
      if (c.json_path.empty()) continue;
      w.StartObject();
      w.Key("fieldName");
      write_string(w, c.field_name);
      w.Key("originalValue");
      write_string(w, c.original);
      w.Key("modifiedValue");
      write_string(w, c.modified);
      w.Key("jsonPath");
      write_string(w, c.json_path);
      w.Key("schema");
      write_string(w, c.schema);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("strategy");
  w.StartObject();
  w.Key("pseudonymize");
  w.StartObject();
  w.Key("hashFunction");
  write_string(w, config_.hash_function);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  ctx.add_derived_context(std::string(sb.GetString(), sb.GetSize()));
}

Result<std::shared_ptr<const Enrichment>> make_pii_enrichment(const EnrichmentConfig& c,
                                                              const LoadOptions&) {
  PiiConfig cfg;
  auto emit = optional_bool(c, c.data, "emitEvent", "data.emitEvent");
  if (!emit.ok()) return emit.error();
  cfg.emit_event = emit->value_or(false);
  auto anon = optional_bool(c, c.data, "anonymousOnly", "data.anonymousOnly");
  if (!anon.ok()) return anon.error();
  cfg.anonymous_only = anon->value_or(false);
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s = check_keys(c, c.parameters, {"pii", "strategy"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto pii = c.parameters->FindMember("pii");
  if (pii == c.parameters->MemberEnd() || !pii->value.IsArray()) {
    return c.error("data.parameters.pii", "required array is missing");
  }
  int i = 0;
  for (const auto& item : pii->value.GetArray()) {
    std::string kp = "data.parameters.pii[" + std::to_string(i++) + "]";
    if (!item.IsObject()) return c.error(kp, "expected an object");
    if (auto s = check_keys(c, &item, {"pojo", "json"}, kp); !s.ok()) return s.error();
    auto pojo = optional_object(c, &item, "pojo", kp + ".pojo");
    if (!pojo.ok()) return pojo.error();
    auto json = optional_object(c, &item, "json", kp + ".json");
    if (!json.ok()) return json.error();
    if ((*pojo == nullptr) == (*json == nullptr)) {
      return c.error(kp, "expected exactly one of 'pojo' or 'json'");
    }
    if (*pojo != nullptr) {
      if (auto s = check_keys(c, *pojo, {"field"}, kp + ".pojo"); !s.ok()) return s.error();
      auto field = required_string(c, *pojo, "field", kp + ".pojo.field");
      if (!field.ok()) return field.error();
      event::Field f;
      if (!event::field_by_name(*field, f) ||
          std::find(std::begin(kPojoFields), std::end(kPojoFields), f) == std::end(kPojoFields)) {
        return c.error(kp + ".pojo.field", "'" + *field + "' is not a PII-capable field");
      }
      cfg.pojo.push_back(f);
      continue;
    }
    if (auto s = check_keys(c, *json, {"field", "schemaCriterion", "jsonPath"}, kp + ".json");
        !s.ok()) {
      return s.error();
    }
    auto field = required_string(c, *json, "field", kp + ".json.field");
    if (!field.ok()) return field.error();
    PiiConfig::JsonField jf;
    if (*field == "contexts") {
      jf.field = event::Field::contexts;
    } else if (*field == "derived_contexts") {
      jf.field = event::Field::derived_contexts;
    } else if (*field == "unstruct_event") {
      jf.field = event::Field::unstruct_event;
    } else {
      return c.error(kp + ".json.field",
                     "expected contexts, derived_contexts or unstruct_event, got '" + *field + "'");
    }
    auto crit = required_string(c, *json, "schemaCriterion", kp + ".json.schemaCriterion");
    if (!crit.ok()) return crit.error();
    auto parsed = SchemaCriterion::parse(*crit);
    if (!parsed.ok()) return c.error(kp + ".json.schemaCriterion", parsed.error().message);
    jf.criterion = *parsed;
    jf.criterion_text = *crit;
    auto path = required_string(c, *json, "jsonPath", kp + ".json.jsonPath");
    if (!path.ok()) return path.error();
    auto steps = parse_json_path(*path);
    if (!steps.ok()) return c.error(kp + ".json.jsonPath", steps.error().message);
    jf.json_path = *path;
    jf.steps = std::move(*steps);
    cfg.json.push_back(std::move(jf));
  }
  auto strategy = optional_object(c, c.parameters, "strategy", "data.parameters.strategy");
  if (!strategy.ok()) return strategy.error();
  if (*strategy == nullptr)
    return c.error("data.parameters.strategy", "required object is missing");
  auto pseudo =
      optional_object(c, *strategy, "pseudonymize", "data.parameters.strategy.pseudonymize");
  if (!pseudo.ok()) return pseudo.error();
  if (*pseudo == nullptr) {
    return c.error("data.parameters.strategy.pseudonymize", "required object is missing");
  }
  const char* sp = "data.parameters.strategy.pseudonymize";
  if (auto s = check_keys(c, *pseudo, {"hashFunction", "salt"}, sp); !s.ok()) return s.error();
  auto fn = required_string(c, *pseudo, "hashFunction", std::string(sp) + ".hashFunction");
  if (!fn.ok()) return fn.error();
  static constexpr std::string_view kAllowed[] = {"MD2",     "MD5",     "SHA-1",
                                                  "SHA-256", "SHA-384", "SHA-512"};
  if (std::find(std::begin(kAllowed), std::end(kAllowed), *fn) == std::end(kAllowed)) {
    return c.error(std::string(sp) + ".hashFunction",
                   "expected one of MD2, MD5, SHA-1, SHA-256, SHA-384, SHA-512");
  }
  auto hasher = Hasher::by_name(*fn);
  if (!hasher) {
    return c.error(std::string(sp) + ".hashFunction",
                   "'" + *fn + "' is not available in this OpenSSL build");
  }
  auto salt = required_string(c, *pseudo, "salt", std::string(sp) + ".salt");
  if (!salt.ok()) return salt.error();
  cfg.hash_function = *fn;
  cfg.salt = *salt;
  return std::shared_ptr<const Enrichment>(
      std::make_shared<PiiEnrichment>(std::move(cfg), *hasher));
}

}  // namespace furrow::enrich::enrichments
