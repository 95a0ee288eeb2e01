#include "collector/config.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <limits>

#include "collector/ip.h"
#include "common/uuid.h"

namespace furrow::collector {
namespace {

// Walks one mapping; every key must be handled by `on_key` or it is reported as unknown.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string where, std::string prefix)
      : node_(node), where_(std::move(where)), prefix_(std::move(prefix)) {}

  Status each(
      const std::function<Status(const std::string& key, const YAML::Node& value)>& on_key) {
    if (!node_.IsMap())
      return err(prefix_.empty() ? "collector" : prefix_.substr(0, prefix_.size() - 1),
                 "must be a mapping");
    for (const auto& kv : node_) {
      std::string key = kv.first.as<std::string>();
      Status st = on_key(key, kv.second);
      if (!st.ok()) return st;
    }
    return {};
  }

  Error err(const std::string& key, const std::string& what) const {
    return Error{where_ + ": " + key + ": " + what};
  }
  std::string path(const std::string& key) const { return prefix_ + key; }

  template <class T>
  Status get(const std::string& key, const YAML::Node& v, T& out) {
    try {
      out = v.as<T>();
      return {};
    } catch (const YAML::Exception&) {
      return err(path(key), "invalid value '" +
                                (v.IsScalar() ? v.Scalar() : std::string("<non-scalar>")) + "'");
    }
  }

