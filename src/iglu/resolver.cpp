#include "iglu/resolver.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time_format.h"

namespace furrow::iglu {
namespace {

using Status = ValidationOutcome::Status;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// ValidationError with schemaIssues: the schema itself is unusable.
std::string schema_issue_json(std::string_view message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.String("ValidationError");
  w.Key("schemaIssues");
  w.StartArray();
  w.StartObject();
  w.Key("path");
  w.String("$");
  w.Key("message");
  write_string(w, message);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string data_reports_json(const std::vector<DataReport>& reports,
                              const std::string& superseded_by) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.String("ValidationError");
  w.Key("dataReports");
  w.StartArray();
  for (const auto& r : reports) {
    w.StartObject();
    w.Key("message");
    write_string(w, r.message);
    w.Key("path");
    if (r.path.empty()) {
      w.Null();
    } else {
      write_string(w, r.path);
    }
    w.Key("keyword");
    if (r.keyword.empty()) {
      w.Null();
    } else {
      write_string(w, r.keyword);
    }
    w.Key("targets");
    w.StartArray();
    for (const auto& t : r.targets) write_string(w, t);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  if (!superseded_by.empty()) {
    w.Key("supersededBy");
    write_string(w, superseded_by);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

struct HistoryItem {
  std::string repository;
  std::string error;    // NotFound | RepoFailure | ClientFailure
  std::string message;  // for failures
  int attempts = 1;
};

std::string resolution_error_json(std::vector<HistoryItem> history, int64_t now_ms) {
  std::sort(history.begin(), history.end(),
            [](const HistoryItem& a, const HistoryItem& b) { return a.repository < b.repository; });
  std::string when = format_iso_instant(now_ms);
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.String("ResolutionError");
  w.Key("lookupHistory");
  w.StartArray();
  for (const auto& h : history) {
    w.StartObject();
    w.Key("repository");
    write_string(w, h.repository);
    w.Key("errors");
    w.StartArray();
    w.StartObject();
    w.Key("error");
    write_string(w, h.error);
    if (!h.message.empty()) {
      w.Key("message");
      write_string(w, h.message);
    }
    w.EndObject();
    w.EndArray();
    w.Key("attempts");
    w.Int(h.attempts);
    w.Key("lastAttempt");
    write_string(w, when);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string invalid_key_json(std::string_view uri, const std::string& why) {
  DataReport r{"Invalid schema key '" + std::string(uri.substr(0, 256)) + "': " + why, "", "", {}};
  return data_reports_json({r}, "");
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Resolver::Resolver(std::vector<std::shared_ptr<const Registry>> registries, ResolverOptions options)
    : registries_(std::move(registries)), options_(options) {
  if (options_.cache_size == 0) options_.cache_size = 1;
}

std::vector<std::shared_ptr<const Registry>> Resolver::lookup_order(const SchemaKey& key) const {
  auto order = registries_;
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    bool am = a->vendor_matches(key.vendor), bm = b->vendor_matches(key.vendor);
    if (am != bm) return am;
    if (a->kind() != b->kind()) return static_cast<int>(a->kind()) < static_cast<int>(b->kind());
    return a->priority() < b->priority();
  });
  return order;
}

Resolver::Resolved Resolver::lookup_uncached(const SchemaKey& key) {
  Resolved out;
  std::vector<HistoryItem> history;
  std::string failures;
  auto now = std::chrono::steady_clock::now();
  for (const auto& reg : lookup_order(key)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto f = failed_until_.find(reg->name());
      if (f != failed_until_.end() && f->second > now) {
        history.push_back({reg->name(), "RepoFailure", "registry unavailable (recent failure)", 0});
        if (!failures.empty()) failures += "; ";
        failures += reg->name() + ": recent failure";
        continue;
      }
    }
    LookupResult r = reg->lookup(key);
    if (r.status == LookupResult::Status::kFound) {
      // A $ref to another Iglu schema (".../schemas/vendor/name/format/version") is resolved
      // through the same registries; other remote documents are not fetched.
      auto compiled = CompiledSchema::compile_text(
          r.body, [this](const std::string& uri) -> Result<std::string> {
            auto ref = SchemaKey::parse_path(iglu_path_of_url(uri));
            if (!ref) return Error{"remote $ref " + uri + " is not an Iglu schema URL"};
            for (const auto& other : lookup_order(*ref)) {
              LookupResult found = other->lookup(*ref);
              if (found.status == LookupResult::Status::kFound) return std::move(found.body);
            }
            return Error{"$ref " + uri + " not found in any registry"};
          });
      if (!compiled) {
        out.status = Status::kInvalid;
        out.error_json = schema_issue_json(compiled.error().message);
        return out;
      }
      out.status = Status::kValid;
      out.schema = std::move(*compiled);
      out.superseded = out.schema->document().HasMember("$supersededBy");
      return out;
    }
    if (r.status == LookupResult::Status::kNotFound) {
      history.push_back({reg->name(), "NotFound", "", r.attempts});
    } else {
      history.push_back({reg->name(), "RepoFailure", r.message, r.attempts});
      if (!failures.empty()) failures += "; ";
      failures += reg->name() + ": " + r.message;
      if (options_.failure_backoff.count() > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        failed_until_[reg->name()] = std::chrono::steady_clock::now() + options_.failure_backoff;
      }
    }
  }
  if (!failures.empty()) {
    // The schema may well exist in the registry that could not be asked: retry, never a bad row.
    out.status = Status::kInfrastructure;
    out.message = "cannot resolve " + key.uri() + ": " + failures;
    return out;
  }
  out.status = Status::kNotFound;
  out.error_json = resolution_error_json(
      std::move(history), options_.fixed_now_ms != 0 ? options_.fixed_now_ms : now_ms());
  return out;
}

Resolver::Resolved Resolver::resolve(const SchemaKey& key) {
  std::string uri = key.uri();
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(uri);
    if (it != cache_.end()) {
      bool fresh = !options_.cache_ttl || now - it->second.stored < *options_.cache_ttl;
      if (fresh) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.resolved;
      }
      lru_.erase(it->second.lru);
      cache_.erase(it);
    }
  }
  // Looked up without the lock: registries may be slow. Two threads may fetch the same schema
  // at once; both results are equal and the second simply replaces the first.
  Resolved r = lookup_uncached(key);
  if (r.status == Status::kInfrastructure) return r;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(uri);
  if (it != cache_.end()) {
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  lru_.push_front(uri);
  cache_.emplace(uri, Entry{r, now, lru_.begin()});
  while (cache_.size() > options_.cache_size) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  return r;
}

ValidationOutcome Resolver::validate_key(const SchemaKey& key, const rapidjson::Value& data,
                                         int hops) {
  ValidationOutcome out;
  Resolved r = resolve(key);
  if (r.status != Status::kValid) {
    out.status = r.status;
    out.error_json = r.status == Status::kInfrastructure ? r.message : r.error_json;
    return out;
  }
  // $supersededBy: validate against the superseding version (same model, greater version).
  const auto& doc = r.schema->document();
  auto sup = doc.FindMember("$supersededBy");
  if (sup != doc.MemberEnd() && sup->value.IsString() && hops < 8) {
    auto ver = SchemaVer::parse(sup->value.GetString());
    if (ver && ver->model == key.version.model && key.version < *ver) {
      SchemaKey next = key;
      next.version = *ver;
      ValidationOutcome inner = validate_key(next, data, hops + 1);
      if (inner.superseded_by.empty()) inner.superseded_by = ver->str();
      if (inner.status == Status::kInvalid &&
          inner.error_json.find("\"supersededBy\"") == std::string::npos &&
          inner.error_json.size() > 1 &&
          inner.error_json.find("\"dataReports\"") != std::string::npos) {
        inner.error_json.pop_back();
        inner.error_json += ",\"supersededBy\":\"" + inner.superseded_by + "\"}";
      }
      return inner;
    }
  }
  if (r.schema->is_valid(data)) return out;
  out.status = Status::kInvalid;
  out.error_json = data_reports_json(r.schema->validate(data), "");
  return out;
}

ValidationOutcome Resolver::validate(std::string_view schema_uri, const rapidjson::Value& data) {
  // Hot path: a cached, found, not superseded schema, looked up by the URI as given. Nothing is
  // parsed or copied but the schema pointer.
  CompiledSchemaPtr schema;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(schema_uri);
    if (it != cache_.end() && it->second.resolved.status == Status::kValid &&
        !it->second.resolved.superseded &&
        (!options_.cache_ttl ||
         std::chrono::steady_clock::now() - it->second.stored < *options_.cache_ttl)) {
      schema = it->second.resolved.schema;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
    }
  }
  if (schema) {
    ValidationOutcome out;
    if (schema->is_valid(data)) return out;
    out.status = Status::kInvalid;
    out.error_json = data_reports_json(schema->validate(data), "");
    return out;
  }
  auto key = SchemaKey::parse(schema_uri);
  if (!key) {
    ValidationOutcome out;
    out.status = Status::kInvalid;
    out.error_json = invalid_key_json(schema_uri, key.error().message);
    return out;
  }
  return validate_key(*key, data, 0);
}

Result<ResolverConfig> parse_resolver_config(const rapidjson::Value& config,
                                             const std::string& base_dir) {
  const rapidjson::Value* data = &config;
  if (!config.IsObject()) return Error{"resolver config: not a JSON object"};
  auto schema = config.FindMember("schema");
  if (schema != config.MemberEnd()) {
    if (!schema->value.IsString()) return Error{"resolver config: 'schema' must be a string"};
    auto key = SchemaKey::parse(schema->value.GetString());
    auto crit =
        SchemaCriterion::parse("iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-*");
    if (!key || !crit->matches(*key) || key->version.addition > 3) {
      return Error{
          std::string("resolver config: unsupported schema '") + schema->value.GetString() +
          "' (expected iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0 to 1-0-3)"};
    }
    auto d = config.FindMember("data");
    if (d == config.MemberEnd() || !d->value.IsObject())
      return Error{"resolver config: 'data' must be an object"};
    data = &d->value;
    // Check the document against the built-in resolver-config schema of that version.
    Resolver builtin({builtin_registry()});
    auto outcome = builtin.validate(schema->value.GetString(), *data);
    if (outcome.status != Status::kValid) {
      return Error{"resolver config does not match " + std::string(schema->value.GetString()) +
                   ": " + outcome.error_json};
    }
  }
  ResolverConfig cfg;
  for (auto m = data->MemberBegin(); m != data->MemberEnd(); ++m) {
    std::string_view k(m->name.GetString(), m->name.GetStringLength());
    if (k != "cacheSize" && k != "cacheTtl" && k != "repositories") {
      return Error{"resolver config: unknown key '" + std::string(k) + "'"};
    }
  }
  auto size = data->FindMember("cacheSize");
  if (size == data->MemberEnd() || !size->value.IsNumber() || size->value.GetDouble() < 0 ||
      size->value.GetDouble() > 1e9) {
    return Error{"resolver config: 'cacheSize' must be a non-negative number"};
  }
  cfg.options.cache_size = static_cast<std::size_t>(size->value.GetDouble());
  auto ttl = data->FindMember("cacheTtl");
  if (ttl != data->MemberEnd() && !ttl->value.IsNull()) {
    if (!ttl->value.IsUint64())
      return Error{"resolver config: 'cacheTtl' must be a number of seconds or null"};
    cfg.options.cache_ttl = std::chrono::seconds(static_cast<int64_t>(ttl->value.GetUint64()));
  }
  auto repos = data->FindMember("repositories");
  if (repos == data->MemberEnd() || !repos->value.IsArray()) {
    return Error{"resolver config: 'repositories' must be an array"};
  }
  cfg.registries.push_back(builtin_registry());
  int index = 0;
  for (const auto& r : repos->value.GetArray()) {
    std::string where = "resolver config: repositories[" + std::to_string(index++) + "]";
    if (!r.IsObject()) return Error{where + " must be an object"};
    auto name = r.FindMember("name");
    auto prio = r.FindMember("priority");
    auto prefixes = r.FindMember("vendorPrefixes");
    auto conn = r.FindMember("connection");
    if (name == r.MemberEnd() || !name->value.IsString())
      return Error{where + ".name must be a string"};
    if (prio == r.MemberEnd() || !prio->value.IsNumber() ||
        std::abs(prio->value.GetDouble()) > 1e9) {
      return Error{where + ".priority must be a number"};
    }
    int priority = static_cast<int>(prio->value.GetDouble());
    if (prefixes == r.MemberEnd() || !prefixes->value.IsArray()) {
      return Error{where + ".vendorPrefixes must be an array"};
    }
    if (conn == r.MemberEnd() || !conn->value.IsObject())
      return Error{where + ".connection must be an object"};
    std::vector<std::string> pv;
    for (const auto& p : prefixes->value.GetArray()) {
      if (!p.IsString()) return Error{where + ".vendorPrefixes must hold strings"};
      pv.emplace_back(p.GetString());
    }
    auto http = conn->value.FindMember("http");
    auto embedded = conn->value.FindMember("embedded");
    if (http != conn->value.MemberEnd() && http->value.IsObject()) {
      auto uri = http->value.FindMember("uri");
      if (uri == http->value.MemberEnd() || !uri->value.IsString()) {
        return Error{where + ".connection.http.uri must be a string"};
      }
      std::string u = uri->value.GetString();
      if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
        return Error{where + ".connection.http.uri must be an http(s) URL"};
      }
      std::string apikey;
      auto key = http->value.FindMember("apikey");
      if (key != http->value.MemberEnd() && key->value.IsString()) apikey = key->value.GetString();
      cfg.registries.push_back(
          std::make_shared<HttpRegistry>(name->value.GetString(), u, apikey, priority, pv));
    } else if (embedded != conn->value.MemberEnd() && embedded->value.IsObject()) {
      auto path = embedded->value.FindMember("path");
      if (path == embedded->value.MemberEnd() || !path->value.IsString()) {
        return Error{where + ".connection.embedded.path must be a string"};
      }
      std::filesystem::path p = path->value.GetString();
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      cfg.registries.push_back(
          std::make_shared<DirectoryRegistry>(name->value.GetString(), p.string(), priority, pv));
    } else {
      return Error{where + ".connection must hold 'http' or 'embedded'"};
    }
  }
  return cfg;
}

Result<ResolverConfig> parse_resolver_config_text(std::string_view json,
                                                  const std::string& base_dir) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Error{std::string("resolver config is not valid JSON: ") +
                 rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                 std::to_string(doc.GetErrorOffset())};
  }
  return parse_resolver_config(doc, base_dir);
}

Result<std::shared_ptr<SchemaValidator>> load_resolver(const std::string& path) {
  auto text = read_text(path);
  if (!text) return text.error();
  auto cfg = parse_resolver_config_text(*text, std::filesystem::path(path).parent_path().string());
  if (!cfg) return Error{path + ": " + cfg.error().message};
  cfg->options.failure_backoff = std::chrono::milliseconds(1000);
  return std::shared_ptr<SchemaValidator>(
      std::make_shared<Resolver>(std::move(cfg->registries), cfg->options));
}

std::shared_ptr<Resolver> builtin_resolver() {
  return std::make_shared<Resolver>(
      std::vector<std::shared_ptr<const Registry>>{builtin_registry()});
}

}  // namespace furrow::iglu
