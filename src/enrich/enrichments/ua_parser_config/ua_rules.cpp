#include "enrich/enrichments/ua_parser_config/ua_rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

namespace {

// Which YAML keys feed the five output slots of each section.
constexpr const char* kUaKeys[5] = {"family_replacement", "v1_replacement", "v2_replacement",
                                    "v3_replacement", "v4_replacement"};
constexpr const char* kOsKeys[5] = {"os_replacement", "os_v1_replacement", "os_v2_replacement",
                                    "os_v3_replacement", "os_v4_replacement"};
constexpr const char* kDeviceKeys[5] = {"device_replacement", "brand_replacement",
                                        "model_replacement", nullptr, nullptr};

// The capture group each slot reads when the rule has no replacement (0 = none): uap-core's
// defaults ($1..$5 for user agents and OSes; family and model = $1, no brand for devices).
constexpr int kUaDefaultGroups[5] = {1, 2, 3, 4, 5};
constexpr int kDeviceDefaultGroups[5] = {1, 0, 1, 0, 0};

RE2::Options rule_options() {
  RE2::Options o;
  o.set_log_errors(false);
  // The rule set is large; give each compiled program and the shared DFA room.
  o.set_max_mem(64 << 20);
  return o;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Expands $1..$9 in `tmpl` from the groups (a group that did not take part is empty).
void substitute(std::string_view tmpl, const re2::StringPiece* groups, int ngroups,
                std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
      int g = tmpl[i + 1] - '0';
      if (g < ngroups && groups[g].data() != nullptr)
        out.append(groups[g].data(), groups[g].size());
      ++i;
    } else {
      out.push_back(c);
    }
  }
  std::string_view t = trim_ws(out);
  if (t.size() != out.size()) out = std::string(t);
}

// Slot value: the replacement when the rule has one, else capture group `group` (if any).
void slot_value(const UserAgentRules::Rule& rule, int slot, int group,
                const re2::StringPiece* groups, int ngroups, std::string& out) {
  if (rule.has[slot]) {
    substitute(rule.repl[slot], groups, ngroups, out);
    return;
  }
  out.clear();
  if (group > 0 && group < ngroups && groups[group].data() != nullptr) {
    std::string_view v = trim_ws(std::string_view(groups[group].data(), groups[group].size()));
    out.assign(v.data(), v.size());
  }
}

// 1 + the highest $N in a replacement template (1 when it uses no group).
int template_groups(std::string_view tmpl) {
  int n = 1;
  for (std::size_t i = 0; i + 1 < tmpl.size(); ++i) {
    if (tmpl[i] == '$' && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
      n = std::max(n, tmpl[i + 1] - '0' + 1);
      ++i;
    }
  }
  return n;
}

// The lead of a guardable pattern: its "(?i)" prefix (if any), then "; {0,2}" (returned as
// ";") or "^"; `rest` is what follows the ';' or '^'. Empty when the pattern has neither or has
// a '|' outside every group (then the lead is not in front of every match).
std::string_view guard_lead(std::string_view pattern, bool& icase, std::string_view& rest) {
  icase = pattern.substr(0, 4) == "(?i)";
  std::string_view p = pattern.substr(icase ? 4 : 0);
  std::string_view lead;
  if (p.substr(0, 7) == "; {0,2}") {
    lead = ";";
  } else if (p.substr(0, 1) == "^") {
    lead = "^";
  } else {
    return {};
  }
  rest = p.substr(1);
  int depth = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      // Skip the class: a ']' first (or after '^') is a literal; escapes are skipped.
      std::size_t j = i + 1;
      if (j < rest.size() && rest[j] == '^') ++j;
      if (j < rest.size() && rest[j] == ']') ++j;
      while (j < rest.size() && rest[j] != ']') j += rest[j] == '\\' ? 2 : 1;
      if (j >= rest.size()) return {};
      i = j;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return {};
    } else if (c == '|' && depth == 0) {
      return {};
    }
  }
  return depth == 0 ? lead : std::string_view();
}

