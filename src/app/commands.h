// The furrow subcommands. Each lives in its own cmd_<name>.cpp and registers itself on the root
// CLI11 app through one function listed here and called from main.cpp.
#pragma once

namespace CLI {
class App;
}

namespace furrow::app {

// Exit codes (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime error: unreadable input, failed sink, ...
inline constexpr int kExitUsage = 2;    // bad flags or configuration
inline constexpr int kExitInvalid =
    3;  // the command ran but found invalid data (e.g. schema validate)

// A subcommand's callback stores its result here; main returns it.
int& exit_code();

void register_version(CLI::App& root);
void register_load(CLI::App& root);
void register_model(CLI::App& root);
void register_export(CLI::App& root);
void register_query(CLI::App& root);
void register_gen(CLI::App& root);
void register_enrich(CLI::App& root);
void register_collector(CLI::App& root);
void register_schema(CLI::App& root);
void register_run(CLI::App& root);
void register_pixel(CLI::App& root);

}  // namespace furrow::app
