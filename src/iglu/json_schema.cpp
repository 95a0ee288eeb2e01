#include "iglu/json_schema.h"

#include <arpa/inet.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <optional>
#include <regex>
#include <unordered_map>
#include <unordered_set>
#include <valijson/internal/uri.hpp>

#include "iglu/draft4_metaschema.h"
#include "iglu/fast_schema.h"
#include "iglu/valijson_glue.h"

namespace furrow::iglu {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// n decimal digits at s[pos..pos+n) as an int, or -1.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

// Bumped whenever a CompiledSchema is destroyed: per-thread caches keyed by constraint address
// are then dropped, so an address reused by a later schema never finds a stale regex.
std::atomic<uint64_t> g_schema_generation{0};

// A `pattern`, compiled once per thread: RE2 (linear time, no recursion, UTF-8 aware) when it
// accepts the pattern, otherwise std::regex (ECMAScript features RE2 lacks, e.g. lookahead).
struct CompiledPattern {
  std::unique_ptr<re2::RE2> re2;
  std::optional<std::regex> ecma;
};

struct PatternCache {
  uint64_t generation = 0;
  std::unordered_map<const void*, CompiledPattern> by_constraint;
};

}  // namespace

const CompiledPattern& pattern_for(const valijson::constraints::PatternConstraint& c) {
  thread_local PatternCache cache;
  uint64_t gen = g_schema_generation.load(std::memory_order_acquire);
  if (cache.generation != gen) {
    cache.by_constraint.clear();
    cache.generation = gen;
  }
  auto it = cache.by_constraint.find(&c);
  if (it != cache.by_constraint.end()) return it->second;
  std::string pattern = c.getPattern<std::string::allocator_type>();
  CompiledPattern compiled;
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(pattern, opts);
  if (re->ok()) {
    compiled.re2 = std::move(re);
  } else {
    compiled.ecma.emplace(pattern,
                          std::regex::ECMAScript);  // checked at compile time (precheck_schema)
  }
  return cache.by_constraint.emplace(&c, std::move(compiled)).first->second;
}

// A reusable per-thread buffer for string values (no allocation per check).
std::string& string_buffer() {
  thread_local std::string buf;
  return buf;
}

namespace {

// Each thread keeps its own compiled `pattern` regexes: valijson mutates the cache it is given.
std::unordered_map<std::string, std::regex>& regex_cache() {
  thread_local std::unordered_map<std::string, std::regex> cache;
  return cache;
}

// Checks what valijson would otherwise report only while validating: bad regexes and depth.
Status precheck_schema(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth)
    return Error{"schema nests deeper than " + std::to_string(kMaxJsonDepth)};
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string_view key(it->name.GetString(), it->name.GetStringLength());
      try {
        if (key == "pattern" && it->value.IsString()) {
          std::regex re(it->value.GetString(), std::regex::ECMAScript);
        } else if (key == "patternProperties" && it->value.IsObject()) {
          for (auto p = it->value.MemberBegin(); p != it->value.MemberEnd(); ++p) {
            std::regex re(p->name.GetString(), std::regex::ECMAScript);
          }
        }
      } catch (const std::regex_error& e) {
        return Error{"invalid regular expression in '" + std::string(key) + "': " + e.what()};
      }
      if (auto st = precheck_schema(it->value, depth + 1); !st) return st;
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (auto st = precheck_schema(e, depth + 1); !st) return st;
    }
  }
  return Status::Ok();
}

// ---- `id` scopes and `$ref` resolution -------------------------------------------------------
// valijson 1.0 resolves relative ids and location-independent identifiers ("#foo") incorrectly.
// Before compiling, furrow walks the schema (schema positions only, never inside enum/default
// values or property maps' keys), resolves every `id` and `$ref` to an absolute URI per RFC 3986,
// indexes the sub-schemas that carry an id, rewrites each `$ref` to its absolute form and renames
// `id` so that valijson sees only absolute references, which it fetches through the callback below
// (served from the index, the built-in meta-schema, or the caller's fetcher).

bool has_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return true;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