// Groups the section's rules by lead (consecutive in file order, up to kGuardRules each) and
// compiles each group's guard: lead + "(?:" + "(?i:rest)" or "(?:rest)" per rule + ")". Each
// alternative keeps its own case flag and the lead has no letters, so the guard matches a text
// exactly when one of the group's rules does. A guard that does not compile (not expected) is
// left out: its rules are then tested one by one.
void build_guards(const std::vector<std::string>& patterns, const RE2::Options& opts,
                  UserAgentRules::Section& section) {
  RE2::Options guard_opts = opts;
  guard_opts.set_never_capture(true);
  section.guard_of.assign(patterns.size(), -1);
  struct Open {
    std::vector<std::size_t> rules;
    std::string body;
  };
  Open open[2];  // by lead: ';' and '^'
  auto close = [&](Open& g, std::string_view lead) {
    if (g.rules.size() >= 2 &&
        section.guards.size() < static_cast<std::size_t>(UserAgentRules::kMaxGuards)) {
      auto re = std::make_unique<RE2>(std::string(lead) + "(?:" + g.body + ")", guard_opts);
      if (re->ok()) {
        for (std::size_t r : g.rules) {
          section.guard_of[r] = static_cast<int16_t>(section.guards.size());
        }
        section.guards.push_back(std::move(re));
      }
    }
    g.rules.clear();
    g.body.clear();
  };
  for (std::size_t r = 0; r < patterns.size(); ++r) {
    bool icase = false;
    std::string_view rest;
    const std::string_view lead = guard_lead(patterns[r], icase, rest);
    if (lead.empty()) continue;
    Open& g = open[lead == ";" ? 0 : 1];
    if (!g.rules.empty()) g.body += '|';
    g.body += icase ? "(?i:" : "(?:";
    g.body += lead == ";" ? rest.substr(0) : rest;
    g.body += ')';
    g.rules.push_back(r);
    if (g.rules.size() == static_cast<std::size_t>(UserAgentRules::kGuardRules)) close(g, lead);
  }
  close(open[0], ";");
  close(open[1], "^");
}

// Adds the rules of section `name` to `section` and their prefilter conditions to `conditions`.
// `default_groups` gives, per slot, the capture group used when the rule has no replacement
// (0 = none).
Status load_section(const YAML::Node& root, const char* name, const char* const keys[5],
                    const int default_groups[5], const std::string& origin,
                    std::vector<LiteralCondition>& conditions, UserAgentRules::Section& section) {
  YAML::Node list = root[name];
  if (!list || !list.IsSequence()) {
    return Error{origin + ": key '" + name + "': expected a list of rules"};
  }
  RE2::Options opts = rule_options();
  std::size_t index = 0;
  std::vector<std::string> patterns;  // as compiled, per rule
  for (const auto& item : list) {
    std::string where = origin + ": key '" + name + "[" + std::to_string(index) + "]";
    if (!item.IsMap() || !item["regex"] || !item["regex"].IsScalar()) {
      return Error{where + ".regex': required string is missing"};
    }
    std::string pattern = translate_pcre(item["regex"].Scalar());
    if (item["regex_flag"] && item["regex_flag"].IsScalar() && item["regex_flag"].Scalar() == "i") {
      pattern = "(?i)" + pattern;
    }
    UserAgentRules::Rule rule;
    rule.re = std::make_unique<RE2>(pattern, opts);
    if (!rule.re->ok()) {
      return Error{where + ".regex': does not compile with RE2: " + rule.re->error()};
    }
    int needed = 1;
    for (int s = 0; s < 5; ++s) {
      if (keys[s] == nullptr) continue;
      YAML::Node r = item[keys[s]];
      if (r && r.IsScalar()) {
        rule.repl[s] = r.Scalar();
        rule.has[s] = true;
        needed = std::max(needed, template_groups(rule.repl[s]));
      } else {
        needed = std::max(needed, default_groups[s] + 1);
      }
    }
    rule.groups_needed = std::min(needed, rule.re->NumberOfCapturingGroups() + 1);
    if (rule.groups_needed > 1) {
      int bound = 0;
      std::string relaxed = relax_counted_repeats(pattern, bound);
      if (relaxed != pattern) {
        auto re = std::make_unique<RE2>(relaxed, opts);
        // A relaxed copy that fails to compile (not expected) is simply not used.
        if (re->ok() && re->NumberOfCapturingGroups() == rule.re->NumberOfCapturingGroups()) {
          rule.relaxed = std::move(re);
          rule.relaxed_bound = bound;
        }
      }
    }
    conditions.push_back(necessary_literals(pattern));
    section.rules.push_back(std::move(rule));
    patterns.push_back(std::move(pattern));
    ++index;
  }
  build_guards(patterns, opts, section);
  return Status::Ok();
}

}  // namespace

