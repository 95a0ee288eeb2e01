#include "enrich/enrichments/referer_parser/referer_parser.h"

#include <rapidjson/error/en.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>

#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

namespace {

constexpr std::string_view kMediums[] = {"unknown", "email", "social", "search", "paid", "chatbot"};

bool known_medium(std::string_view m) {
  return std::find(std::begin(kMediums), std::end(kMediums), m) != std::end(kMediums);
}

// Minimal split of an absolute URL: scheme, host (no port, no userinfo), path, query.
void split_url(std::string_view url, std::string_view& scheme, std::string_view& host,
               std::string_view& path, std::string_view& query) {
  scheme = host = path = query = {};
  auto colon = url.find(':');
  if (colon == std::string_view::npos) return;
  scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 1);
  auto hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto q = rest.find('?');
  if (q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.substr(0, 2) != "//") {
    path = rest;
    return;
  }
  rest.remove_prefix(2);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    host = authority.substr(0, close == std::string_view::npos ? authority.size() : close + 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
}

}  // namespace

namespace {
// Source of RefererDatabase::version_.
std::atomic<uint64_t> g_next_referer_version{1};
}  // namespace

Status RefererDatabase::add(std::string medium, std::string source,
                            std::vector<std::string> domains, std::vector<std::string> parameters,
                            const std::string& origin) {
  if (!known_medium(medium)) {
    return Error{origin + ": key '" + medium +
                 "': unknown medium (expected unknown, email, "
                 "social, search, paid or chatbot)"};
  }
  auto s = std::make_unique<RefererSource>();
  s->medium = std::move(medium);
  s->source = std::move(source);
  s->parameters = std::move(parameters);
  for (auto& d : domains) {
    // The first definition of a domain wins, as in the reference implementation's map build.
    by_key_.emplace(std::move(d), s.get());
  }
  sources_.push_back(std::move(s));
  version_ = g_next_referer_version.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status RefererDatabase::add_json(const rapidjson::Value& root, const std::string& origin) {
  if (!root.IsObject()) return Error{origin + ": expected an object of mediums"};
  for (const auto& medium : root.GetObject()) {
    std::string mname(medium.name.GetString(), medium.name.GetStringLength());
    if (!medium.value.IsObject()) {
      return Error{origin + ": key '" + mname + "': expected an object of sources"};
    }
    for (const auto& src : medium.value.GetObject()) {
      std::string sname(src.name.GetString(), src.name.GetStringLength());
      std::string where = origin + ": key '" + mname + "." + sname;
      if (!src.value.IsObject()) return Error{where + "': expected an object"};
      std::vector<std::string> domains, params;
      auto d = src.value.FindMember("domains");
      if (d == src.value.MemberEnd() || !d->value.IsArray()) {
        return Error{where + ".domains': required array is missing"};
      }
      for (const auto& v : d->value.GetArray()) {
        if (!v.IsString()) return Error{where + ".domains': expected strings"};
        domains.emplace_back(v.GetString(), v.GetStringLength());
      }
      auto p = src.value.FindMember("parameters");
      if (p != src.value.MemberEnd()) {
        if (!p->value.IsArray()) return Error{where + ".parameters': expected an array"};
        for (const auto& v : p->value.GetArray()) {
          if (!v.IsString()) return Error{where + ".parameters': expected strings"};
          params.emplace_back(v.GetString(), v.GetStringLength());
        }
      }
      if (auto s = add(mname, sname, std::move(domains), std::move(params), origin); !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<RefererDatabase>> RefererDatabase::from_text(std::string_view text,
                                                                    const std::string& origin) {
  auto db = std::make_shared<RefererDatabase>();
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
      return Error{origin + ": not valid JSON at offset " + std::to_string(doc.GetErrorOffset()) +
                   ": " + rapidjson::GetParseError_En(doc.GetParseError())};
    }
    if (auto s = db->add_json(doc, origin); !s.ok()) return s.error();
  } else {
    try {
      YAML::Node root = YAML::Load(std::string(text));
      if (!root.IsMap()) return Error{origin + ": expected a mapping of mediums"};
      for (const auto& medium : root) {
        std::string mname = medium.first.as<std::string>();
        if (!medium.second.IsMap()) {
          return Error{origin + ": key '" + mname + "': expected a mapping of sources"};
        }
        for (const auto& src : medium.second) {
          std::string sname = src.first.as<std::string>();
          std::string where = origin + ": key '" + mname + "." + sname;
          YAML::Node domains = src.second["domains"];
          if (!domains || !domains.IsSequence()) {
            return Error{where + ".domains': required list is missing"};
          }
          std::vector<std::string> ds, ps;
          for (const auto& d : domains) ds.push_back(d.as<std::string>());
          YAML::Node params = src.second["parameters"];
          if (params) {
            if (!params.IsSequence()) return Error{where + ".parameters': expected a list"};
            for (const auto& p : params) ps.push_back(p.as<std::string>());
          }
          if (auto s = db->add(mname, sname, std::move(ds), std::move(ps), origin); !s.ok()) {
            return s.error();
          }
        }
      }
    } catch (const YAML::Exception& e) {
      return Error{origin + ": not a valid referer database: " + e.what()};
    }
  }
  if (db->size() == 0) return Error{origin + ": the referer database is empty"};
  return db;
}

Result<std::shared_ptr<RefererDatabase>> RefererDatabase::from_file(
    const std::filesystem::path& path) {
  auto text = read_whole_file(path);
  if (!text.ok()) return text.error();
  return from_text(*text, path.string());
}

const RefererSource* RefererDatabase::lookup(std::string_view host, std::string_view path) const {
  thread_local std::string key;
  std::string_view paths[3];
  int npaths = 0;
  paths[npaths++] = path;
  {
    std::string_view p = path;
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    auto slash = p.find('/');
    if (!p.empty() && slash != std::string_view::npos) {
      // "/" + first non-empty segment, as a view into `path`.
      std::size_t start = static_cast<std::size_t>(p.data() - path.data()) - 1;
      paths[npaths++] = path.substr(start, slash + 1);
    }
  }
  if (!path.empty()) paths[npaths++] = std::string_view();
  for (int i = 0; i < npaths; ++i) {
    std::string_view h = host;
    while (!h.empty()) {
      key.assign(h.data(), h.size());
      key.append(paths[i].data(), paths[i].size());
      auto it = by_key_.find(key);
      if (it != by_key_.end()) return it->second;
      auto dot = h.find('.');
      if (dot == std::string_view::npos) break;
      h.remove_prefix(dot + 1);
    }
  }
  return nullptr;
}

namespace {

// Per-thread memo of lookups: kSlots direct-mapped entries keyed by (database version, host,
// path).
struct LookupMemo {
  static constexpr std::size_t kSlots = 256;
  struct Slot {
    uint64_t version = 0;  // 0 = empty
    std::size_t host_size = 0;
    std::string key;  // host + path
    const RefererSource* source = nullptr;
  };
  Slot slots[kSlots];
};

}  // namespace

const RefererSource* RefererDatabase::lookup_memoized(std::string_view host,
                                                      std::string_view path) const {
  thread_local std::unique_ptr<LookupMemo> memo;  // on the heap: ~12 KB
  if (!memo) memo = std::make_unique<LookupMemo>();
  const std::size_t h =
      std::hash<std::string_view>{}(host)*31 + std::hash<std::string_view>{}(path) + version_;
  LookupMemo::Slot& slot = memo->slots[(h * 0x9E3779B97F4A7C15ULL) >> 56];
  if (slot.version == version_ && slot.host_size == host.size() &&
      slot.key.size() == host.size() + path.size() &&
      std::string_view(slot.key).substr(0, host.size()) == host &&
      std::string_view(slot.key).substr(host.size()) == path) {
    return slot.source;
  }
  slot.source = lookup(host, path);
  slot.version = version_;
  slot.host_size = host.size();
  slot.key.assign(host);
  slot.key.append(path);
  return slot.source;
}

bool classify_referer(const RefererDatabase& db, std::string_view scheme, std::string_view host,
                      std::string_view path, std::string_view query, std::string_view page_host,
                      const std::vector<std::string>& internal_domains, RefererResult& out) {
  out.medium.clear();
  out.source.clear();
  out.term.clear();
  if (scheme != "http" && scheme != "https" && scheme != "android-app") return false;
  if (host.empty()) return false;
  if (host == page_host ||
      std::find(internal_domains.begin(), internal_domains.end(), host) != internal_domains.end()) {
    out.medium = "internal";
    return true;
  }
  const RefererSource* src = db.lookup_memoized(host, path);
  if (src == nullptr) {
    out.medium = "unknown";
    return true;
  }
  out.medium = src->medium;
  // The "unknown" section names sources only to prevent false positives; the medium stays
  // unknown with no source (scala-referer-parser 2.x behaviour, spec 9.4).
  if (src->medium == "unknown") return true;
  out.source = src->source;
  if (src->medium == "search" && !src->parameters.empty()) {
    thread_local std::string name;  // reused: no allocation per event once warm
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view part = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      auto eq = part.find('=');
      url_decode(part.substr(0, eq), name);
      if (std::find(src->parameters.begin(), src->parameters.end(), name) ==
          src->parameters.end()) {
        continue;
      }
      // The decoded value, each tab replaced by four spaces.
      if (eq != std::string_view::npos) url_decode(part.substr(eq + 1), out.term);
      if (out.term.find('\t') != std::string::npos) {
        std::string fixed;
        for (char c : out.term) {
          if (c == '\t') {
            fixed += "    ";
          } else {
            fixed += c;
          }
        }
        out.term = std::move(fixed);
      }
      break;
    }
  }
  return true;
}

void RefererParserEnrichment::apply(EventContext& ctx) const {
  auto& ev = ctx.event();
  // text(), not operator[]: these columns are views of the request or of the pipeline's URI
  // parser, which operator[] would copy into the event's strings.
  const std::string_view referrer = ev.text(event::Field::page_referrer);
  if (referrer.empty()) return;
  std::string_view scheme, host, path, query;
  if (ev.has(event::Field::refr_urlhost)) {
    scheme = ev.text(event::Field::refr_urlscheme);
    host = ev.text(event::Field::refr_urlhost);
    path = ev.text(event::Field::refr_urlpath);
    query = ev.text(event::Field::refr_urlquery);
  } else {
    split_url(referrer, scheme, host, path, query);
  }
  thread_local RefererResult r;
  if (!classify_referer(*db_, scheme, host, path, query, ev.text(event::Field::page_urlhost),
                        internal_, r)) {
    return;
  }
  // Swapped, not copied: the event's strings (cleared by classify_referer on the next event)
  // become the next event's buffers.
  ev[event::Field::refr_medium].swap(r.medium);
  ev[event::Field::refr_source].swap(r.source);
  ev[event::Field::refr_term].swap(r.term);
}

Result<std::shared_ptr<const Enrichment>> make_referer_parser(const EnrichmentConfig& c,
                                                              const LoadOptions& options) {
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s = check_keys(c, c.parameters, {"internalDomains", "database", "uri", "referrers"},
                          "data.parameters");
      !s.ok()) {
    return s.error();
  }
  auto internal =
      optional_string_array(c, c.parameters, "internalDomains", "data.parameters.internalDomains");
  if (!internal.ok()) return internal.error();
  if (!internal->has_value()) {
    return c.error("data.parameters.internalDomains", "required array is missing");
  }
  auto uri = optional_string(c, c.parameters, "uri", "data.parameters.uri");
  if (!uri.ok()) return uri.error();
  auto database = optional_string(c, c.parameters, "database", "data.parameters.database");
  if (!database.ok()) return database.error();
  auto inline_refs = optional_object(c, c.parameters, "referrers", "data.parameters.referrers");
  if (!inline_refs.ok()) return inline_refs.error();
  std::shared_ptr<RefererDatabase> db;
  if (uri->has_value() || database->has_value()) {
    if (!uri->has_value() || !database->has_value()) {
      return c.error("data.parameters", "'uri' and 'database' must be given together");
    }
    auto path = resolve_lookup(c, **uri, **database, "data.parameters", options);
    if (!path.ok()) return path.error();
    auto loaded = RefererDatabase::from_file(*path);
    if (!loaded.ok()) return c.error("data.parameters.database", loaded.error().message);
    db = std::move(*loaded);
  } else if (*inline_refs == nullptr) {
    return c.error("data.parameters.database", "required (or inline 'referrers')");
  } else {
    db = std::make_shared<RefererDatabase>();
  }
  if (*inline_refs != nullptr) {
    if (auto s = db->add_json(**inline_refs, c.file + " (data.parameters.referrers)"); !s.ok()) {
      return s.error();
    }
  }
  return std::shared_ptr<const Enrichment>(
      std::make_shared<RefererParserEnrichment>(std::move(db), std::move(**internal)));
}

}  // namespace furrow::enrich::enrichments
