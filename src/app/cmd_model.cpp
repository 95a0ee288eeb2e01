// `furrow model run`: the page_views / sessions / users data models, incrementally.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "storage/models.h"
#include "storage/query_store.h"

namespace furrow::app {
namespace {

struct ModelCmdOptions {
  std::string db;
  storage::ModelOptions model;
  bool quiet = false;
};

int run_model(const ModelCmdOptions& o) {
  auto store = storage::QueryStore::open(o.db);
  if (!store) {
    std::fprintf(stderr, "furrow model: %s\n", store.error().message.c_str());
    return o.db.starts_with("sqlite:") || o.db.starts_with("postgres") ? kExitFailure : kExitUsage;
  }
  auto r = storage::run_models(**store, o.model);
  if (!r) {
    std::fprintf(stderr, "furrow model: %s\n", r.error().message.c_str());
    return kExitFailure;
  }
  if (!o.quiet) {
    if (r->to_load_id == r->from_load_id) {
      std::fprintf(stderr, "furrow model: nothing new since load %lld\n",
                   static_cast<long long>(r->from_load_id));
    } else {
      std::fprintf(
          stderr,
          "furrow model: loads %lld..%lld: %lld page views, %lld sessions, %lld users updated\n",
          static_cast<long long>(r->from_load_id + 1), static_cast<long long>(r->to_load_id),
          static_cast<long long>(r->page_views), static_cast<long long>(r->sessions),
          static_cast<long long>(r->users));
    }
  }
  return kExitOk;
}

}  // namespace

void register_model(CLI::App& root) {
  auto o = std::make_shared<ModelCmdOptions>();
  auto* cmd =
      root.add_subcommand("model", "Data models (page_views, sessions, users) over loaded events");
  cmd->require_subcommand(1);
  auto* run = cmd->add_subcommand("run",
                                  "Update the models with the events loaded since the last run "
                                  "(touched sessions and users end up as a full recomputation "
                                  "would leave them)");
  run->add_option("--db", o->db, "Database: sqlite:PATH or postgres://...")->required();
  run->add_option("--heartbeat", o->model.heartbeat_s,
                  "Page-ping heartbeat of the trackers, seconds")
      ->check(CLI::Range(1, 3600));
  run->add_flag("--full-refresh", o->model.full_refresh, "Recompute everything from scratch");
  run->add_flag("-q,--quiet", o->quiet, "No summary");
  run->callback([o] { exit_code() = run_model(*o); });
}

}  // namespace furrow::app