std::string translate_pcre(std::string_view p) {
  // uap-core writes its rules for PCRE-like engines. Translated here:
  //  - "\Z" / "\z" (end of input) → "$" (RE2 without multi-line mode: end of text).
  //  - "(?<name>" named groups → "(?P<name>".
  //  - atomic groups "(?>" → "(?:" and possessive quantifiers "*+", "++", "?+" → greedy ones:
  //    without backtracking the two mean the same for a DFA.
  //  - "\/" and other escaped punctuation are valid RE2 and kept.
  // Lookaround and back-references have no RE2 equivalent; rules using them fail to load with a
  // clear message (the current uap-core rules use none).
  std::string out;
  out.reserve(p.size());
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (!in_class && (n == 'Z' || n == 'z')) {
        out += '$';
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') {
        out += '^';
        ++i;
      }
      if (i + 1 < p.size() && p[i + 1] == ']') {
        out += "\\]";
        ++i;
      }
      continue;
    }
    if (c == '(' && p.substr(i, 3) == "(?>") {
      out += "(?:";
      i += 2;
      continue;
    }
    if (c == '(' && p.substr(i, 3) == "(?<" && i + 3 < p.size() && p[i + 3] != '=' &&
        p[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    if (c == '+' && !out.empty() &&
        (out.back() == '*' || out.back() == '+' || out.back() == '?' || out.back() == '}')) {
      // Possessive quantifier: drop the '+', unless the previous char was an escaped literal.
      bool escaped = out.size() >= 2 && out[out.size() - 2] == '\\';
      if (!escaped) continue;
    }
    out += c;
  }
  return out;
}

std::string relax_counted_repeats(std::string_view p, int& bound) {
  bound = std::numeric_limits<int>::max();
  // \Q...\E quotes its text: leave such patterns alone rather than parse the quoting.
  if (p.find("\\Q") != std::string_view::npos) return std::string(p);
  std::string out;
  out.reserve(p.size());
  // True while the last thing copied is a complete atom that always takes exactly one
  // character: only such an atom's "{n,m}" may be relaxed.
  bool single = false;
  auto digits = [&](std::size_t& j, int& value) {
    std::size_t start = j;
    value = 0;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9' && j - start < 6) {
      value = value * 10 + (p[j] - '0');
      ++j;
    }
    return j > start;
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      out += c;
      out += n;
      ++i;
      // Character escapes (\d, \w, \s, \., \/ ...) take one character; assertions (\b, \A,
      // \z), back-references and escapes with arguments (\p{..}, \x{..}, \Q..\E, \C) do not
      // count.
      single = std::string_view("123456789bBAzZpPxQEC").find(n) == std::string_view::npos;
      continue;
    }
    if (c == '[') {
      // Copy the whole class (escapes inside included).
      out += c;
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') out += p[j++];
      if (j < p.size() && p[j] == ']') out += p[j++];
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\' && j + 1 < p.size()) {
          out += p[j++];
          out += p[j++];
          continue;
        }
        if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          // [:alpha:] inside a class
          std::size_t close = p.find(":]", j + 2);
          if (close == std::string_view::npos) break;
          out.append(p.substr(j, close + 2 - j));
          j = close + 2;
          continue;
        }
        out += p[j++];
      }
      if (j >= p.size()) return std::string(p);  // unterminated class: not ours to fix
      out += ']';
      i = j;
      single = true;
      continue;
    }
    if (c == '{' && single) {
      std::size_t j = i + 1;
      int lo = 0, hi = 0;
      if (digits(j, lo) && j < p.size() && p[j] == ',') {
        ++j;
        const std::size_t lower_end = j;  // just after "n,"
        if (digits(j, hi) && j < p.size() && p[j] == '}' && hi >= kMinRelaxedBound && lo <= hi) {
          out.append(p.substr(i, lower_end - i));  // "{n,"
          out += '}';
          bound = std::min(bound, hi);
          i = j;
          single = false;
          continue;
        }
      }
      out += c;
      single = false;
      continue;
    }
    out += c;
    // A plain character or "." is a one-character atom; operators, groups, anchors are not.
    single = std::string_view("()|*+?{}^$").find(c) == std::string_view::npos;
  }
  return out;
}

