// furrow: one binary, one subcommand per pipeline stage (see docs/cli.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "app/commands.h"

namespace furrow::app {
int& exit_code() {
  static int code = kExitOk;
  return code;
}
}  // namespace furrow::app

int main(int argc, char** argv) {
  using namespace furrow::app;
  CLI::App root{"furrow: a Snowplow-compatible event analytics pipeline", "furrow"};
  root.require_subcommand(1);
  root.set_help_all_flag("--help-all", "Show help for every command");
  register_version(root);
  register_load(root);
  register_model(root);
  register_export(root);
  register_query(root);
  register_gen(root);
  register_enrich(root);
  register_collector(root);
  register_schema(root);
  register_run(root);
  register_pixel(root);
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    root.exit(e);
    return e.get_exit_code() == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "furrow: %s\n", e.what());
    return kExitFailure;
  }
  return exit_code();
}