std::string strip_fragment(std::string_view s) {
  auto h = s.find('#');
  return std::string(s.substr(0, h));
}

std::string remove_dot_segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  bool absolute = !path.empty() && path[0] == '/';
  std::string seg;
  std::vector<std::string> segs;
  std::size_t start = absolute ? 1 : 0;
  for (i = start; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      segs.push_back(path.substr(start, i - start));
      start = i + 1;
    }
  }
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const auto& sgm = segs[k];
    bool last = k + 1 == segs.size();
    if (sgm == ".") {
      if (last) out.emplace_back();
    } else if (sgm == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.emplace_back();
    } else {
      out.push_back(sgm);
    }
  }
  std::string r = absolute ? "/" : "";
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (k > 0) r += "/";
    r += out[k];
  }
  return r;
}

// RFC 3986 §5.2 reference resolution (query handling simplified: a query stays with its path).
std::string resolve_uri(const std::string& base, const std::string& ref) {
  if (base.empty() || has_scheme(ref)) return ref;
  std::string b = strip_fragment(base);
  if (ref.empty()) return b;
  if (ref[0] == '#') return b + ref;
  auto colon = b.find(':');
  std::string scheme = colon == std::string::npos ? "" : b.substr(0, colon + 1);
  std::string rest = colon == std::string::npos ? b : b.substr(colon + 1);
  if (ref.size() > 1 && ref[0] == '/' && ref[1] == '/') return scheme + ref;
  std::string authority, path = rest;
  if (rest.compare(0, 2, "//") == 0) {
    auto slash = rest.find('/', 2);
    authority = rest.substr(0, slash);
    path = slash == std::string::npos ? "" : rest.substr(slash);
  }
  if (ref[0] == '/') return scheme + authority + remove_dot_segments(ref);
  if (ref[0] == '?') return scheme + authority + path.substr(0, path.find('?')) + ref;
  std::string merged;
  path = path.substr(0, path.find('?'));
  if (!authority.empty() && path.empty()) {
    merged = "/" + ref;
  } else {
    auto last = path.rfind('/');
    merged = (last == std::string::npos ? "" : path.substr(0, last + 1)) + ref;
  }
  std::string frag;
  auto h = merged.find('#');
  if (h != std::string::npos) {
    frag = merged.substr(h);
    merged.resize(h);
  }
  return scheme + authority + remove_dot_segments(merged) + frag;
}

class RefResolver {
 public:
  explicit RefResolver(const RemoteFetcher& fetch) : fetch_(fetch) {}

  // Prepares a document whose own URI is `base` (empty for the root schema).
  void prepare(rapidjson::Value& schema, rapidjson::Document::AllocatorType& alloc,
               const std::string& base) {
    collect(schema, base, 0);
    rewrite(schema, alloc, base, 0);
  }

  // The valijson fetch callback: serves indexed sub-schemas, the draft-4 meta-schema, or remote
  // documents (prepared the same way). Returns nullptr (valijson then throws) when unavailable.
  const rapidjson::Document* fetch(const std::string& uri) {
    const rapidjson::Value* node = nullptr;
    auto it = index_.find(uri);
    if (it != index_.end()) {
      node = it->second;
    } else {
      auto doc = std::make_unique<rapidjson::Document>();
      std::string text;
      if (strip_fragment(uri) == kDraft4MetaschemaUri) {
        text = std::string(kDraft4Metaschema);
      } else if (fetch_) {
        auto r = fetch_(uri);
        if (!r) {
          error_ = r.error().message;
          return nullptr;
        }
        text = std::move(*r);
      } else {
        error_ = "remote $ref " + uri + " is not allowed here";
        return nullptr;
      }
      doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
      if (doc->HasParseError() || !doc->IsObject() || !json_depth_within(*doc, kMaxJsonDepth) ||
          !precheck_schema(*doc, 0)) {
        error_ = "remote schema " + uri + " is not a valid JSON schema document";
        return nullptr;
      }
      prepare(*doc, doc->GetAllocator(), uri);
      index_[uri] = doc.get();
      node = doc.get();
      remote_.push_back(std::move(doc));
    }
    // The resolver keeps ownership (valijson's free callback is a no-op): valijson does not free
    // every document it fetched when parsing fails part-way.
    auto copy = std::make_unique<rapidjson::Document>();
    copy->CopyFrom(*node, copy->GetAllocator());
    served_.push_back(std::move(copy));
    return served_.back().get();
  }

