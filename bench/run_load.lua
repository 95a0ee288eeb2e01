-- wrk script for bench/run_load.sh: tp2 POST batches of EVENTS page views with unique event ids,
-- paced to RATE events/s over all connections.
--
-- Pacing is by schedule, not by a fixed pause: each wrk thread hands out send slots
-- (threads x EVENTS / RATE ms apart) and delay() waits until the next free slot. A fixed pause
-- after each answer (what this script did before) made the offered rate depend on the server's
-- answer time: with acknowledgement after fsync (several ms), 8 connections offered only about
-- 18,000 of the 40,000 events/s asked for. The script prints what was really offered.
--
-- A slot is a request the schedule owes: when every connection of a thread is waiting for an
-- answer (a server stall), the slots that come due meanwhile are sent as connections free up, up
-- to RUN_BENCH_CATCHUP_MS behind the schedule (default 2000). Until session 7 a thread dropped
-- every slot more than one slot per connection (20 ms at 40,000/s) behind, so each answer slower
-- than that lost requests for good: with answer times of 77-116 ms at the 99th percentile, wrk
-- offered 38,600-38,800 of the 40,000 events/s asked. Slots still dropped (a stall longer than
-- the catch-up window) are counted and printed by done().
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } furrow_bench_timespec;
int clock_gettime(int clock_id, furrow_bench_timespec *tp);
]]
local ts = ffi.new("furrow_bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local events = tonumber(os.getenv("RUN_BENCH_EVENTS") or "25")
local rate = tonumber(os.getenv("RUN_BENCH_RATE") or "40000")
local conns = tonumber(os.getenv("RUN_BENCH_CONNS") or "32")
local wrk_threads = tonumber(os.getenv("RUN_BENCH_THREADS") or "2")
local run_id = os.getenv("RUN_BENCH_ID") or "00000000"
-- Event ids are random version-4 UUIDs by default, as real trackers send them (any index on
-- event_id then takes its inserts all over the index, as in production). RUN_BENCH_RANDOM_IDS=0
-- sends the ids of sessions 5-7 instead, which rise per wrk thread (an index on them is written
-- at two right edges only): kept to compare with figures measured before.
local random_ids = os.getenv("RUN_BENCH_RANDOM_IDS") ~= "0"
local counter = 0
local next_tid = 0
local threads = {}
-- `tid` is a global that setup() gives each wrk thread (thread:set), so the threads' event ids
-- differ; a local here would shadow it and make both threads send the same ids (half the events
-- would then be dropped as duplicates).

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

-- Per thread: the next free send slot and the distance between slots (fractional milliseconds:
-- the schedule is exact even though wrk's timers are whole milliseconds, since each wait is
-- computed from the absolute slot time).
local interval = 1000 * wrk_threads * events / rate
local catch_up = tonumber(os.getenv("RUN_BENCH_CATCHUP_MS") or "2000")
local next_slot = nil
dropped = 0  -- global, read by done() through thread:get

function init(args)
  math.randomseed(os.time() + (tid or 0))
end

function delay()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  elseif next_slot < now - catch_up then
    local skip = math.floor((now - catch_up - next_slot) / interval) + 1
    dropped = dropped + skip
    next_slot = next_slot + skip * interval
  end
  local slot = next_slot
  next_slot = next_slot + interval
  local wait = slot - now
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end

local function event_id()
  if random_ids then
    return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff),
      math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
      math.random(0, 0xffffff), math.random(0, 0xffffff))
  end
  return string.format("%s-%04x-4000-8000-%012x", run_id, tid, counter)
end

request = function()
  local parts = {}
  for i = 1, events do
    counter = counter + 1
    parts[i] = string.format(
      '{"e":"pv","eid":"%s","p":"web","tv":"js-4.0.0","aid":"bench",' ..
      '"url":"https://shop.example/p%d","page":"Bench page %d","duid":"%08x-0000-4000-8000-000000000001",' ..
      '"sid":"%08x-0000-4000-8000-000000000002","vid":"1","vp":"1280x720","res":"1920x1080",' ..
      '"lang":"en-US","cs":"UTF-8","cookie":"1","tz":"Europe/Berlin"}',
      event_id(), counter % 200, counter % 200, counter % 5000, counter % 20000)
  end
  local body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",' ..
    '"data":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/com.snowplowanalytics.snowplow/tp2",
    {["Content-Type"] = "application/json; charset=UTF-8",
     ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
    body)
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (tonumber(t:get("dropped")) or 0) end
  io.write(string.format("run_load.lua: slots dropped (more than %d ms behind schedule): %d\n",
    catch_up, n))
end
