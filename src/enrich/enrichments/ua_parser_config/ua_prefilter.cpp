#include "enrich/enrichments/ua_parser_config/ua_prefilter.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace furrow::enrich::enrichments {

namespace {

// Limits that keep the analysis small; exceeding one only drops information (stays sound).
constexpr std::size_t kMaxExact = 16;    // strings in a node's exact set
constexpr std::size_t kMaxClause = 256;  // strings in one clause
constexpr std::size_t kMinAtomLength = 2;
constexpr std::size_t kMaxClausesPerRule = 8;

char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// What is known of the texts one regex node matches.
struct Info {
  // The node matches exactly one of these strings (lower-cased), when has_exact.
  bool has_exact = false;
  std::vector<std::string> exact;
  // Every text the node matches contains, for each clause, one of its strings.
  std::vector<LiteralClause> cnf;

  static Info literal(std::string s) {
    Info i;
    i.has_exact = true;
    i.exact.push_back(std::move(s));
    return i;
  }
  static Info empty_string() { return literal(std::string()); }
  static Info unknown() { return Info(); }
};

// Dedupes a clause and drops strings that contain another string of the clause (implied).
// Returns false when the clause carries no information (a string too short, or too many).
bool normalize_clause(LiteralClause& c) {
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  if (c.empty() || c.size() > kMaxClause) return false;
  for (const auto& s : c) {
    if (s.size() < kMinAtomLength) return false;
  }
  std::stable_sort(c.begin(), c.end(),
                   [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  LiteralClause kept;
  for (const auto& s : c) {
    bool implied = false;
    for (const auto& k : kept) {
      if (s.find(k) != std::string::npos) {
        implied = true;
        break;
      }
    }
    if (!implied) kept.push_back(s);
  }
  c = std::move(kept);
  return true;
}

void add_clause(std::vector<LiteralClause>& cnf, LiteralClause c) {
  if (normalize_clause(c)) cnf.push_back(std::move(c));
}

// How selective a clause looks: longer shortest string first, then fewer strings.
bool better_clause(const LiteralClause& a, const LiteralClause& b) {
  std::size_t ma = a.front().size(), mb = b.front().size();  // normalized: shortest first
  if (ma != mb) return ma > mb;
  return a.size() < b.size();
}

class Analyzer {
 public:
  Analyzer(std::string_view p, bool icase) : p_(p), icase_(icase) {}

  bool run(Info& out) {
    out = alternation();
    return ok_ && i_ == p_.size();
  }

 private:
  bool at_end() const { return i_ >= p_.size(); }

  Info alternation() {
    std::vector<Info> branches;
    branches.push_back(concatenation());
    while (ok_ && !at_end() && p_[i_] == '|') {
      ++i_;
      branches.push_back(concatenation());
    }
    if (!ok_) return Info::unknown();
    if (branches.size() == 1) return std::move(branches.front());
    Info out;
    // Exact: the union, when every branch is exact and it stays small.
    bool all_exact = true;
    std::size_t total = 0;
    for (const auto& b : branches) {
      all_exact = all_exact && b.has_exact;
      total += b.exact.size();
    }
    if (all_exact && total <= kMaxExact) {
      out.has_exact = true;
      for (const auto& b : branches)
        out.exact.insert(out.exact.end(), b.exact.begin(), b.exact.end());
    }
    // Condition: each branch's best clause; their union holds for the alternation.
    LiteralClause merged;
    for (const auto& b : branches) {
      std::vector<LiteralClause> own = b.cnf;
      if (b.has_exact) add_clause(own, b.exact);
      if (own.empty()) return out;  // this branch needs no literal: no condition
      const LiteralClause* best = &own.front();
      for (const auto& c : own) {
        if (better_clause(c, *best)) best = &c;
      }
      merged.insert(merged.end(), best->begin(), best->end());
    }
    add_clause(out.cnf, std::move(merged));
    return out;
  }

  Info concatenation() {
    Info out;
    out.has_exact = true;
    out.exact.push_back(std::string());
    std::vector<std::string> run{std::string()};  // exact strings of the current literal run
    bool split = false;
    while (ok_ && !at_end() && p_[i_] != '|' && p_[i_] != ')') {
      Info item = repeat();
      if (!ok_) return Info::unknown();
      for (auto& c : item.cnf) out.cnf.push_back(std::move(c));
      if (item.has_exact) {
        std::vector<std::string> next;
        if (run.size() * item.exact.size() <= kMaxExact) {
          for (const auto& a : run) {
            for (const auto& b : item.exact) next.push_back(a + b);
          }
          run = std::move(next);
          continue;
        }
        add_clause(out.cnf, run);
        run = item.exact;
      } else {
        add_clause(out.cnf, run);
        run.assign(1, std::string());
      }
      split = true;
    }
    if (!ok_) return Info::unknown();
    if (split) {
      out.has_exact = false;
      out.exact.clear();
      add_clause(out.cnf, run);
    } else {
      out.exact = std::move(run);
    }
    return out;
  }

  // One atom and its quantifiers.
  Info repeat() {
    Info x = atom();
    while (ok_ && !at_end()) {
      char c = p_[i_];
      int lo = 0;
      bool bounded_zero = false;
      if (c == '*' || c == '?') {
        lo = 0;
        bounded_zero = c == '?';
        ++i_;
      } else if (c == '+') {
        lo = 1;
        ++i_;
      } else if (c == '{') {
        std::size_t j = i_ + 1;
        int n = 0, digits = 0;
        while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9' && digits < 6) {
          n = n * 10 + (p_[j] - '0');
          ++j;
          ++digits;
        }
        if (digits == 0) {
          ok_ = false;  // "{" as a literal: not worth understanding
          return Info::unknown();
        }
        if (j < p_.size() && p_[j] == ',') {
          ++j;
          while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') ++j;
        }
        if (j >= p_.size() || p_[j] != '}') {
          ok_ = false;
          return Info::unknown();
        }
        i_ = j + 1;
        lo = n;
      } else {
        break;
      }
      if (!at_end() && p_[i_] == '?') ++i_;  // non-greedy: same texts
      if (lo >= 1) {
        Info y;
        y.cnf = std::move(x.cnf);
        if (x.has_exact) add_clause(y.cnf, x.exact);
        x = std::move(y);
      } else if (bounded_zero && x.has_exact && x.exact.size() < kMaxExact) {
        x.exact.push_back(std::string());
        x.cnf.clear();
      } else {
        x = Info::unknown();
      }
    }
    return x;
  }

  // A literal character (or a whole UTF-8 sequence) as read from the pattern.
  Info literal_char(std::string bytes) {
    unsigned char c = static_cast<unsigned char>(bytes[0]);
    if (icase_) {
      // Only ASCII letters whose case folding stays in ASCII (not k, s) and non-letters.
      if (c >= 0x80) return Info::unknown();
      char l = lower_ascii(static_cast<char>(c));
      if (l == 'k' || l == 's') return Info::unknown();
    }
    if (icase_) bytes[0] = lower_ascii(bytes[0]);
    return Info::literal(std::move(bytes));
  }

  Info atom() {
    if (at_end()) {
      ok_ = false;
      return Info::unknown();
    }
    char c = p_[i_];
    switch (c) {
      case '(':
        return group();
      case '[':
        return char_class();
      case '.':
        ++i_;
        return Info::unknown();
      case '^':
      case '$':
        ++i_;
        return Info::empty_string();
      case '\\':
        return escape();
      case '*':
      case '+':
      case '?':
      case '{':
      case ')':
      case '|':
        ok_ = false;
        return Info::unknown();
      default:
        break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    std::size_t len = u < 0x80         ? 1
                      : (u >> 5) == 6  ? 2
                      : (u >> 4) == 14 ? 3
                      : (u >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i_ + len > p_.size()) {
      ok_ = false;
      return Info::unknown();
    }
    std::string bytes(p_.substr(i_, len));
    i_ += len;
    return literal_char(std::move(bytes));
  }

  Info escape() {
    if (i_ + 1 >= p_.size()) {
      ok_ = false;
      return Info::unknown();
    }
    char n = p_[i_ + 1];
    i_ += 2;
    unsigned char u = static_cast<unsigned char>(n);
    bool alnum = (n >= '0' && n <= '9') || (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z');
    if (u < 0x80 && !alnum) return literal_char(std::string(1, n));
    switch (n) {
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return Info::empty_string();
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        return Info::unknown();
      default:
        ok_ = false;  // \Q, \x, \p, \C, back-references, control escapes: not handled
        return Info::unknown();
    }
  }

  Info group() {
    ++i_;  // '('
    if (!at_end() && p_[i_] == '?') {
      if (p_.substr(i_, 2) == "?:") {
        i_ += 2;
      } else if (p_.substr(i_, 3) == "?P<") {
        std::size_t close = p_.find('>', i_);
        if (close == std::string_view::npos) {
          ok_ = false;
          return Info::unknown();
        }
        i_ = close + 1;
      } else if (icase_ && p_.substr(i_, 3) == "?i)") {
        // The rule is analysed as case-insensitive throughout (icase_), which also holds for
        // any case-sensitive part before these flags.
        i_ += 3;
        return Info::empty_string();
      } else if (icase_ && p_.substr(i_, 3) == "?i:") {
        i_ += 3;
      } else {
        ok_ = false;
        return Info::unknown();
      }
    }
    Info inner = alternation();
    if (!ok_ || at_end() || p_[i_] != ')') {
      ok_ = false;
      return Info::unknown();
    }
    ++i_;
    return inner;
  }

  // "[...]": exact when it is a short list of plain characters (no ranges, classes, negation).
  Info char_class() {
    ++i_;  // '['
    bool simple = !icase_;
    if (!at_end() && p_[i_] == '^') {
      simple = false;
      ++i_;
    }
    std::vector<std::string> chars;
    bool first = true;
    while (!at_end() && (p_[i_] != ']' || first)) {
      char c = p_[i_];
      first = false;
      if (c == '\\') {
        if (i_ + 1 >= p_.size()) break;
        char n = p_[i_ + 1];
        bool alnum = (n >= '0' && n <= '9') || (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z');
        if (static_cast<unsigned char>(n) >= 0x80 || alnum) {
          simple = false;
          if (n == 'x' || n == 'p' || n == 'P' || n == 'Q') {
            ok_ = false;  // escapes with arguments: not parsed here
            return Info::unknown();
          }
        } else {
          chars.emplace_back(1, n);
        }
        i_ += 2;
        continue;
      }
      if (c == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
        std::size_t close = p_.find(":]", i_ + 2);
        if (close == std::string_view::npos) break;
        simple = false;
        i_ = close + 2;
        continue;
      }
      if (c == '-' && !chars.empty() && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        simple = false;  // a range
      }
      if (static_cast<unsigned char>(c) >= 0x80) simple = false;
      chars.emplace_back(1, c);
      ++i_;
    }
    if (at_end()) {
      ok_ = false;
      return Info::unknown();
    }
    ++i_;  // ']'
    if (!simple) return Info::unknown();
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    if (chars.empty() || chars.size() > 4) return Info::unknown();
    Info out;
    out.has_exact = true;
    out.exact = std::move(chars);
    return out;
  }

  std::string_view p_;
  std::size_t i_ = 0;
  bool ok_ = true;
  bool icase_;
};

}  // namespace

LiteralCondition necessary_literals(std::string_view pattern) {
  LiteralCondition out;
  out.icase = pattern.find("(?i") != std::string_view::npos;
  Analyzer a(pattern, out.icase);
  Info root;
  if (!a.run(root)) return out;
  std::vector<LiteralClause> cnf = std::move(root.cnf);
  if (root.has_exact) add_clause(cnf, root.exact);
  // Keep the most selective few (dropping clauses only weakens the condition).
  std::sort(cnf.begin(), cnf.end());
  cnf.erase(std::unique(cnf.begin(), cnf.end()), cnf.end());
  std::stable_sort(cnf.begin(), cnf.end(), better_clause);
  if (cnf.size() > kMaxClausesPerRule) cnf.resize(kMaxClausesPerRule);
  out.clauses = std::move(cnf);
  return out;
}

std::unique_ptr<LiteralPrefilter> LiteralPrefilter::build(
    const std::vector<LiteralCondition>& conditions, std::string& error) {
  auto f = std::make_unique<LiteralPrefilter>();
  std::map<std::string, uint32_t> ids;
  std::vector<std::size_t> rule_uses;  // per atom: how many rules mention it
  // Atoms are keyed by their Set pattern: quoted, "(?i)" first when case-insensitive.
  auto key_of = [](const LiteralCondition& c, const std::string& s) {
    return (c.icase ? "(?i)" : "") + RE2::QuoteMeta(s);
  };
  auto id_of = [&](const std::string& key) {
    auto [it, fresh] = ids.emplace(key, static_cast<uint32_t>(ids.size()));
    if (fresh) rule_uses.push_back(0);
    return it->second;
  };
  // Atom ids, and how common each atom is across rules (a proxy for how often it occurs).
  for (const auto& cond : conditions) {
    std::vector<uint32_t> mentioned;
    for (const auto& clause : cond.clauses) {
      for (const auto& s : clause) mentioned.push_back(id_of(key_of(cond, s)));
    }
    std::sort(mentioned.begin(), mentioned.end());
    mentioned.erase(std::unique(mentioned.begin(), mentioned.end()), mentioned.end());
    for (uint32_t a : mentioned) ++rule_uses[a];
  }
  f->atom_count_ = ids.size();
  f->key_postings_.resize(ids.size());
  for (std::size_t r = 0; r < conditions.size(); ++r) {
    const auto& cnf = conditions[r].clauses;
    auto id = [&](const std::string& s) { return ids.at(key_of(conditions[r], s)); };
    RuleCondition rc;
    rc.first_clause = static_cast<uint32_t>(f->clauses_.size());
    rc.clause_count = static_cast<uint32_t>(cnf.size());
    // The key clause: the one whose atoms the fewest rules mention; it goes first.
    std::size_t key = 0, key_cost = SIZE_MAX;
    for (std::size_t c = 0; c < cnf.size(); ++c) {
      std::size_t cost = 0;
      for (const auto& s : cnf[c]) cost += rule_uses[id(s)];
      if (cost < key_cost) {
        key_cost = cost;
        key = c;
      }
    }
    for (std::size_t k = 0; k < cnf.size(); ++k) {
      std::size_t c = k == 0 ? key : (k == key ? 0 : k);
      uint32_t begin = static_cast<uint32_t>(f->clause_atoms_.size());
      for (const auto& s : cnf[c]) f->clause_atoms_.push_back(id(s));
      f->clauses_.emplace_back(begin, static_cast<uint32_t>(f->clause_atoms_.size()));
    }
    if (cnf.empty()) {
      f->always_.push_back(static_cast<int>(r));
    } else {
      const auto& [b, e] = f->clauses_[rc.first_clause];
      for (uint32_t k = b; k < e; ++k)
        f->key_postings_[f->clause_atoms_[k]].push_back(static_cast<int>(r));
    }
    f->rules_.push_back(rc);
  }
  if (!ids.empty()) {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(64 << 20);
    f->set_ = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
    std::vector<const std::string*> by_id(ids.size());
    for (const auto& [s, id] : ids) by_id[id] = &s;
    for (const std::string* s : by_id) {
      if (f->set_->Add(*s, &error) < 0) return nullptr;
    }
    if (!f->set_->Compile()) {
      error = "too many literal atoms for RE2::Set";
      return nullptr;
    }
  }
  return f;
}

void LiteralPrefilter::candidates(std::string_view text, Scratch& s, std::vector<int>& out) const {
  out.clear();
  s.hits.clear();
  RE2::Set::ErrorInfo info{RE2::Set::kNoError};
  if (set_ && !set_->Match(re2::StringPiece(text.data(), text.size()), &s.hits, &info) &&
      info.kind != RE2::Set::kNoError) {
    // The Set's DFA ran out of memory (not seen with uap-core): every rule is a candidate.
    for (std::size_t r = 0; r < rules_.size(); ++r) out.push_back(static_cast<int>(r));
    return;
  }
  const std::size_t words = (atom_count_ + 63) / 64;
  s.hit_bits.assign(words, 0);
  for (int a : s.hits) s.hit_bits[static_cast<std::size_t>(a) >> 6] |= uint64_t{1} << (a & 63);
  if (s.seen.size() != rules_.size()) s.seen.assign(rules_.size(), 0);
  if (++s.call == 0) {  // wrapped: forget every mark
    std::fill(s.seen.begin(), s.seen.end(), 0);
    s.call = 1;
  }
  auto hit = [&](uint32_t a) { return (s.hit_bits[a >> 6] >> (a & 63)) & 1; };
  for (int a : s.hits) {
    for (int r : key_postings_[static_cast<std::size_t>(a)]) {
      if (s.seen[static_cast<std::size_t>(r)] == s.call) continue;
      s.seen[static_cast<std::size_t>(r)] = s.call;
      // The key clause holds (atom a); check the others.
      const RuleCondition& rc = rules_[static_cast<std::size_t>(r)];
      bool all = true;
      for (uint32_t c = rc.first_clause + 1; all && c < rc.first_clause + rc.clause_count; ++c) {
        bool any = false;
        for (uint32_t k = clauses_[c].first; k < clauses_[c].second && !any; ++k)
          any = hit(clause_atoms_[k]);
        all = any;
      }
      if (all) out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end());
  // Merge in the rules without a condition (ascending, disjoint from `out`: a rule is either in
  // always_ or has a key clause), through the scratch vector: std::inplace_merge allocated a
  // temporary buffer on every call.
  if (!always_.empty()) {
    s.merged.resize(out.size() + always_.size());
    std::merge(out.begin(), out.end(), always_.begin(), always_.end(), s.merged.begin());
    out.swap(s.merged);
  }
}

}  // namespace furrow::enrich::enrichments
