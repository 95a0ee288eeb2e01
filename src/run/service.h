// `furrow run` as a whole: the collector (with the raw log behind a back-pressure limit), the
// enrich-and-load engine, the Micro API, the dashboard and access control, in one process.
// src/app/cmd_run.cpp only parses flags and calls serve().
#pragma once

#include "run/config.h"

namespace furrow::run {

// Runs until SIGTERM/SIGINT. Returns a process exit code (app/commands.h values): 0 after a clean
// stop, 2 for a configuration refused at start-up, 1 for a runtime failure. Messages go to stderr;
// the line "furrow run: listening on http://HOST:PORT" tells scripts it is ready.
int serve(RunConfig config);

}  // namespace furrow::run