  const std::string& error() const { return error_; }

  // A schema that can reach itself without descending into the instance ($ref chains, allOf,
  // anyOf, oneOf, not, schema dependencies) would make validation recurse forever: rejected.
  // Cycles through remote documents not yet fetched are not seen here.
  Status check_cycles(const rapidjson::Value& root) {
    std::vector<const rapidjson::Value*> all;
    gather(root, all, 0);
    std::unordered_map<const rapidjson::Value*, int> color;  // 1 = on the stack, 2 = done
    for (const auto* n : all) {
      if (color[n] == 0 && has_cycle(n, root, color, 0)) {
        return Error{"circular $ref: the schema refers to itself without descending into the data"};
      }
    }
    return Status::Ok();
  }

 private:
  // Scope of a schema node: its id resolved against the parent's scope (draft 4: an `id` beside a
  // `$ref` does not change the scope).
  std::string scope_of(const rapidjson::Value& node, const std::string& base) {
    if (node.HasMember("$ref")) return base;
    auto id = node.FindMember("id");
    if (id == node.MemberEnd() || !id->value.IsString()) return base;
    std::string abs = resolve_uri(base, id->value.GetString());
    auto h = abs.find('#');
    if (h == std::string::npos || h + 1 == abs.size()) return strip_fragment(abs);
    return base;  // "#name": an anchor, the scope is unchanged
  }

