#include "enrich/enrichments/config.h"

#include <curl/curl.h>
#include <rapidjson/error/en.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

namespace furrow::enrich::enrichments {

namespace {

std::string format_error(std::string_view file, std::string_view key, std::string_view message) {
  std::string out(file);
  out += ": key '";
  out += key;
  out += "': ";
  out += message;
  return out;
}

// Parses "iglu:vendor/name/jsonschema/M-R-A"; false when malformed.
bool parse_schema_uri(std::string_view uri, std::string& vendor, std::string& name, int& model) {
  constexpr std::string_view kPrefix = "iglu:";
  if (uri.substr(0, kPrefix.size()) != kPrefix) return false;
  uri.remove_prefix(kPrefix.size());
  std::vector<std::string_view> parts;
  while (true) {
    auto pos = uri.find('/');
    parts.push_back(uri.substr(0, pos));
    if (pos == std::string_view::npos) break;
    uri.remove_prefix(pos + 1);
  }
  if (parts.size() != 4 || parts[2] != "jsonschema") return false;
  vendor = parts[0];
  name = parts[1];
  std::string_view ver = parts[3];
  int values[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    auto dash = ver.find('-');
    std::string_view num = ver.substr(0, dash);
    if (num.empty() || num.size() > 6) return false;
    int v = 0;
    for (char ch : num) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + (ch - '0');
    }
    values[i] = v;
    if (i < 2) {
      if (dash == std::string_view::npos) return false;
      ver.remove_prefix(dash + 1);
    } else if (dash != std::string_view::npos) {
      return false;
    }
  }
  model = values[0];
  return !vendor.empty() && !name.empty() && model >= 1;
}

size_t curl_write(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<std::ofstream*>(userdata);
  out->write(ptr, static_cast<std::streamsize>(size * nmemb));
  return out->good() ? size * nmemb : 0;
}

}  // namespace

Error EnrichmentConfig::error(std::string_view key, std::string_view message) const {
  return Error{format_error(file, key, message)};
}

Result<EnrichmentConfig> parse_enrichment_config(std::string_view json, std::string file) {
  EnrichmentConfig c;
  c.file = std::move(file);
  c.doc = std::make_shared<rapidjson::Document>();
  c.doc->Parse(json.data(), json.size());
  if (c.doc->HasParseError()) {
    return Error{c.file + ": not valid JSON at offset " + std::to_string(c.doc->GetErrorOffset()) +
                 ": " + rapidjson::GetParseError_En(c.doc->GetParseError())};
  }
  if (!c.doc->IsObject()) return c.error("", "expected a self-describing JSON object");
  auto schema = c.doc->FindMember("schema");
  if (schema == c.doc->MemberEnd() || !schema->value.IsString()) {
    return c.error("schema", "required string is missing");
  }
  c.schema = schema->value.GetString();
  std::string svendor, sname;
  if (!parse_schema_uri(c.schema, svendor, sname, c.model)) {
    return c.error("schema",
                   "expected iglu:<vendor>/<name>/jsonschema/<M-R-A>, got '" + c.schema + "'");
  }
  auto data = c.doc->FindMember("data");
  if (data == c.doc->MemberEnd() || !data->value.IsObject()) {
    return c.error("data", "required object is missing");
  }
  c.data = &data->value;
  auto vendor = required_string(c, c.data, "vendor", "data.vendor");
  if (!vendor.ok()) return vendor.error();
  auto name = required_string(c, c.data, "name", "data.name");
  if (!name.ok()) return name.error();
  c.vendor = *vendor;
  c.name = *name;
  auto enabled = c.data->FindMember("enabled");
  if (enabled == c.data->MemberEnd() || !enabled->value.IsBool()) {
    return c.error("data.enabled", "required boolean is missing");
  }
  c.enabled = enabled->value.GetBool();
  if (sname != c.name) {
    return c.error("schema",
                   "schema name '" + sname + "' does not match data.name '" + c.name + "'");
  }
  auto params = optional_object(c, c.data, "parameters", "data.parameters");
  if (!params.ok()) return params.error();
  c.parameters = *params;
  return c;
}

Result<std::string> required_string(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                    const char* key, std::string_view key_path) {
  if (obj == nullptr || !obj->IsObject()) return c.error(key_path, "required string is missing");
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd()) return c.error(key_path, "required string is missing");
  if (!it->value.IsString()) return c.error(key_path, "expected a string");
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Result<std::optional<std::string>> optional_string(const EnrichmentConfig& c,
                                                   const rapidjson::Value* obj, const char* key,
                                                   std::string_view key_path) {
  if (obj == nullptr) return std::optional<std::string>{};
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || it->value.IsNull()) return std::optional<std::string>{};
  if (!it->value.IsString()) return c.error(key_path, "expected a string");
  return std::optional<std::string>(
      std::string(it->value.GetString(), it->value.GetStringLength()));
}

Result<std::optional<int64_t>> optional_int(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                            const char* key, std::string_view key_path) {
  if (obj == nullptr) return std::optional<int64_t>{};
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || it->value.IsNull()) return std::optional<int64_t>{};
  if (!it->value.IsInt64()) return c.error(key_path, "expected an integer");
  return std::optional<int64_t>(it->value.GetInt64());
}

