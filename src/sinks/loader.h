// Loading enriched events and bad rows into SQLite or PostgreSQL, idempotently (spec 3.1, 5).
//
// A Loader takes enriched TSV lines (or EnrichedEvents) and bad-row JSON lines, collects them into
// batches and writes each batch in one transaction:
//   - atomic_events gets one row per (event_id, event_fingerprint): an event already present is
//     skipped, so replaying input after a crash never double counts;
//   - a line the database cannot hold (not a valid enriched event, invalid UTF-8, NUL, a value
//     longer than its column, "\u0000" inside JSON, ...) becomes a loader bad row in `bad_rows`
//     with the reason, never an error and never a crash;
//   - bad-row JSON lines go to `bad_rows`, deduplicated by the SHA-256 of the document;
//   - finish_file() records the file (by content digest) in `loaded_files` in the same
//     transaction as its last batch, so a file is either recorded and fully loaded or not at all.
// Values only ever travel as data (bound parameters, COPY), never inside SQL text.
//
// Threads: one Loader per thread. Errors returned are infrastructure errors (database gone, disk
// full); the pending batch is kept, so calling flush() again retries it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "event/enriched_event.h"
#include "sinks/loader_schema.h"
#include "sinks/pg_fields.h"

namespace furrow::sinks {

// Where to load: `sqlite:PATH` (PATH may be relative) or a libpq URL `postgres://...` /
// `postgresql://...`.
struct DbTarget {
  Dialect dialect = Dialect::kSqlite;
  std::string location;  // the SQLite file path, or the libpq connection URL
};
Result<DbTarget> parse_db_target(std::string_view url);

struct LoaderOptions {
  // Events per transaction.
  std::size_t batch_size = 5000;
  // `processor` of the loader's own bad rows.
  std::string artifact = "furrow-loader";
  std::string version;  // empty: furrow's version
  // Recorded in load_batches.source (e.g. the input file name).
  std::string source;
};

struct LoadStats {
  uint64_t events = 0;      // enriched lines accepted for loading
  uint64_t inserted = 0;    // rows written to atomic_events
  uint64_t duplicates = 0;  // events skipped because already loaded
  uint64_t bad_rows = 0;    // bad-row documents written (input bad rows and rejected lines)
  uint64_t rejected = 0;    // enriched lines that became loader bad rows
  uint64_t batches = 0;     // committed transactions
};

// A loaded file's identity: file_digest() of its bytes as stored (compressed or not).
struct FileRecord {
  std::string digest;  // 64 lower-case hex digits
  std::string name;
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

enum class LineKind {
  kAuto,      // '{' first: a bad-row JSON document; otherwise an enriched TSV line
  kEnriched,  // always an enriched TSV line
  kBadRow,    // always a bad-row document
  // An enriched TSV line that furrow's own enrich wrote in this process (furrow run): checked
  // like kEnriched except that its JSON columns are not parsed again (see quick_accept_enriched).
  // Not for lines read from files or Kafka, which may come from anywhere.
  kEnrichedInProcess,
};

class Loader {
 public:
  virtual ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // One input line (a trailing '\n' / '\r\n' is ignored; empty lines are skipped). Writes a batch
  // when it is full.
  Status add(std::string_view line, LineKind kind = LineKind::kAuto);
  // An event built in process (furrow enrich / run); checked exactly like a TSV line.
  Status add_event(const event::EnrichedEvent& event);
  // Writes what is pending in one transaction (nothing to do: no transaction).
  Status flush();
  // True when a file with this digest is recorded in loaded_files.
  virtual Result<bool> file_loaded(std::string_view digest) = 0;
  // Writes what is pending and records the file, in one transaction.
  Status finish_file(const FileRecord& file);

  const LoadStats& stats() const { return stats_; }
  Dialect dialect() const { return dialect_; }

 protected:
  Loader(Dialect dialect, LoaderOptions options);

  // A pending bad row, ready to insert.
  struct BadRow {
    std::string hash;  // SHA-256 hex of document
    std::string schema;
    std::string failure_type;
    std::string processor;
    std::string failure_tstamp;
    std::string document;
  };
  // Result of writing one batch.
  struct BatchResult {
    uint64_t inserted = 0;
    uint64_t bad_rows = 0;
  };
  // Writes events_[0..n_events_) and bad_ rows (+ the file record when non-null) in one
  // transaction. On failure nothing is committed.
  virtual Status write_batch(const FileRecord* file, BatchResult& result) = 0;
  // Called after event `index` joined the pending batch, so a backend can start sending it while
  // the rest of the batch is parsed. An error here is an infrastructure error; write_batch must
  // then still be able to write the whole batch.
  virtual Status event_added(std::size_t index) {
    (void)index;
    return Status::Ok();
  }
  // A backend that encodes each event as it arrives returns true: the Loader then keeps no copy
  // of the batch's events (pending_event() must not be called; pending_events() still counts
  // them) and calls event_parsed() instead of event_added(), with the accepted line and its
  // fields (views into the line, valid only during the call). Such a backend keeps what it needs to
  // write the whole batch again after an error.
  virtual bool encodes_events() const { return false; }
  virtual Status event_parsed(std::string_view line, const EventFields& fields) {
    (void)line;
    (void)fields;
    return Status::Ok();
  }

  const LoaderOptions& options() const { return options_; }
  std::size_t pending_events() const { return n_events_; }
  const event::EnrichedEvent& pending_event(std::size_t i) const { return events_[i]; }
  const std::vector<BadRow>& pending_bad_rows() const { return bad_; }

 private:
  Status add_enriched(std::string_view line, bool trusted_json);
  Status add_bad_row(std::string_view line);
  void reject(std::string_view line, std::string_view failure_type, std::string_view message,
              std::size_t field_count);
  Status write(const FileRecord* file);
  Status maybe_flush();

  Dialect dialect_;
  LoaderOptions options_;
  LoadStats stats_;
  std::vector<event::EnrichedEvent> events_;  // reused: only the first n_events_ are pending
  event::EnrichedEvent parsed_;               // scratch for backends that encode_events()
  EventFields fields_;                        // the accepted line's fields, for those backends
  std::size_t n_events_ = 0;
  std::vector<BadRow> bad_;
  std::string error_;  // scratch
  std::string scratch_;
};

// Connects, creates or migrates the schema, and returns a ready loader.
Result<std::unique_ptr<Loader>> open_loader(const DbTarget& target, const LoaderOptions& options);

// Checks that `value` can be stored in column `index` of both databases; on failure sets `why`.
// (UTF-8, NUL, length in characters, "\u0000" in JSON, timestamp year 1..9999.)
bool storable_value(std::size_t index, std::string_view value, std::string& why);

// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace furrow::sinks
