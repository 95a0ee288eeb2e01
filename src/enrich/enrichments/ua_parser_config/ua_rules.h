// uap-core user-agent rules (regexes.yaml) evaluated with RE2: a linear-time engine, so no user
// agent can make parsing slow (no backtracking). Semantics follow uap-core's specification: in
// each section (user_agent_parsers, os_parsers, device_parsers) the first rule, in file order,
// whose regex matches anywhere in the string wins; replacements substitute $1..$9; empty results
// are null; an unmatched family is "Other".
//
// Speed: one LiteralPrefilter (ua_prefilter.h) holds the rules of all three sections: a
// necessary condition on the literal strings each rule's matches contain, the strings of all
// rules in one RE2::Set, so a single DFA pass over the user agent gives the candidate rules of
// every section; each section then tries only its candidates, in file order, with a match test
// that needs no capture groups (RE2's DFA alone). Groups are extracted for the winner only, and
// only as many as its replacements and default slots use (none for a rule such as "Mac OS"): its
// match span first (DFA only), then the groups by an anchored match over that span. RE2's own
// unanchored capturing match ran its slow engines (NFA, or BitState from every start position)
// over the whole user agent: 7-18 us for rules such as "(iPod|iPhone|iPad).{1,200}Version/...".
// Counted repeats of one character ("x{n,m}" with m >= kMinRelaxedBound, e.g. ".{1,200}") blow up
// the program RE2 runs for the groups, so each rule also keeps a copy with those bounds dropped
// ("x{n,}"); it extracts the groups whenever the span is at most the smallest dropped bound,
// where no such repeat can reach its bound and both regexes parse the span identically.
// (A plain RE2::Set over the full rules was measured at milliseconds per string: its many-match
// DFA states are huge.) User agents longer than kMaxUserAgentLength bytes are cut to that length
// before matching.
//
// PCRE constructs RE2 lacks are translated when the rules load (see translate_pcre and
// docs/enrichments.md); a rule that still does not compile is a start-up error naming it.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <atomic>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "enrich/enrichment.h"
#include "enrich/enrichments/ua_parser_config/ua_prefilter.h"

namespace furrow::enrich::enrichments {

inline constexpr std::size_t kMaxUserAgentLength = 2048;

// Parse result. Empty strings are null.
struct ParsedUserAgent {
  struct Agent {
    std::string family = "Other";
    std::string major, minor, patch, patch_minor;
  } ua;
  struct Os {
    std::string family = "Other";
    std::string major, minor, patch, patch_minor;
  } os;
  struct Device {
    std::string family = "Other";
    std::string brand, model;
  } device;
};

// Rewrites PCRE-only syntax into RE2 syntax. Returns the translated pattern (unchanged when
// nothing needed translating).
std::string translate_pcre(std::string_view pattern);

// Counted repeats with an upper bound below this are kept as they are (cheap to expand).
inline constexpr int kMinRelaxedBound = 8;

// `pattern` (RE2 syntax) with the upper bound dropped from every counted repeat "x{n,m}" of a
// single-character atom x (".", a class, a literal, an escape such as \d) whose m >=
// kMinRelaxedBound. `bound` is set to the smallest m dropped (INT_MAX when none was). On a text of
// at most `bound` characters the result has exactly the matches and groups of `pattern`: each
// iteration of such an atom takes one character, so no repeat can exceed the text's length.
std::string relax_counted_repeats(std::string_view pattern, int& bound);

class UserAgentRules {
 public:
  // Loads regexes.yaml text; `origin` names it in errors.
  static Result<std::shared_ptr<const UserAgentRules>> from_yaml(std::string_view yaml,
                                                                 const std::string& origin);
  static Result<std::shared_ptr<const UserAgentRules>> from_file(const std::filesystem::path& path);

  // Thread-safe; never throws.
  void parse(std::string_view user_agent, ParsedUserAgent& out) const;
  ParsedUserAgent parse(std::string_view user_agent) const {
    ParsedUserAgent p;
    parse(user_agent, p);
    return p;
  }

  std::size_t rule_count() const;
  // Guards compiled over all sections (see Section::guards).
  std::size_t guard_count() const;

