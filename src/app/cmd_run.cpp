// `furrow run`: collector, enrichment, SQLite, data models, dashboard and the Micro API in one
// process (docs/run.md). Flags override the YAML config.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "run/config.h"
#include "run/service.h"

namespace furrow::app {
namespace {

struct RunFlags {
  std::string config;
  std::string host;
  int port = -1;
  std::string data_dir;
};

int run_run(const RunFlags& f) {
  run::RunConfig cfg;
  if (!f.config.empty()) {
    auto loaded = run::load_run_config(f.config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "furrow run: %s\n", loaded.error().message.c_str());
      return kExitUsage;
    }
    cfg = std::move(*loaded);
  }
  if (!f.host.empty()) cfg.host = f.host;
  if (f.port >= 0) cfg.port = static_cast<uint16_t>(f.port);
  if (!f.data_dir.empty()) cfg.data_dir = f.data_dir;
  return run::serve(std::move(cfg));
}

}  // namespace

void register_run(CLI::App& root) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = root.add_subcommand(
      "run", "Run the whole pipeline (collector, enrich, SQLite, models, dashboard, Micro API)");
  cmd->add_option("--config", flags->config, "YAML file with 'run' (and 'collector') sections")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", flags->host, "Listen address (default 127.0.0.1)");
  cmd->add_option("--port", flags->port, "Listen port (default 8080; 0 = ephemeral)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--data-dir", flags->data_dir,
                  "Raw log, SQLite database and checkpoint (default ./furrow-data)");
  cmd->callback([flags] { exit_code() = run_run(*flags); });
}

}  // namespace furrow::app
