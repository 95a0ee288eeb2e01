#include "run/config.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace furrow::run {

namespace fs = std::filesystem;

namespace {

template <class T>
Status get(const YAML::Node& n, const std::string& where, const std::string& key, T& out) {
  try {
    out = n.as<T>();
  } catch (const YAML::Exception&) {
    return Error{where + ": run." + key + ": invalid value"};
  }
  return Status::Ok();
}

Status parse_run(const YAML::Node& run, const std::string& where, const fs::path& base,
                 RunConfig& c) {
  if (!run.IsMap()) return Error{where + ": run: must be a mapping"};
  auto path_of = [&](const std::string& s) {
    return fs::path(s).is_absolute() ? fs::path(s) : base / s;
  };
  for (const auto& kv : run) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    Status st;
    std::string s;
    int64_t i = 0;
    if (key == "host") {
      st = get(v, where, key, c.host);
    } else if (key == "port") {
      st = get(v, where, key, i);
      if (st.ok() && (i < 0 || i > 65535)) st = Error{where + ": run.port: out of range"};
      c.port = static_cast<uint16_t>(i);
    } else if (key == "data_dir") {
      st = get(v, where, key, s);
      c.data_dir = path_of(s);
    } else if (key == "dashboard_path") {
      st = get(v, where, key, c.dashboard_path);
      if (st.ok() && (c.dashboard_path.empty() || c.dashboard_path.front() != '/')) {
        st = Error{where + ": run.dashboard_path: must start with '/'"};
      }
    } else if (key == "iglu_registry") {
      st = get(v, where, key, s);
      c.iglu_registry = path_of(s);
    } else if (key == "enrichments") {
      st = get(v, where, key, s);
      c.enrichments = path_of(s);
    } else if (key == "default_enrichments") {
      st = get(v, where, key, c.default_enrichments);
    } else if (key == "enrich_threads") {
      st = get(v, where, key, i);
      if (st.ok() && (i < 1 || i > 64)) st = Error{where + ": run.enrich_threads: 1..64"};
      c.enrich_threads = static_cast<unsigned>(i);
    } else if (key == "commit_interval_ms") {
      st = get(v, where, key, c.commit_interval_ms);
      if (st.ok() && (c.commit_interval_ms < 1 || c.commit_interval_ms > 60'000)) {
        st = Error{where + ": run.commit_interval_ms: 1..60000"};
      }
    } else if (key == "models_interval_ms") {
      st = get(v, where, key, c.models_interval_ms);
      if (st.ok() && c.models_interval_ms < 0) st = Error{where + ": run.models_interval_ms: >= 0"};
    } else if (key == "models_cost_factor") {
      st = get(v, where, key, i);
      if (st.ok() && (i < 1 || i > 100)) st = Error{where + ": run.models_cost_factor: 1..100"};
      c.models_cost_factor = static_cast<unsigned>(i);
    } else if (key == "models_chunk_events") {
      st = get(v, where, key, i);
      if (st.ok() && (i < 1'000 || i > 10'000'000)) {
        st = Error{where + ": run.models_chunk_events: 1000..10000000"};
      }
      c.models_chunk_events = static_cast<std::size_t>(i);
    } else if (key == "models_idle_priority") {
      st = get(v, where, key, c.models_idle_priority);
    } else if (key == "max_lag_mb") {
      st = get(v, where, key, i);
      if (st.ok() && i < 1) st = Error{where + ": run.max_lag_mb: >= 1"};
      c.max_lag_bytes = static_cast<uint64_t>(i) << 20;
    } else if (key == "auth") {
      if (!v.IsMap()) return Error{where + ": run.auth: must be a mapping"};
      for (const auto& a : v) {
        const std::string k = a.first.as<std::string>();
        if (k == "token") {
          st = get(a.second, where, "auth.token", c.token);
        } else if (k == "secure_cookie") {
          st = get(a.second, where, "auth.secure_cookie", c.secure_cookie);
        } else {
          st = Error{where + ": run.auth." + k + ": unknown key"};
        }
        if (!st.ok()) return st;
      }
    } else if (key == "micro") {
      if (!v.IsMap()) return Error{where + ": run.micro: must be a mapping"};
      for (const auto& a : v) {
        const std::string k = a.first.as<std::string>();
        if (k == "enabled") {
          st = get(a.second, where, "micro.enabled", c.micro_enabled);
        } else if (k == "max_events") {
          st = get(a.second, where, "micro.max_events", i);
          if (st.ok() && i < 1) st = Error{where + ": run.micro.max_events: >= 1"};
          c.micro_max_events = static_cast<std::size_t>(i);
        } else if (k == "max_mb") {
          st = get(a.second, where, "micro.max_mb", i);
          if (st.ok() && i < 1) st = Error{where + ": run.micro.max_mb: >= 1"};
          c.micro_max_bytes = static_cast<std::size_t>(i) << 20;
        } else {
          st = Error{where + ": run.micro." + k + ": unknown key"};
        }
        if (!st.ok()) return st;
      }
    } else {
      st = Error{where + ": run." + key + ": unknown key"};
    }
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Result<RunConfig> from_root(const YAML::Node& root, const std::string& where,
                            const fs::path& base) {
  RunConfig c;
  if (root.IsNull()) return c;
  if (!root.IsMap()) return Error{where + ": the top level must be a mapping"};
  if (root["run"]) {
    if (Status st = parse_run(root["run"], where, base, c); !st.ok()) return st.error();
  }
  if (root["collector"]) {
    auto col = collector::parse_collector_config(root["collector"], where);
    if (!col.ok()) return col.error();
    c.collector = std::move(*col);
    c.collector_from_file = true;
  }
  return c;
}

}  // namespace

Result<RunConfig> parse_run_config(std::string_view yaml, const std::string& where,
                                   const fs::path& base) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error{where + ": " + e.what()};
  }
  return from_root(root, where, base);
}

Result<RunConfig> load_run_config(const fs::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    return Error{file.string() + ": " + e.what()};
  }
  return from_root(root, file.string(), file.parent_path());
}

}  // namespace furrow::run