  template <class F>
  void for_each_subschema(rapidjson::Value& node, F&& f) {
    for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
      std::string_view key(m->name.GetString(), m->name.GetStringLength());
      rapidjson::Value& v = m->value;
      if (key == "properties" || key == "patternProperties" || key == "definitions") {
        if (v.IsObject()) {
          for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p) f(p->value);
        }
      } else if (key == "dependencies") {
        if (v.IsObject()) {
          for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p) {
            if (p->value.IsObject()) f(p->value);
          }
        }
      } else if (key == "items" || key == "allOf" || key == "anyOf" || key == "oneOf") {
        if (v.IsArray()) {
          for (auto& e : v.GetArray()) f(e);
        } else if (v.IsObject()) {
          f(v);
        }
      } else if (key == "additionalItems" || key == "additionalProperties" || key == "not") {
        if (v.IsObject()) f(v);
      }
    }
  }

  void collect(rapidjson::Value& node, const std::string& base, int depth) {
    if (!node.IsObject() || depth > kMaxJsonDepth) return;
    if (!node.HasMember("$ref")) {
      auto id = node.FindMember("id");
      if (id != node.MemberEnd() && id->value.IsString()) {
        std::string abs = resolve_uri(base, id->value.GetString());
        if (!abs.empty() && abs.back() == '#') abs.pop_back();
        index_.emplace(abs, &node);
      }
    }
    std::string scope = scope_of(node, base);
    for_each_subschema(node, [&](rapidjson::Value& child) { collect(child, scope, depth + 1); });
  }

  void rewrite(rapidjson::Value& node, rapidjson::Document::AllocatorType& alloc,
               const std::string& base, int depth) {
    if (!node.IsObject() || depth > kMaxJsonDepth) return;
    std::string scope = scope_of(node, base);
    auto ref = node.FindMember("$ref");
    if (ref != node.MemberEnd() && ref->value.IsString()) {
      std::string target = resolve_uri(base, ref->value.GetString());
      auto h = target.find('#');
      std::string frag = h == std::string::npos ? "" : target.substr(h + 1);
      if (!frag.empty() && frag[0] != '/') {
        // A location-independent identifier: point at the indexed sub-schema by a private URI.
        auto found = index_.find(target);
        if (found != index_.end()) {
          std::string alias = "urn:furrow:anchor:" + std::to_string(anchors_++);
          index_[alias] = found->second;
          target = alias;
        }
      } else if (!target.empty() && target.back() == '#') {
        target.pop_back();
        if (target.empty()) target = "#";
      }
      ref->value.SetString(target.data(), static_cast<rapidjson::SizeType>(target.size()), alloc);
    }
    auto id = node.FindMember("id");
    if (id != node.MemberEnd() && id->value.IsString())
      id->name.SetString("x-furrow-resolved-id", alloc);
    for_each_subschema(node,
                       [&](rapidjson::Value& child) { rewrite(child, alloc, scope, depth + 1); });
  }

  void gather(const rapidjson::Value& node, std::vector<const rapidjson::Value*>& out, int depth) {
    if (!node.IsObject() || depth > kMaxJsonDepth) return;
    out.push_back(&node);
    for_each_subschema(const_cast<rapidjson::Value&>(node),
                       [&](rapidjson::Value& child) { gather(child, out, depth + 1); });
  }

  // The node a (rewritten) $ref points at, when it is in this document or an indexed one.
  const rapidjson::Value* ref_target(const std::string& ref, const rapidjson::Value& root) {
    auto h = ref.find('#');
    std::string doc = ref.substr(0, h);
    std::string frag = h == std::string::npos ? "" : ref.substr(h + 1);
    const rapidjson::Value* base = &root;
    // As valijson resolves it (SchemaParser::resolveThenPopulateSchema): a document part that is
    // neither an absolute URI ("://") nor a URN is ignored, and the pointer is resolved in the
    // document being parsed. (Found by the iglu_validate fuzz target: a root "$ref" of a relative
    // name without '#' pointed valijson at the root itself, and it recursed until the stack ran
    // out.)
    if (!doc.empty() && !valijson::internal::uri::isUriAbsolute(doc) &&
        !valijson::internal::uri::isUrn(doc)) {
      doc.clear();
    }
    if (!doc.empty()) {
      auto it = index_.find(doc);
      if (it == index_.end()) return nullptr;
      base = it->second;
    }
    if (frag.empty()) return base;
    rapidjson::Pointer pointer(("#" + frag).c_str());
    return pointer.IsValid() ? pointer.Get(*base) : nullptr;
  }

  bool has_cycle(const rapidjson::Value* node, const rapidjson::Value& root,
                 std::unordered_map<const rapidjson::Value*, int>& color, int depth) {
    if (depth > 4 * kMaxJsonDepth) return true;
    color[node] = 1;
    std::vector<const rapidjson::Value*> next;
    auto ref = node->FindMember("$ref");
    if (ref != node->MemberEnd() && ref->value.IsString()) {
      const auto* t = ref_target(ref->value.GetString(), root);
      if (t != nullptr && t->IsObject()) next.push_back(t);
    } else {
      for (const char* k : {"allOf", "anyOf", "oneOf"}) {
        auto m = node->FindMember(k);
        if (m != node->MemberEnd() && m->value.IsArray()) {
          for (const auto& e : m->value.GetArray()) {
            if (e.IsObject()) next.push_back(&e);
          }
        }
      }
      auto n = node->FindMember("not");
      if (n != node->MemberEnd() && n->value.IsObject()) next.push_back(&n->value);
      auto d = node->FindMember("dependencies");
      if (d != node->MemberEnd() && d->value.IsObject()) {
        for (auto m = d->value.MemberBegin(); m != d->value.MemberEnd(); ++m) {
          if (m->value.IsObject()) next.push_back(&m->value);
        }
      }
    }
    for (const auto* c : next) {
      int col = color[c];
      if (col == 1) return true;
      if (col == 0 && has_cycle(c, root, color, depth + 1)) return true;
    }
    color[node] = 2;
    return false;
  }

  const RemoteFetcher& fetch_;
  std::unordered_map<std::string, const rapidjson::Value*> index_;
  std::deque<std::unique_ptr<rapidjson::Document>> remote_;
  std::deque<std::unique_ptr<rapidjson::Document>> served_;
  std::string error_;
  int anchors_ = 0;
};

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
  return "unknown";
}

