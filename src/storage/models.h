// Data models: SQL that derives `page_views`, `sessions` and `users` from atomic_events, on
// SQLite and PostgreSQL alike, incrementally.
//
// Incremental contract: each run takes the events whose load_id is above the last run's
// watermark, and rewrites every session those events touch as if recomputed from *all* its events
// (a late event changes its whole session), then every user of those sessions. Results are
// therefore the same whether the data arrived in one load or many. On PostgreSQL the run is one
// transaction that recomputes the touched sessions from all their events, after taking a SHARE
// lock on atomic_events so that no load in flight can commit a lower load_id behind the new
// watermark. On SQLite a run reads only the new events for the sessions model: each session's
// running state (first event by (ts, event_id), last ts, event count, max user_id) is kept in
// model_session_state and merged with them; page views are recomputed only for sessions with new
// page views or pings (docs/models.md).
//
// Definitions (docs/storage.md has the full list of columns):
//  - a page view is identified by the id of its web_page context; events without one are not
//    part of page_views (they still count in sessions);
//  - engaged_time_in_s = heartbeat_s x the number of distinct heartbeat_s-long windows (of epoch
//    time) that hold at least one page ping of that page view;
//  - a session bounces when it has exactly one page view and no engaged time;
//  - a user's first-touch attribution is the landing page view of their earliest session.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/query_store.h"

namespace furrow::storage {

struct ModelOptions {
  // The page-ping heartbeat the trackers use (activity tracking `heartbeatDelay`).
  int heartbeat_s = 10;
  // Recompute everything from scratch (drops the watermark and the model rows).
  bool full_refresh = false;
  // SQLite, incremental runs: when > 0, a run takes at most about this many new events: the
  // loads above the watermark in load_id order, as recorded in load_batches, up to the last one
  // that keeps the sum within the cap (always at least one), so that its read snapshot and its
  // write lock stay short however far behind the models are; ModelReport::more then says that
  // later loads are waiting. The results do not depend on the cap: a run over (lo, hi] is the
  // same whether its loads arrived one by one or at once (the incremental contract above).
  // Ignored by a full refresh and on PostgreSQL (one transaction under a table lock).
  int64_t max_events = 0;
  // SQLite, for tests: when set, the EXPLAIN QUERY PLAN detail lines of every statement of the
  // run's read phase are appended here, so a test can check how atomic_events is read.
  std::vector<std::string>* query_plans = nullptr;
};

struct ModelReport {
  int64_t from_load_id = 0;  // exclusive
  int64_t to_load_id = 0;    // inclusive; equal to from_load_id when there was nothing new
  int64_t page_views = 0;    // rows (re)written in this run
  int64_t sessions = 0;
  int64_t users = 0;
  // SQLite, wall clock: the read phase (a read transaction: never blocks a loader) and how long
  // the write phase held the database's write lock (from BEGIN IMMEDIATE granted to COMMIT done;
  // a loader committing meanwhile waits for it). PostgreSQL: the whole run is read_us.
  int64_t read_us = 0;
  int64_t write_lock_us = 0;
  // The run stopped at max_events: loads above to_load_id are waiting for the next run.
  bool more = false;
};

// Creates the model tables on first use (schema component "models").
Result<ModelReport> run_models(QueryStore& store, const ModelOptions& options);

// furrow run's models thread may run as SCHED_IDLE (it then takes only CPU that loading leaves
// over). While it holds SQLite's write lock it must not wait for spare CPU, because the loader is
// waiting for that lock: the write transactions of the models and of the dashboard rollups hold a
// WriteLockPriority, which moves a SCHED_IDLE thread to the normal policy for its lifetime and
// back. It does nothing on a thread of any other policy, or when the system refuses the change.
// Every WriteLockPriority marks its thread as holding (or about to take) the write lock, whatever
// the thread's policy: held() lets an interrupt check on that thread (furrow run's models thread
// gives its read snapshot back when starved) leave the short write phases alone.
class WriteLockPriority {
 public:
  WriteLockPriority();
  ~WriteLockPriority();
  // Whether a WriteLockPriority is alive on the calling thread.
  static bool held();
  WriteLockPriority(const WriteLockPriority&) = delete;
  WriteLockPriority& operator=(const WriteLockPriority&) = delete;

 private:
  bool raised_ = false;
};

// Whether a thread of this process may leave SCHED_IDLE again (CAP_SYS_NICE, or RLIMIT_NICE of
// at least 20): tried on a scratch thread, since the kernel's own check is the only exact one.
// Without it a SCHED_IDLE thread could not get out of the way of a waiting loader.
bool can_leave_idle_policy();

}  // namespace furrow::storage