int UserAgentRules::first_match(const Section& sec, const std::vector<int>& candidates,
                                std::string_view text, re2::StringPiece* groups, int max_groups,
                                int& ngroups, bool use_guards) {
  const int lo = sec.base;
  const int hi = sec.base + static_cast<int>(sec.rules.size());
  // Candidates are ascending: skip to this section's range, then try its rules in file order.
  auto it = std::lower_bound(candidates.begin(), candidates.end(), lo);
  re2::StringPiece sp(text.data(), text.size());
  // Per guard: how many of this section's candidates it covers (then 0xFF once it failed).
  uint8_t state[kMaxGuards] = {};
  if (use_guards) {
    for (auto c = it; c != candidates.end() && *c < hi; ++c) {
      const int g = sec.guard_of[static_cast<std::size_t>(*c - lo)];
      if (g >= 0 && state[g] < 2) ++state[g];
    }
  }
  for (; it != candidates.end() && *it < hi; ++it) {
    const int index = *it - lo;
    const int g = use_guards ? sec.guard_of[static_cast<std::size_t>(index)] : -1;
    if (g >= 0) {
      if (state[g] == 0xFF) continue;  // the guard failed: no rule of its group matches
      // One guard test instead of the group's candidate tests, when it has at least two left
      // (with one, the guard would only add a test).
      if (state[g] >= 2) {
        if (!sec.guards[static_cast<std::size_t>(g)]->Match(sp, 0, sp.size(), RE2::UNANCHORED,
                                                            nullptr, 0)) {
          state[g] = 0xFF;
          continue;
        }
        state[g] = 1;  // it matched: test the group's candidates one by one
      }
    }
    const Rule& rule = sec.rules[static_cast<std::size_t>(index)];
    // Only RE2's DFAs test a candidate: a rule whose slots read no group is tested without
    // groups; the others ask for the match span (forward and reverse DFA; one call less for the
    // winner than a test followed by a span search, same cost on a miss). The winner's groups,
    // only those its slots read, are then those of the best parse of exactly that span: what RE2
    // computes internally, without its whole-text capturing engines.
    int n = std::min(max_groups, rule.groups_needed);
    if (n <= 1) {
      if (!rule.re->Match(sp, 0, sp.size(), RE2::UNANCHORED, nullptr, 0)) continue;
      ngroups = 1;
      groups[0] = re2::StringPiece();
      return *it - lo;
    }
    re2::StringPiece span;
    if (!rule.re->Match(sp, 0, sp.size(), RE2::UNANCHORED, &span, 1)) continue;
    const std::size_t begin = static_cast<std::size_t>(span.data() - sp.data());
    const RE2& capture = rule.relaxed && span.size() <= static_cast<std::size_t>(rule.relaxed_bound)
                             ? *rule.relaxed
                             : *rule.re;
    if (capture.Match(sp, begin, begin + span.size(), RE2::ANCHOR_BOTH, groups, n)) {
      ngroups = n;
      return *it - lo;
    }
    // Not reached (the span matched); kept as the plain path.
    if (rule.re->Match(sp, 0, sp.size(), RE2::UNANCHORED, groups, n)) {
      ngroups = n;
      return *it - lo;
    }
  }
  return -1;
}

