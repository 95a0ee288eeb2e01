// A literal prefilter for the uap-core rules: for each rule, a necessary condition on the literal
// strings a matching user agent must contain, derived from the rule's regex, and an index that
// gives, from the strings found in one user agent, the rules that may match it (in file order).
//
// Why not RE2's FilteredRE2: its AllPotentials allocates and sorts on every call (~14k
// instructions per user agent, a quarter of an uncached parse), and its prefilter gives up on
// long alternations such as the device rules' "; {0,2}(A651|A701B?|...)(?: Build|\) AppleWebKit)",
// keeping only the common " build" / ") applewebkit" atoms, so ~14 device rules per WebKit user
// agent are tried with a full-text DFA scan and fail. Here an alternation of literals becomes
// one clause of all its literals, which those user agents rarely contain.
#pragma once

#include <re2/set.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::enrich::enrichments {

// One clause: the text contains at least one of these strings.
using LiteralClause = std::vector<std::string>;

// A conjunction of clauses; empty = no condition. When icase, the strings are lower-case and a
// text "contains" one when it contains it case-insensitively.
struct LiteralCondition {
  bool icase = false;
  std::vector<LiteralClause> clauses;
};

// A necessary condition for `pattern` (RE2 syntax) to match somewhere in a text T: for every
// clause, T contains at least one of its strings. Sound for every pattern RE2 accepts: whatever
// the analysis does not understand yields no condition (never a wrong one). A pattern with
// "(?i" anywhere is analysed as case-insensitive throughout, using only characters whose RE2
// case folding stays within ASCII (not k and s, which fold to U+212A and U+017F, nor non-ASCII).
LiteralCondition necessary_literals(std::string_view pattern);

class LiteralPrefilter {
 public:
  // conditions[r] = necessary_literals of rule r.
  static std::unique_ptr<LiteralPrefilter> build(const std::vector<LiteralCondition>& conditions,
                                                 std::string& error);

  // Per-thread scratch of candidates(); reused between calls (no allocation once warm).
  struct Scratch {
    std::vector<int> hits;
    std::vector<uint64_t> hit_bits;
    std::vector<uint32_t> seen;  // per rule: the call number that last added it
    std::vector<int> merged;     // candidates() merges the unconditional rules in here
    uint32_t call = 0;
  };
  // The rules whose condition `text` satisfies, ascending, into `out`.
  void candidates(std::string_view text, Scratch& scratch, std::vector<int>& out) const;

  std::size_t atom_count() const { return atom_count_; }

 private:
  struct RuleCondition {
    // Clauses as ranges of atom ids in clause_atoms_: [begin, end) per clause.
    uint32_t first_clause = 0, clause_count = 0;
  };
  std::size_t atom_count_ = 0;
  std::unique_ptr<RE2::Set> set_;
  std::vector<RuleCondition> rules_;
  std::vector<std::pair<uint32_t, uint32_t>> clauses_;  // [begin, end) into clause_atoms_
  std::vector<uint32_t> clause_atoms_;
  // Per atom: the rules whose key clause (the one checked first) contains it.
  std::vector<std::vector<int>> key_postings_;
  // Rules with no condition: candidates for every text (ascending).
  std::vector<int> always_;
};

}  // namespace furrow::enrich::enrichments