  struct Rule {
    std::unique_ptr<RE2> re;
    // Replacement templates; `has` says whether the rule set it (else a capture group is used).
    std::string repl[5];
    bool has[5] = {false, false, false, false, false};
    // 1 + the highest capture group the slots read (1 = only the match test is needed).
    int groups_needed = 1;
    // relax_counted_repeats(re) when it differs and groups are needed, else nullptr; it
    // extracts the groups of spans of at most relaxed_bound characters.
    std::unique_ptr<RE2> relaxed;
    int relaxed_bound = 0;
  };
  struct Section {
    std::vector<Rule> rules;
    // Index of this section's first rule in the shared prefilter.
    int base = 0;
    // Guards: rules that begin with the same lead ("; {0,2}" or "^", after an optional "(?i)")
    // are grouped, up to kGuardRules consecutive ones in file order, and each group gets one
    // test-only regex: the lead, then the alternation of the rules' remainders. A text it does
    // not match matches none of the group's rules, so the group's candidates are skipped after
    // one failed test instead of failing one test each; keeping the lead in front keeps RE2's
    // first-byte acceleration (memchr for ';') that the single rules have.
    std::vector<std::unique_ptr<RE2>> guards;
    std::vector<int16_t> guard_of;  // per rule: its index in guards, or -1
  };
  // Rules per guard. The device section's failing candidates for browser user agents are mostly
  // "; {0,2}(model)(?: Build|\\) AppleWebKit)" rules a few dozen apart in file order.
  static constexpr int kGuardRules = 32;
  // At most this many guards per section are used (first_match keeps their state on the stack).
  static constexpr int kMaxGuards = 128;

  // parse() without the guards: every candidate tested on its own (the straightforward path,
  // kept for tests that compare the two).
  void parse_unguarded(std::string_view user_agent, ParsedUserAgent& out) const;

 private:
  // The first rule of `sec` that matches, or -1; on a match `groups` holds its capture groups
  // ([0] = whole match; only the first `ngroups` are set). `candidates` are prefilter ids
  // (ascending) of all sections.
  static int first_match(const Section& sec, const std::vector<int>& candidates,
                         std::string_view text, re2::StringPiece* groups, int max_groups,
                         int& ngroups, bool use_guards);
  void parse_impl(std::string_view user_agent, ParsedUserAgent& out, bool use_guards) const;

  Section ua_, os_, device_;
  // Prefilter over every rule of the three sections (ids: ua_ rules, then os_, then device_).
  std::unique_ptr<LiteralPrefilter> prefilter_;
};

// A bounded, thread-safe LRU cache of parse results keyed by the user-agent string. Sharded so
// that worker threads rarely wait on each other.
class UserAgentCache {
 public:
  explicit UserAgentCache(std::size_t capacity);
  // Copies a cached result into `out`; false on a miss.
  bool get(std::string_view ua, ParsedUserAgent& out);
  void put(std::string_view ua, const ParsedUserAgent& value);
  std::size_t capacity() const { return capacity_; }

 private:
  struct Shard {
    std::mutex mu;
    std::list<std::pair<std::string, ParsedUserAgent>> lru;  // most recent first
    std::unordered_map<std::string_view,
                       std::list<std::pair<std::string, ParsedUserAgent>>::iterator>
        index;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_for(std::string_view ua);
  std::size_t capacity_;
  std::size_t per_shard_;
  Shard shards_[kShards];
};

// Rules plus an optional cache: what both ua_parser_config and user_agent_utils_config use.
class UserAgentParser {
 public:
  UserAgentParser(std::shared_ptr<const UserAgentRules> rules, std::size_t cache_size);
  void parse(std::string_view ua, ParsedUserAgent& out) const;
  const UserAgentRules& rules() const { return *rules_; }
  // True when results are cached (cache_size > 0); users may then keep derived results too.
  bool cached() const { return cache_ != nullptr; }
  // The parse of `ua` for the event of `ctx`, shared by the enrichments of that one event that
  // ask this parser about the same user agent text (iab_spiders_and_robots_enrichment,
  // user_agent_utils_config, ua_parser_config): parse() runs once, into per-thread storage that
  // ctx.shared_result() then points to. Every EventContext starts with an empty slot, so no
  // result reaches another event: with the cache off each event still has its own parse. The
  // reference is valid until this thread's next call with another event or user agent.
  const ParsedUserAgent& parse_for_event(EventContext& ctx, std::string_view ua) const;
  // How many times this thread has evaluated the rules (a parse that the cache did not answer),
  // through any parser: for tests counting parses per event.
  static uint64_t thread_rule_parses();

 private:
  std::shared_ptr<const UserAgentRules> rules_;
  std::unique_ptr<UserAgentCache> cache_;
};

}  // namespace furrow::enrich::enrichments
