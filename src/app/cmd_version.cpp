#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/commands.h"
#include "furrow/version.h"

namespace furrow::app {

void register_version(CLI::App& root) {
  auto* cmd = root.add_subcommand("version", "Print furrow's version");
  cmd->callback([] { std::printf("furrow %s\n", furrow::kVersion); });
}

}  // namespace furrow::app