Result<std::shared_ptr<const UserAgentRules>> UserAgentRules::from_yaml(std::string_view yaml,
                                                                        const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error{origin + ": not valid YAML: " + e.what()};
  }
  if (!root.IsMap()) return Error{origin + ": expected a YAML mapping of rule sections"};
  auto rules = std::make_shared<UserAgentRules>();
  std::vector<LiteralCondition> conditions;  // per rule, in prefilter id order
  try {
    if (auto s = load_section(root, "user_agent_parsers", kUaKeys, kUaDefaultGroups, origin,
                              conditions, rules->ua_);
        !s.ok()) {
      return s.error();
    }
    rules->os_.base = static_cast<int>(rules->ua_.rules.size());
    if (auto s = load_section(root, "os_parsers", kOsKeys, kUaDefaultGroups, origin, conditions,
                              rules->os_);
        !s.ok()) {
      return s.error();
    }
    rules->device_.base = rules->os_.base + static_cast<int>(rules->os_.rules.size());
    if (auto s = load_section(root, "device_parsers", kDeviceKeys, kDeviceDefaultGroups, origin,
                              conditions, rules->device_);
        !s.ok()) {
      return s.error();
    }
  } catch (const YAML::Exception& e) {
    return Error{origin + ": malformed rules: " + e.what()};
  }
  std::string error;
  rules->prefilter_ = LiteralPrefilter::build(conditions, error);
  if (!rules->prefilter_) return Error{origin + ": prefilter: " + error};
  return std::shared_ptr<const UserAgentRules>(std::move(rules));
}

Result<std::shared_ptr<const UserAgentRules>> UserAgentRules::from_file(
    const std::filesystem::path& path) {
  auto text = read_whole_file(path);
  if (!text.ok()) return text.error();
  return from_yaml(*text, path.string());
}

std::size_t UserAgentRules::rule_count() const {
  return ua_.rules.size() + os_.rules.size() + device_.rules.size();
}

std::size_t UserAgentRules::guard_count() const {
  return ua_.guards.size() + os_.guards.size() + device_.guards.size();
}

void UserAgentRules::parse(std::string_view user_agent, ParsedUserAgent& out) const {
  parse_impl(user_agent, out, true);
}

void UserAgentRules::parse_unguarded(std::string_view user_agent, ParsedUserAgent& out) const {
  parse_impl(user_agent, out, false);
}

void UserAgentRules::parse_impl(std::string_view user_agent, ParsedUserAgent& out,
                                bool use_guards) const {
  if (user_agent.size() > kMaxUserAgentLength)
    user_agent = user_agent.substr(0, kMaxUserAgentLength);
  constexpr int kMaxGroups = 10;
  re2::StringPiece groups[kMaxGroups];

  // One prefilter pass for the three sections. Per-thread scratch: no allocation once warm.
  thread_local LiteralPrefilter::Scratch scratch;
  thread_local std::vector<int> candidates;
  prefilter_->candidates(user_agent, scratch, candidates);  // ascending rule ids

  auto run = [&](const Section& sec, auto&& fill) {
    int n = 0;
    int idx = first_match(sec, candidates, user_agent, groups, kMaxGroups, n, use_guards);
    if (idx < 0) return false;
    fill(sec.rules[static_cast<std::size_t>(idx)], n);
    return true;
  };

  auto& ua = out.ua;
  if (!run(ua_, [&](const Rule& r, int n) {
        slot_value(r, 0, 1, groups, n, ua.family);
        slot_value(r, 1, 2, groups, n, ua.major);
        slot_value(r, 2, 3, groups, n, ua.minor);
        slot_value(r, 3, 4, groups, n, ua.patch);
        slot_value(r, 4, 5, groups, n, ua.patch_minor);
      })) {
    ua.major.clear();
    ua.minor.clear();
    ua.patch.clear();
    ua.patch_minor.clear();
    ua.family.clear();
  }
  if (ua.family.empty()) ua.family = "Other";

  auto& os = out.os;
  if (!run(os_, [&](const Rule& r, int n) {
        slot_value(r, 0, 1, groups, n, os.family);
        slot_value(r, 1, 2, groups, n, os.major);
        slot_value(r, 2, 3, groups, n, os.minor);
        slot_value(r, 3, 4, groups, n, os.patch);
        slot_value(r, 4, 5, groups, n, os.patch_minor);
      })) {
    os.family.clear();
    os.major.clear();
    os.minor.clear();
    os.patch.clear();
    os.patch_minor.clear();
  }
  if (os.family.empty()) os.family = "Other";

  auto& dev = out.device;
  if (!run(device_, [&](const Rule& r, int n) {
        slot_value(r, 0, 1, groups, n, dev.family);
        slot_value(r, 1, 0, groups, n, dev.brand);
        slot_value(r, 2, 1, groups, n, dev.model);
      })) {
    dev.family.clear();
    dev.brand.clear();
    dev.model.clear();
  }
  if (dev.family.empty()) dev.family = "Other";
}