Result<std::optional<bool>> optional_bool(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                          const char* key, std::string_view key_path) {
  if (obj == nullptr) return std::optional<bool>{};
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || it->value.IsNull()) return std::optional<bool>{};
  if (!it->value.IsBool()) return c.error(key_path, "expected a boolean");
  return std::optional<bool>(it->value.GetBool());
}

Result<std::optional<std::vector<std::string>>> optional_string_array(const EnrichmentConfig& c,
                                                                      const rapidjson::Value* obj,
                                                                      const char* key,
                                                                      std::string_view key_path) {
  using Out = std::optional<std::vector<std::string>>;
  if (obj == nullptr) return Out{};
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || it->value.IsNull()) return Out{};
  if (!it->value.IsArray()) return c.error(key_path, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return c.error(key_path, "expected an array of strings");
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return Out(std::move(out));
}

Result<const rapidjson::Value*> optional_object(const EnrichmentConfig& c,
                                                const rapidjson::Value* obj, const char* key,
                                                std::string_view key_path) {
  if (obj == nullptr) return static_cast<const rapidjson::Value*>(nullptr);
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || it->value.IsNull()) {
    return static_cast<const rapidjson::Value*>(nullptr);
  }
  if (!it->value.IsObject()) return c.error(key_path, "expected an object");
  return static_cast<const rapidjson::Value*>(&it->value);
}

Status check_keys(const EnrichmentConfig& c, const rapidjson::Value* obj,
                  std::initializer_list<std::string_view> allowed, std::string_view key_path) {
  if (obj == nullptr || !obj->IsObject()) return Status::Ok();
  for (const auto& m : obj->GetObject()) {
    std::string_view k(m.name.GetString(), m.name.GetStringLength());
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) {
      std::string full(key_path);
      if (!full.empty()) full += '.';
      full += k;
      return c.error(full, "unknown key");
    }
  }
  return Status::Ok();
}

Result<std::string> read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string()};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{"cannot read " + path.string()};
  return ss.str();
}

Result<std::filesystem::path> resolve_lookup(const EnrichmentConfig& c, std::string_view uri,
                                             std::string_view database, std::string_view key_path,
                                             const LoadOptions& options) {
  namespace fs = std::filesystem;
  if (database.empty() || database.find('/') != std::string_view::npos || database == "." ||
      database == "..") {
    return c.error(std::string(key_path) + ".database", "expected a plain file name");
  }
  std::string u(uri);
  while (u.size() > 1 && u.back() == '/') u.pop_back();
  fs::path path;
  if (u.rfind("file://", 0) == 0) {
    path = fs::path(u.substr(7)) / std::string(database);
  } else if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) {
    std::string url = u + "/" + std::string(database);
    path = asset_cache_path(options, uri, database);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (!fs::exists(path)) {
      fs::path tmp = path;
      tmp += ".part";
      {
        std::ofstream out(tmp, std::ios::binary);
        if (!out) return c.error(std::string(key_path) + ".uri", "cannot write " + tmp.string());
        CURL* curl = curl_easy_init();
        if (curl == nullptr) return c.error(std::string(key_path) + ".uri", "curl init failed");
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
        CURLcode rc = curl_easy_perform(curl);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK) {
          out.close();
          fs::remove(tmp, ec);
          return c.error(std::string(key_path) + ".uri",
                         "download of " + url + " failed: " + curl_easy_strerror(rc));
        }
      }
      fs::rename(tmp, path, ec);
      if (ec) return c.error(std::string(key_path) + ".uri", "cannot store " + path.string());
    }
  } else if (u.find("://") != std::string::npos) {
    return c.error(std::string(key_path) + ".uri",
                   "unsupported scheme in '" + u + "' (expected file://, http:// or https://)");
  } else {
    path = fs::path(u) / std::string(database);
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return c.error(std::string(key_path) + ".database",
                   "lookup file " + path.string() + " does not exist or is not a file");
  }
  return path;
}

std::filesystem::path asset_cache_path(const LoadOptions& options, std::string_view uri,
                                       std::string_view database) {
  namespace fs = std::filesystem;
  fs::path dir = options.asset_cache_dir.empty() ? fs::temp_directory_path() / "furrow-assets"
                                                 : options.asset_cache_dir;
  std::string u(uri);
  while (u.size() > 1 && u.back() == '/') u.pop_back();
  std::string url = u + "/" + std::string(database);
  std::string key;
  for (char ch : url) {
    bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '.' || ch == '-' || ch == '_';
    key += safe ? ch : '_';
  }
  return dir / key;
}

Result<std::filesystem::path> resolve_lookup_object(const EnrichmentConfig& c,
                                                    const rapidjson::Value* obj,
                                                    std::string_view key_path,
                                                    const LoadOptions& options) {
  std::string kp(key_path);
  auto uri = required_string(c, obj, "uri", kp + ".uri");
  if (!uri.ok()) return uri.error();
  auto db = required_string(c, obj, "database", kp + ".database");
  if (!db.ok()) return db.error();
  return resolve_lookup(c, *uri, *db, key_path, options);
}

std::string error_message_json(std::string_view message) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("error");
  write_string(w, message);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string input_message_json(std::string_view field, std::string_view value,
                               std::string_view expectation) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("field");
  write_string(w, field);
  w.Key("value");
  write_string(w, value);
  w.Key("expectation");
  write_string(w, expectation);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace furrow::enrich::enrichments
