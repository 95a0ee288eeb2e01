-- wrk script for bench/run_load.sh: tp2 POST batches of EVENTS page views with unique event ids,
-- paced by delay() so the offered rate is about RATE events/s over all connections.
local events = tonumber(os.getenv("RUN_BENCH_EVENTS") or "25")
local rate = tonumber(os.getenv("RUN_BENCH_RATE") or "40000")
local conns = tonumber(os.getenv("RUN_BENCH_CONNS") or "8")
local run_id = os.getenv("RUN_BENCH_ID") or "00000000"
local counter = 0
local next_tid = 0
-- `tid` is a global that setup() gives each wrk thread (thread:set), so the threads' event ids
-- differ; a local here would shadow it and make both threads send the same ids (half the events
-- would then be dropped as duplicates).

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  math.randomseed(os.time() + (tid or 0))
end

-- Each connection sends one request every conns * events / rate seconds (minus its latency,
-- which wrk does not subtract: the offered rate is an upper bound; the script reports the real one).
function delay()
  return math.floor(1000 * conns * events / rate)
end

request = function()
  local parts = {}
  for i = 1, events do
    counter = counter + 1
    parts[i] = string.format(
      '{"e":"pv","eid":"%s-%04x-4000-8000-%012x","p":"web","tv":"js-4.0.0","aid":"bench",' ..
      '"url":"https://shop.example/p%d","page":"Bench page %d","duid":"%08x-0000-4000-8000-000000000001",' ..
      '"sid":"%08x-0000-4000-8000-000000000002","vid":"1","vp":"1280x720","res":"1920x1080",' ..
      '"lang":"en-US","cs":"UTF-8","cookie":"1","tz":"Europe/Berlin"}',
      run_id, tid, counter, counter % 200, counter % 200, counter % 5000, counter % 20000)
  end
  local body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",' ..
    '"data":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/com.snowplowanalytics.snowplow/tp2",
    {["Content-Type"] = "application/json; charset=UTF-8",
     ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
    body)
end
