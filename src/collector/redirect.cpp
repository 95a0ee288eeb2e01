#include "collector/redirect.h"

#include "common/strings.h"

namespace furrow::collector {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

int find_query_param(std::string_view query, std::string_view name, std::string_view& raw) {
  int count = 0;
  if (name.empty() || name.find_first_of("&=") != std::string_view::npos) {
    // Pair by pair (such names can only match the way the split defines).
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      auto eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      if (key == name) {
        if (count == 0)
          raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        ++count;
      }
    }
    return count;
  }
  // Hot path (nuid on every request): look for the name itself, then check that it is a whole
  // key: at the start or after '&', followed by '=', '&' or the end. Same result as the split.
  for (std::size_t pos = query.find(name); pos != std::string_view::npos;
       pos = query.find(name, pos + 1)) {
    const std::size_t end = pos + name.size();
    if (pos != 0 && query[pos - 1] != '&') continue;
    if (end != query.size() && query[end] != '=' && query[end] != '&') continue;
    if (count == 0) {
      if (end < query.size() && query[end] == '=') {
        std::string_view rest = query.substr(end + 1);
        raw = rest.substr(0, rest.find('&'));
      } else {
        raw = {};
      }
    }
    ++count;
  }
  return count;
}

bool redirect_target_allowed(std::string_view target, const std::vector<std::string>& allowed_hosts,
                             std::string& reason) {
  if (allowed_hosts.empty()) {
    reason = "no redirect hosts are allowed";
    return false;
  }
  // Plain printable ASCII only: no whitespace, controls (CR, LF, NUL, TAB), DEL or non-ASCII.
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      reason = "target contains whitespace, control or non-ASCII characters";
      return false;
    }
    if (c == '\\') {
      reason = "target contains a backslash";
      return false;
    }
  }
  std::size_t scheme_len;
  if (starts_with_icase(target, "https://")) {
    scheme_len = 8;
  } else if (starts_with_icase(target, "http://")) {
    scheme_len = 7;
  } else {
    reason = "target is not an absolute http or https URL";
    return false;
  }
  std::string_view rest = target.substr(scheme_len);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    reason = "target has user info";
    return false;
  }
  if (authority.find('%') != std::string_view::npos) {
    reason = "target host is percent-encoded";
    return false;
  }
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) {
      reason = "malformed IP literal";
      return false;
    }
    std::string_view after = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!after.empty() && after.front() != ':') {
      reason = "malformed authority";
      return false;
    }
    authority = after;  // ":port" or empty, checked below
  } else {
    auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      authority = host.substr(colon);
      host = host.substr(0, colon);
    } else {
      authority = {};
    }
  }
  if (!authority.empty()) {  // ":port"
    std::string_view port = authority.substr(1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      reason = "malformed port";
      return false;
    }
  }
  if (host.empty()) {
    reason = "target has no host";
    return false;
  }
  if (host.back() == '.') {
    reason = "target host ends with a dot";
    return false;
  }
  for (const auto& allowed : allowed_hosts) {
    if (equals_icase(host, allowed)) return true;
  }
  reason = "host '" + std::string(host) + "' is not in the redirect allow-list";
  return false;
}

}  // namespace furrow::collector
