// The PostgreSQL loader (libpq): each batch is streamed with COPY straight into atomic_events while
// it is read, in the binary format (the server then parses only text and JSON; a batch with a
// value only the server should parse goes in text format, pg_copy.h); when that meets an event
// already loaded (a replay), the batch is COPYed into a temporary staging table instead and moved
// with INSERT ... ON CONFLICT DO NOTHING. Works with a role that only owns its database (no
// superuser rights needed): it creates its tables and temporary tables.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "sinks/loader.h"

struct pg_conn;

namespace furrow::sinks {

Result<std::unique_ptr<Loader>> open_postgres_loader(const std::string& url,
                                                     const LoaderOptions& options);

// Connects with client_encoding UTF8 and UTC, then creates or migrates the atomic schema
// (serialised between processes by an advisory lock). The caller PQfinish()es the connection.
Result<pg_conn*> open_postgres_database(const std::string& url);

// Runs `sql` (no parameters, results discarded); the error carries the server's message.
Status pg_exec(pg_conn* conn, const std::string& sql);

}  // namespace furrow::sinks