UserAgentCache::UserAgentCache(std::size_t capacity)
    : capacity_(capacity), per_shard_(std::max<std::size_t>(1, capacity / kShards)) {}

UserAgentCache::Shard& UserAgentCache::shard_for(std::string_view ua) {
  return shards_[std::hash<std::string_view>{}(ua) % kShards];
}

bool UserAgentCache::get(std::string_view ua, ParsedUserAgent& out) {
  Shard& s = shard_for(ua);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(ua);
  if (it == s.index.end()) return false;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  out = it->second->second;
  return true;
}

void UserAgentCache::put(std::string_view ua, const ParsedUserAgent& value) {
  Shard& s = shard_for(ua);
  std::lock_guard lock(s.mu);
  if (s.index.count(ua) != 0) return;
  s.lru.emplace_front(std::string(ua), value);
  s.index.emplace(std::string_view(s.lru.front().first), s.lru.begin());
  while (s.lru.size() > per_shard_) {
    s.index.erase(std::string_view(s.lru.back().first));
    s.lru.pop_back();
  }
}

UserAgentParser::UserAgentParser(std::shared_ptr<const UserAgentRules> rules,
                                 std::size_t cache_size)
    : rules_(std::move(rules)) {
  if (cache_size > 0) cache_ = std::make_unique<UserAgentCache>(cache_size);
}

namespace {

thread_local uint64_t t_rule_parses = 0;

// The parse one event's enrichments share (see parse_for_event).
struct EventParse {
  std::string ua;  // the text parsed (cut to kMaxUserAgentLength)
  ParsedUserAgent parsed;
};

}  // namespace

void UserAgentParser::parse(std::string_view ua, ParsedUserAgent& out) const {
  if (ua.size() > kMaxUserAgentLength) ua = ua.substr(0, kMaxUserAgentLength);
  if (cache_ && cache_->get(ua, out)) return;
  ++t_rule_parses;
  rules_->parse(ua, out);
  if (cache_) cache_->put(ua, out);
}

const ParsedUserAgent& UserAgentParser::parse_for_event(EventContext& ctx,
                                                        std::string_view ua) const {
  if (ua.size() > kMaxUserAgentLength) ua = ua.substr(0, kMaxUserAgentLength);
  thread_local EventParse slot;
  EventContext::SharedResult& shared = ctx.shared_result();
  // Only this event's own entry, from this parser, for exactly this text (an enrichment running
  // in between may have changed the event's user agent).
  if (shared.key == this && shared.value == &slot && slot.ua == ua) return slot.parsed;
  parse(ua, slot.parsed);
  slot.ua.assign(ua);
  shared.key = this;
  shared.value = &slot;
  return slot.parsed;
}

uint64_t UserAgentParser::thread_rule_parses() {
  return t_rule_parses;
}

}  // namespace furrow::enrich::enrichments