bool simple_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '$') return false;
  }
  return true;
}

// valijson context ["<root>", "[a]", "[0]"] → JSONPath "$.a[0]"; also finds the value there.
std::string to_json_path(const std::vector<std::string>& context, const rapidjson::Value& data,
                         const rapidjson::Value** at) {
  std::string path = "$";
  const rapidjson::Value* cur = &data;
  for (std::size_t i = 1; i < context.size(); ++i) {
    const std::string& tok = context[i];
    std::string_view inner = tok;
    if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']')
      inner = inner.substr(1, inner.size() - 2);
    if (cur != nullptr && cur->IsArray()) {
      path += "[" + std::string(inner) + "]";
      std::size_t idx = 0;
      bool num = !inner.empty();
      for (char c : inner) {
        if (!is_digit(c))
          num = false;
        else
          idx = idx * 10 + static_cast<std::size_t>(c - '0');
      }
      cur = (num && idx < cur->Size()) ? &(*cur)[static_cast<rapidjson::SizeType>(idx)] : nullptr;
    } else {
      if (simple_name(inner)) {
        path += "." + std::string(inner);
      } else {
        path += "['" + std::string(inner) + "']";
      }
      if (cur != nullptr && cur->IsObject()) {
        auto m =
            cur->FindMember(rapidjson::Value(rapidjson::StringRef(inner.data(), inner.size())));
        cur = m != cur->MemberEnd() ? &m->value : nullptr;
      } else {
        cur = nullptr;
      }
    }
  }
  *at = cur;
  return path;
}

// Text between the last pair of single quotes, e.g. the property in "Missing required property
// 'x'."
std::string quoted(const std::string& s) {
  auto b = s.rfind('\'');
  if (b == std::string::npos || b == 0) return {};
  auto a = s.rfind('\'', b - 1);
  if (a == std::string::npos) return {};
  return s.substr(a + 1, b - a - 1);
}

bool starts(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

// Maps a valijson description to its draft-4 keyword. Empty keyword: an error that only
// repeats a child failure (reported on its own), which iglu reports leave out.
std::string keyword_of(const std::string& d) {
  if (starts(d, "Value type not permitted")) return "type";
  if (starts(d, "Missing required property")) return "required";
  if (starts(d, "Object contains a property that could not be validated"))
    return "additionalProperties";
  if (starts(d, "Array contains more items than allowed") || starts(d, "Cannot validate item #"))
    return "additionalItems";
  if (starts(d, "Failed to match against any enum")) return "enum";
  if (starts(d, "Expected number less than")) return "maximum";
  if (starts(d, "Expected number greater than")) return "minimum";
  if (starts(d, "Array should contain no more")) return "maxItems";
  if (starts(d, "Array should contain no fewer")) return "minItems";
  if (starts(d, "String should be no more")) return "maxLength";
  if (starts(d, "String should be no fewer")) return "minLength";
  if (starts(d, "Object should have no more")) return "maxProperties";
  if (starts(d, "Object should have no fewer")) return "minProperties";
  if (starts(d, "Value should be a multiple") || starts(d, "Value could not be converted"))
    return "multipleOf";
  if (starts(d, "Failed to match regex specified by 'pattern'")) return "pattern";
  if (starts(d, "Elements at indexes")) return "uniqueItems";
  if (starts(d, "Missing dependency") || starts(d, "Failed to validate against dependent"))
    return "dependencies";
  if (starts(d, "Target should not validate against schema specified in 'not'")) return "not";
  if (starts(d, "Failed to validate against any schemas allowed by anyOf")) return "anyOf";
  if (starts(d, "Failed to validate against any child schemas allowed by oneOf") ||
      starts(d, "Failed to validate against exactly one child schema"))
    return "oneOf";
  if (starts(d, "String is not a valid ")) return "format";
  return {};
}

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

struct CompiledSchema::Impl {
  valijson::Schema schema;
  // The allocation-free checker for schemas within its keyword subset (most Iglu schemas);
  // nullptr otherwise. Reads doc_.
  std::unique_ptr<const FastSchema> fast;
};

CompiledSchema::CompiledSchema() : impl_(std::make_unique<Impl>()) {}
CompiledSchema::~CompiledSchema() {
  g_schema_generation.fetch_add(1, std::memory_order_acq_rel);
}

Result<CompiledSchemaPtr> CompiledSchema::compile(const rapidjson::Value& schema,
                                                  const RemoteFetcher& fetch) {
  if (!schema.IsObject()) return Error{"a JSON schema must be an object"};
  if (auto st = precheck_schema(schema, 0); !st) return st.error();
  auto out = std::make_shared<CompiledSchema>();
  out->doc_.CopyFrom(schema, out->doc_.GetAllocator());
  // valijson reads a prepared working copy; doc_ keeps the schema as written.
  rapidjson::Document work;
  work.CopyFrom(schema, work.GetAllocator());
  RefResolver resolver(fetch);
  resolver.prepare(work, work.GetAllocator(), "");
  if (auto st = resolver.check_cycles(work); !st) return st.error();
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft4);
  valijson::adapters::RapidJsonAdapter adapter(work);
  try {
    auto fetch_doc = [&](const std::string& uri) { return resolver.fetch(uri); };
    auto free_doc = [](const rapidjson::Document*) {};
    parser.populateSchema(adapter, out->impl_->schema, fetch_doc, free_doc);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (!resolver.error().empty()) msg += " (" + resolver.error() + ")";
    return Error{"invalid JSON schema: " + msg};
  }
  out->impl_->fast = FastSchema::compile(out->doc_);
  return CompiledSchemaPtr(std::move(out));
}

