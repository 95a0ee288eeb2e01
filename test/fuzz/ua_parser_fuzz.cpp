// Fuzz target for the user-agent parser: the first byte chooses what the rest is.
//   even: a user agent, parsed with a small built-in rule set in uap-core's format;
//   odd:  a regexes.yaml document, loaded (must fail cleanly or parse a probe string).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enrich/enrichments/ua_parser_config/ua_rules.h"

namespace {

using furrow::enrich::enrichments::ParsedUserAgent;
using furrow::enrich::enrichments::UserAgentRules;

// Our own small rules exercising replacements, $N substitution and case-insensitive devices.
constexpr const char* kRules = R"(user_agent_parsers:
  - regex: '(Firefox)/(\d+)\.(\d+)(?:\.(\d+))?'
  - regex: '(?:Chrome|CriOS)/(\d+)\.(\d+)\.(\d+)'
    family_replacement: 'Chrome'
    v1_replacement: '$1'
  - regex: 'Version/(\d+)\.(\d+)(?:\.(\d+))? (?:Mobile/\S+ )?Safari/'
    family_replacement: 'Safari $1'
  - regex: '(bot|crawler|spider)[/ ]?(\d+)?'
os_parsers:
  - regex: 'Windows NT (\d+)\.(\d+)'
    os_replacement: 'Windows'
  - regex: '(?:iPhone|CPU) OS (\d+)_(\d+)(?:_(\d+))?'
    os_replacement: 'iOS'
    os_v1_replacement: '$1'
  - regex: '(Android)[ /](\d+)(?:\.(\d+))?'
device_parsers:
  - regex: '(iPhone|iPad|iPod)'
    device_replacement: '$1'
    brand_replacement: 'Apple'
  - regex: 'Android [^;]+; ([^;)]+?)(?: Build|\))'
    regex_flag: 'i'
    device_replacement: '$1'
    model_replacement: '$1'
  - regex: '(bot|crawler|spider)'
    regex_flag: 'i'
    device_replacement: 'Spider'
)";

const UserAgentRules& rules() {
  static auto r = UserAgentRules::from_yaml(kRules, "fuzz-rules");
  if (!r.ok()) __builtin_trap();
  return **r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    ParsedUserAgent p = rules().parse(rest);
    if (p.ua.family.empty() || p.os.family.empty() || p.device.family.empty()) __builtin_trap();
    return 0;
  }
  (void)furrow::enrich::enrichments::translate_pcre(rest);
  auto loaded = UserAgentRules::from_yaml(rest, "fuzz-input");
  if (loaded.ok()) (void)(*loaded)->parse("Mozilla/5.0 (iPhone; CPU iPhone OS 14_3) Chrome/1.2.3");
  return 0;
}