  Status get_int(const std::string& key, const YAML::Node& v, int64_t& out, int64_t lo,
                 int64_t hi) {
    int64_t x;
    Status st = get(key, v, x);
    if (!st.ok()) return st;
    if (x < lo || x > hi) {
      return err(path(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    out = x;
    return {};
  }

  Status get_size(const std::string& key, const YAML::Node& v, std::size_t& out,
                  std::size_t lo = 0) {
    int64_t x;
    Status st =
        get_int(key, v, x, static_cast<int64_t>(lo), std::numeric_limits<int64_t>::max() / 2);
    if (st.ok()) out = static_cast<std::size_t>(x);
    return st;
  }

  Status get_list(const std::string& key, const YAML::Node& v, std::vector<std::string>& out) {
    if (!v.IsSequence()) return err(path(key), "must be a list");
    out.clear();
    for (const auto& e : v) {
      if (!e.IsScalar()) return err(path(key), "must be a list of strings");
      out.push_back(e.Scalar());
    }
    return {};
  }

  Status unknown(const std::string& key) const { return err(path(key), "unknown key"); }

 private:
  const YAML::Node& node_;
  std::string where_;
  std::string prefix_;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Status parse_sink_spec(const std::string& spec, CollectorConfig& config) {
  if (spec == "stdout") {
    config.sink = SinkKind::kStdout;
    return {};
  }
  if (spec.rfind("rawlog:", 0) == 0 && spec.size() > 7) {
    config.sink = SinkKind::kRawLog;
    config.raw_log_dir = spec.substr(7);
    return {};
  }
  return Error{"sink '" + spec + "': expected stdout or rawlog:DIR"};
}

Result<CollectorConfig> parse_collector_config(const YAML::Node& node, const std::string& where) {
  CollectorConfig c;
  MapReader top(node, where, "collector.");
  Status st = top.each([&](const std::string& k, const YAML::Node& v) -> Status {
    int64_t i = 0;
    if (k == "host") return top.get(k, v, c.host);
    if (k == "port") {
      Status s = top.get_int(k, v, i, 0, 65535);
      c.port = static_cast<uint16_t>(i);
      return s;
    }
    if (k == "threads") {
      Status s = top.get_int(k, v, i, 0, 256);
      c.threads = static_cast<unsigned>(i);
      return s;
    }
    if (k == "admin_host") return top.get(k, v, c.admin_host);
    if (k == "admin_port") {
      Status s = top.get_int(k, v, i, 0, 65535);
      c.admin_port = static_cast<uint16_t>(i);
      return s;
    }
    if (k == "sink") {
      std::string spec;
      Status s = top.get(k, v, spec);
      if (!s.ok()) return s;
      s = parse_sink_spec(spec, c);
      return s.ok() ? s : top.err(top.path(k), s.message());
    }
    if (k == "durability") {
      std::string d;
      Status s = top.get(k, v, d);
      if (!s.ok()) return s;
      if (d == "fsync") {
        c.fsync = true;
      } else if (d == "buffered") {
        c.fsync = false;
      } else {
        return top.err(top.path(k), "must be fsync or buffered");
      }
      return {};
    }
    if (k == "bad_output") return top.get(k, v, c.bad_output);
    if (k == "retry_after_seconds") return top.get_int(k, v, c.retry_after_seconds, 1, 3600);
    if (k == "cors_max_age_seconds")
      return top.get_int(k, v, c.cors_max_age_seconds, 0, 86400 * 365);
    if (k == "trusted_proxies") return top.get_list(k, v, c.trusted_proxies);
    if (k == "paths") {
      MapReader m(v, where, "collector.paths.");
      return m.each([&](const std::string& from, const YAML::Node& to) -> Status {
        std::string target;
        Status s = m.get(from, to, target);
        if (s.ok()) c.paths[from] = target;
        return s;
      });
    }
    if (k == "raw_log") {
      MapReader m(v, where, "collector.raw_log.");
      return m.each([&](const std::string& rk, const YAML::Node& rv) -> Status {
        if (rk == "max_pending_bytes") return m.get_size(rk, rv, c.max_pending_bytes, 4096);
        if (rk == "segment_max_bytes") return m.get_size(rk, rv, c.segment_max_bytes, 4096);
        if (rk == "segment_max_age_seconds")
          return m.get_int(rk, rv, c.segment_max_age_seconds, 1, 86400 * 7);
        if (rk == "compress") return m.get(rk, rv, c.compress_segments);
        if (rk == "flush_interval_ms") return m.get_int(rk, rv, c.flush_interval_ms, 1, 60'000);
        if (rk == "buffered_sync_interval_ms")
          return m.get_int(rk, rv, c.buffered_sync_interval_ms, 0, 3'600'000);
        if (rk == "max_record_bytes") return m.get_size(rk, rv, c.max_record_bytes, 1024);
        if (rk == "stall_file") {
          std::string s;
          Status r = m.get(rk, rv, s);
          c.stall_file = s;
          return r;
        }
        return m.unknown(rk);
      });
    }
    if (k == "cookie") {
      MapReader m(v, where, "collector.cookie.");
      return m.each([&](const std::string& ck, const YAML::Node& cv) -> Status {
        if (ck == "enabled") return m.get(ck, cv, c.cookie.enabled);
        if (ck == "name") return m.get(ck, cv, c.cookie.name);
        if (ck == "expiration_days") {
          int64_t days = 0;
          Status s = m.get_int(ck, cv, days, 0, 3650);
          c.cookie.expiration_seconds = days * 86400;
          return s;
        }
        if (ck == "domains") {
          Status s = m.get_list(ck, cv, c.cookie.domains);
          for (auto& d : c.cookie.domains) d = lower(d);
          return s;
        }
        if (ck == "fallback_domain") {
          Status s = m.get(ck, cv, c.cookie.fallback_domain);
          c.cookie.fallback_domain = lower(c.cookie.fallback_domain);
          return s;
        }
        if (ck == "secure") return m.get(ck, cv, c.cookie.secure);
        if (ck == "http_only") return m.get(ck, cv, c.cookie.http_only);
        if (ck == "same_site") {
          std::string s;
          Status r = m.get(ck, cv, s);
          if (!r.ok()) return r;
          if (s == "None") {
            c.cookie.same_site = SameSite::kNone;
          } else if (s == "Lax") {
            c.cookie.same_site = SameSite::kLax;
          } else if (s == "Strict") {
            c.cookie.same_site = SameSite::kStrict;
          } else if (s.empty() || s == "unset") {
            c.cookie.same_site = SameSite::kUnset;
          } else {
            return m.err(m.path(ck), "must be None, Lax, Strict or unset");
          }
          return {};
        }
        return m.unknown(ck);
      });
    }
    if (k == "cookie_bounce") {
      MapReader m(v, where, "collector.cookie_bounce.");
      return m.each([&](const std::string& bk, const YAML::Node& bv) -> Status {
        CookieBounceConfig& b = c.cookie_bounce;
        if (bk == "enabled") return m.get(bk, bv, b.enabled);
        if (bk == "name") return m.get(bk, bv, b.name);
        if (bk == "fallback_network_user_id") return m.get(bk, bv, b.fallback_network_user_id);
        if (bk == "forwarded_protocol_header") return m.get(bk, bv, b.forwarded_protocol_header);
        return m.unknown(bk);
      });
    }
    if (k == "root_response") {
      MapReader m(v, where, "collector.root_response.");
      return m.each([&](const std::string& rk, const YAML::Node& rv) -> Status {
        RootResponseConfig& r = c.root_response;
        if (rk == "enabled") return m.get(rk, rv, r.enabled);
        if (rk == "status") {
          int64_t code = 0;
          Status s = m.get_int(rk, rv, code, 200, 599);
          r.status = static_cast<int>(code);
          return s;
        }
        if (rk == "body") return m.get(rk, rv, r.body);
        if (rk == "headers") {
          MapReader h(rv, where, "collector.root_response.headers.");
          r.headers.clear();
          return h.each([&](const std::string& name, const YAML::Node& value) -> Status {
            std::string text;
            Status s = h.get(name, value, text);
            if (s.ok()) r.headers.emplace_back(name, text);
            return s;
          });
        }
        return m.unknown(rk);
      });
    }
    if (k == "do_not_track_cookie") {
      MapReader m(v, where, "collector.do_not_track_cookie.");
      return m.each([&](const std::string& dk, const YAML::Node& dv) -> Status {
        if (dk == "enabled") return m.get(dk, dv, c.do_not_track_cookie.enabled);
        if (dk == "name") return m.get(dk, dv, c.do_not_track_cookie.name);
        if (dk == "value") return m.get(dk, dv, c.do_not_track_cookie.value);
        return m.unknown(dk);
      });
    }
    if (k == "redirect") {
      MapReader m(v, where, "collector.redirect.");
      return m.each([&](const std::string& rk, const YAML::Node& rv) -> Status {
        if (rk == "enabled") return m.get(rk, rv, c.redirect.enabled);
        if (rk == "allowed_hosts") {
          Status s = m.get_list(rk, rv, c.redirect.allowed_hosts);
          for (auto& h : c.redirect.allowed_hosts) h = lower(h);
          return s;
        }
        return m.unknown(rk);
      });
    }
    if (k == "cross_domain") {
      MapReader m(v, where, "collector.cross_domain.");
      return m.each([&](const std::string& xk, const YAML::Node& xv) -> Status {
        if (xk == "enabled") return m.get(xk, xv, c.cross_domain.enabled);
        if (xk == "domains") return m.get_list(xk, xv, c.cross_domain.domains);
        if (xk == "secure") return m.get(xk, xv, c.cross_domain.secure);
        return m.unknown(xk);
      });
    }
    if (k == "limits") {
      MapReader m(v, where, "collector.limits.");
      return m.each([&](const std::string& lk, const YAML::Node& lv) -> Status {
        Limits& l = c.limits;
        if (lk == "max_request_line") return m.get_size(lk, lv, l.max_request_line, 64);
        if (lk == "max_header_bytes") return m.get_size(lk, lv, l.max_header_bytes, 256);
        if (lk == "max_body_bytes") return m.get_size(lk, lv, l.max_body_bytes, 1);
        if (lk == "max_payload_bytes") return m.get_size(lk, lv, l.max_payload_bytes, 1024);
        if (lk == "max_events_per_post") return m.get_size(lk, lv, l.max_events_per_post, 1);
        if (lk == "header_timeout_ms") return m.get_int(lk, lv, l.header_timeout_ms, 10, 3'600'000);
        if (lk == "body_timeout_ms") return m.get_int(lk, lv, l.body_timeout_ms, 10, 3'600'000);
        if (lk == "idle_timeout_ms") return m.get_int(lk, lv, l.idle_timeout_ms, 10, 86'400'000);
        if (lk == "max_connections") return m.get_size(lk, lv, l.max_connections, 1);
        if (lk == "app_response_timeout_ms")
          return m.get_int(lk, lv, l.app_response_timeout_ms, 10, 86'400'000);
        return m.unknown(lk);
      });
    }
    return top.unknown(k);
  });
  if (!st.ok()) return st.error();
  st = validate(c);
  if (!st.ok()) return Error{where + ": " + st.message()};
  return c;
}

Result<CollectorConfig> load_collector_config(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    return Error{file.string() + ": " + e.what()};
  }
  if (!root.IsMap() || !root["collector"]) return Error{file.string() + ": no 'collector' mapping"};
  return parse_collector_config(root["collector"], file.string());
}

Status validate(const CollectorConfig& c) {
  if (c.sink == SinkKind::kRawLog && c.raw_log_dir.empty())
    return Error{"collector.sink: rawlog needs a directory"};
  for (const auto& h : c.redirect.allowed_hosts) {
    if (h.empty() ||
        h.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-[]:") != std::string::npos) {
      return Error{"collector.redirect.allowed_hosts: '" + h + "' is not a host name"};
    }
  }
  for (const auto& [from, to] : c.paths) {
    auto two_segments = [](const std::string& p) {
      if (p.size() < 4 || p[0] != '/') return false;
      auto slash = p.find('/', 1);
      return slash != std::string::npos && slash > 1 && slash + 1 < p.size() &&
             p.find('/', slash + 1) == std::string::npos;
    };
    if (!two_segments(from))
      return Error{"collector.paths: '" + from + "' is not a /vendor/version path"};
    if (to != "/i" && to != "/ice.png" && !two_segments(to)) {
      return Error{"collector.paths: target '" + to + "' is not a /vendor/version path"};
    }
  }
  if (c.limits.max_payload_bytes > c.limits.max_body_bytes * 2 + 65536) {
    return Error{"collector.limits.max_payload_bytes: larger than any request can be"};
  }
  if (c.do_not_track_cookie.enabled) {
    if (c.do_not_track_cookie.name.empty())
      return Error{"collector.do_not_track_cookie.name: required"};
    RE2 re(c.do_not_track_cookie.value, RE2::Quiet);
    if (!re.ok()) return Error{"collector.do_not_track_cookie.value: invalid regex: " + re.error()};
  }
  for (const auto& p : c.trusted_proxies) {
    if (!parse_cidr(p).ok())
      return Error{"collector.trusted_proxies: '" + p + "' is not an IP address or CIDR"};
  }
  if (c.cookie_bounce.enabled) {
    const auto& b = c.cookie_bounce;
    if (b.name.empty() ||
        b.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-.") != std::string::npos) {
      return Error{"collector.cookie_bounce.name: letters, digits, '_', '-', '.' only"};
    }
    if (!is_uuid(b.fallback_network_user_id)) {
      return Error{"collector.cookie_bounce.fallback_network_user_id: not a UUID"};
    }
  }
  auto token = [](const std::string& name) {
    if (name.empty()) return false;
    for (char ch : name) {
      auto u = static_cast<unsigned char>(ch);
      if (u <= 0x20 || u >= 0x7f || ch == ':') return false;
    }
    return true;
  };
  auto safe_value = [](const std::string& v) {
    return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
  };
  for (const auto& [name, value] : c.root_response.headers) {
    if (!token(name) || !safe_value(value))
      return Error{"collector.root_response.headers: '" + name + "' is not a valid header"};
  }
  for (const auto& a : c.assets) {
    if (a.path.empty() || a.path[0] != '/' || a.path.find_first_of("?# ") != std::string::npos)
      return Error{"collector asset path '" + a.path + "' must start with / and have no query"};
    if (!safe_value(a.content_type) || !safe_value(a.cache_control))
      return Error{"collector asset '" + a.path + "': header values contain CR/LF"};
  }
  if (c.cookie.name.empty() ||
      c.cookie.name.find_first_of(" \t\r\n;,=\"()<>@:\\/[]?{}") != std::string::npos) {
    return Error{"collector.cookie.name: not a valid cookie name"};
  }
  return {};
}

}  // namespace furrow::collector