Result<CompiledSchemaPtr> CompiledSchema::compile_text(std::string_view schema_json,
                                                       const RemoteFetcher& fetch) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(schema_json.data(), schema_json.size());
  if (doc.HasParseError()) {
    return Error{std::string("schema is not valid JSON: ") +
                 rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                 std::to_string(doc.GetErrorOffset())};
  }
  return compile(doc, fetch);
}

bool CompiledSchema::is_valid(const rapidjson::Value& data) const {
  if (impl_->fast) return json_depth_within(data, kMaxJsonDepth) && impl_->fast->is_valid(data);
  return is_valid_general(data);
}

bool CompiledSchema::has_fast_path() const {
  return impl_->fast != nullptr;
}

bool CompiledSchema::is_valid_general(const rapidjson::Value& data) const {
  if (!json_depth_within(data, kMaxJsonDepth)) return false;
  valijson::adapters::RapidJsonAdapter target(data);
  try {
    // Without results valijson never reads the context: an empty one costs no allocation.
    valijson::ValidationVisitor<valijson::adapters::RapidJsonAdapter> v(
        target, std::vector<std::string>(), true, nullptr, regex_cache());
    return v.validateSchema(impl_->schema);
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<DataReport> CompiledSchema::validate(const rapidjson::Value& data) const {
  std::vector<DataReport> reports;
  if (!json_depth_within(data, kMaxJsonDepth)) {
    reports.push_back({"$: JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                       "$",
                       "maxDepth",
                       {std::to_string(kMaxJsonDepth)}});
    return reports;
  }
  valijson::adapters::RapidJsonAdapter target(data);
  valijson::ValidationResults results;
  bool ok = false;
  try {
    valijson::ValidationVisitor<valijson::adapters::RapidJsonAdapter> v(
        target, std::vector<std::string>(1, "<root>"), true, &results, regex_cache());
    ok = v.validateSchema(impl_->schema);
  } catch (const std::exception& e) {
    reports.push_back({std::string("$: validation failed: ") + e.what(), "$", "", {}});
    return reports;
  }
  if (ok) return reports;
  valijson::ValidationResults::Error err;
  while (results.popError(err)) {
    std::string keyword = keyword_of(err.description);
    if (keyword.empty()) continue;
    const rapidjson::Value* at = nullptr;
    DataReport r;
    r.path = to_json_path(err.context, data, &at);
    r.keyword = keyword;
    if (keyword == "required" || keyword == "additionalProperties" || keyword == "dependencies") {
      std::string name = quoted(err.description);
      if (!name.empty()) r.targets.push_back(name);
    } else if (keyword == "type" && at != nullptr) {
      r.targets.push_back(type_name(*at));
    }
    if (keyword == "type" && at != nullptr) {
      r.message = r.path + ": " + type_name(*at) + " found, not allowed by 'type'";
    } else {
      r.message = r.path + ": " + lower_first(err.description);
    }
    reports.push_back(std::move(r));
  }
  if (reports.empty()) reports.push_back({"$: does not match the schema", "$", "", {}});
  return reports;
}

bool json_depth_within(const rapidjson::Value& v, int max_depth) {
  if (!v.IsObject() && !v.IsArray()) return true;
  if (max_depth <= 0) return false;
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (!json_depth_within(it->value, max_depth - 1)) return false;
    }
  } else {
    for (const auto& e : v.GetArray()) {
      if (!json_depth_within(e, max_depth - 1)) return false;
    }
  }
  return true;
}

// RFC 3339 date-time: 1985-04-12T23:20:50.52Z, 1996-12-19T16:39:57-08:00; 'T'/'Z' in any case.
bool is_date_time(std::string_view s) {
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || s.size() < 20) return false;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't')) return false;
  if (day > days_in_month(year, month)) return false;
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (s[13] != ':' || s[16] != ':' || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60)
    return false;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return false;
  } else {
    if (s[pos] != '+' && s[pos] != '-') return false;
    int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (pos + 6 != s.size() || s[pos + 3] != ':' || oh < 0 || oh > 23 || om < 0 || om > 59)
      return false;
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
  }
  // A leap second exists only at 23:59:60 UTC.
  if (second == 60) {
    int utc = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    return utc == 23 * 60 + 59;
  }
  return true;
}

// A pragmatic RFC 5322 addr-spec check: one '@', a non-empty local part without spaces or
// unbalanced dots, and a valid host name.
bool is_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  char prev = 0;
  for (char c : local) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '@' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"')
      return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    std::string_view lit = domain.substr(1, domain.size() - 2);
    if (lit.substr(0, 5) == "IPv6:") return is_ipv6(lit.substr(5));
    return is_ipv4(lit);
  }
  return is_hostname(domain);
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1-63 characters each, not
// starting or ending with '-', 253 characters at most.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    if (c == '-' && label == 0) return false;
    if (++label > 63) return false;
  }
  return label > 0 && s.back() != '-';
}

// Dotted quad, no leading zeros (inet_pton: exactly four decimal octets 0-255).
bool is_ipv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  char buf[16];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  in_addr addr{};
  return ::inet_pton(AF_INET, buf, &addr) == 1;
}

// RFC 4291 text forms, including :: compression and a trailing dotted quad; no zone id.
bool is_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  char buf[46];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  in6_addr addr{};
  return ::inet_pton(AF_INET6, buf, &addr) == 1;
}

// RFC 3986 absolute URI: scheme ":" then only URI characters (unreserved, reserved, %HH).
bool is_uri(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(s[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  static constexpr std::string_view kAllowed = "-._~:/?#[]@!$&'()*+,;=";
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
      continue;
    }
    if (!is_alpha(c) && !is_digit(c) && kAllowed.find(c) == std::string_view::npos) return false;
  }
  // Brackets only delimit an IP literal host; a port is digits only; userinfo has no brackets.
  std::string_view rest = s.substr(colon + 1);
  std::string_view after = rest;
  if (rest.substr(0, 2) == "//") {
    std::string_view auth = rest.substr(2);
    auto end = auth.find_first_of("/?#");
    after = end == std::string_view::npos ? std::string_view() : auth.substr(end);
    auth = auth.substr(0, end);
    auto at = auth.rfind('@');
    if (at != std::string_view::npos) {
      if (auth.substr(0, at).find_first_of("[]") != std::string_view::npos) return false;
      auth = auth.substr(at + 1);
    }
    std::string_view port;
    if (!auth.empty() && auth.front() == '[') {
      auto close = auth.find(']');
      if (close == std::string_view::npos) return false;
      std::string_view lit = auth.substr(1, close - 1);
      if (!is_ipv6(lit) && !(lit.size() > 1 && (lit[0] == 'v' || lit[0] == 'V'))) return false;
      std::string_view tail = auth.substr(close + 1);
      if (!tail.empty()) {
        if (tail[0] != ':') return false;
        port = tail.substr(1);
      }
    } else {
      if (auth.find_first_of("[]") != std::string_view::npos) return false;
      auto pc = auth.rfind(':');
      if (pc != std::string_view::npos) port = auth.substr(pc + 1);
    }
    for (char c : port) {
      if (!is_digit(c)) return false;
    }
  }
  return after.find_first_of("[]") == std::string_view::npos;
}

std::string iglu_path_of_url(const std::string& uri) {
  std::string u = strip_fragment(uri);
  auto at = u.rfind("/schemas/");
  if (at == std::string::npos) return {};
  std::string path = u.substr(at + 9);
  int slashes = 0;
  for (char c : path) slashes += c == '/' ? 1 : 0;
  return slashes == 3 ? path : std::string();
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace furrow::iglu

namespace valijson {

// Draft 4: `format` constrains strings only; other types pass. Unknown formats pass.
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::FormatConstraint& constraint) {
  if (!m_target.isString()) return true;
  const std::string& format = constraint.getFormat();
  bool (*check)(std::string_view) = nullptr;
  if (format == "date-time") {
    check = &furrow::iglu::is_date_time;
  } else if (format == "email") {
    check = &furrow::iglu::is_email;
  } else if (format == "hostname") {
    check = &furrow::iglu::is_hostname;
  } else if (format == "ipv4") {
    check = &furrow::iglu::is_ipv4;
  } else if (format == "ipv6") {
    check = &furrow::iglu::is_ipv6;
  } else if (format == "uri") {
    check = &furrow::iglu::is_uri;
  } else {
    return true;
  }
  std::string& s = furrow::iglu::string_buffer();
  m_target.getString(s);
  if (check(s)) return true;
  if (m_results != nullptr) m_results->pushError(m_context, "String is not a valid " + format);
  return false;
}

// `pattern`: an unanchored search, as draft 4 (ECMA 262) defines it; strings only.
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::PatternConstraint& constraint) {
  if (!m_target.isString()) return true;
  const auto& compiled = furrow::iglu::pattern_for(constraint);
  std::string& s = furrow::iglu::string_buffer();
  m_target.getString(s);
  bool ok = compiled.re2 ? re2::RE2::PartialMatch(s, *compiled.re2)
                         : std::regex_search(s, *compiled.ecma);
  if (!ok && m_results != nullptr) {
    m_results->pushError(m_context, "Failed to match regex specified by 'pattern' constraint.");
  }
  return ok;
}

// `multipleOf` with a fractional divisor: valijson compares the remainder with machine epsilon
// in absolute terms, so 49.98 is "not a multiple of 0.01". Here the quotient must be within a
// relative 1e-9 of an integer (JSON numbers are decimal; doubles only approximate them).
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::MultipleOfDoubleConstraint& constraint) {
  if (!m_target.isNumber()) return true;
  double d = 0;
  if (m_target.isInteger()) {
    int64_t i = 0;
    m_target.asInteger(i);
    d = static_cast<double>(i);
  } else {
    m_target.asDouble(d);
  }
  const double divisor = constraint.getDivisor();
  if (d == 0 || divisor == 0) return true;
  const double q = d / divisor;
  bool ok = std::isfinite(q)
                ? std::fabs(q - std::nearbyint(q)) <= 1e-9 * std::max(1.0, std::fabs(q))
                : true;
  if (!ok && m_results != nullptr) {
    m_results->pushError(m_context, "Value should be a multiple of " + std::to_string(divisor));
  }
  return ok;
}

}  // namespace valijson
