# Sourced by the tracker integration tests (test/integration/tracker_*_test.sh): a furrow pipeline
# on 127.0.0.1 that trackers send to, and the good events and bad rows it produced.
#
# Until `furrow run` exists this is `furrow collector --sink rawlog:DIR` on an ephemeral port,
# then `furrow enrich --input-format rawlog` with an Iglu resolver over $FURROW_SHARED/iglu-central
# (so self-describing events and contexts are validated against their real schemas). Good events
# are turned into JSON with Snowplow's analytics SDK (npm snowplow-analytics-sdk), one per line.
#
# Needs: BIN (furrow), SRC (source dir), SHARED, TMP (a fresh temp dir the caller removes).
# Sets: PIPELINE_PORT, PIPELINE_URL. The caller's EXIT trap must call pipeline_cleanup.

PIPELINE_PID=""

pipeline_cleanup() {
  if [[ -n $PIPELINE_PID ]]; then
    kill -KILL "$PIPELINE_PID" 2>/dev/null || true
    wait "$PIPELINE_PID" 2>/dev/null || true
    PIPELINE_PID=""
  fi
}

# pipeline_start [PORT]: starts the collector (PORT 0 or absent: ephemeral) and waits until it
# listens (at most 20 s).
pipeline_start() {
  local port=${1:-0}
  mkdir -p "$TMP/raw"
  local log="$TMP/collector-$RANDOM.log"
  "$BIN" collector --host 127.0.0.1 --port "$port" --sink "rawlog:$TMP/raw" --durability fsync \
    2>"$log" >/dev/null &
  PIPELINE_PID=$!
  local i
  for ((i = 0; i < 400; i++)); do
    if grep -q 'listening on' "$log" 2>/dev/null; then
      PIPELINE_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) admin.*/\1/p' "$log")
      PIPELINE_URL="http://127.0.0.1:$PIPELINE_PORT"
      return 0
    fi
    if ! kill -0 "$PIPELINE_PID" 2>/dev/null; then
      echo "FAIL: collector exited at start: $(cat "$log")" >&2
      PIPELINE_PID=""
      return 1
    fi
    sleep 0.05
  done
  echo "FAIL: collector did not start: $(cat "$log")" >&2
  return 1
}

# pipeline_stop: SIGTERM, so everything acknowledged is in the raw log.
pipeline_stop() {
  if [[ -n $PIPELINE_PID ]]; then
    kill -TERM "$PIPELINE_PID"
    wait "$PIPELINE_PID" || true
    PIPELINE_PID=""
  fi
}

# pipeline_events GOOD BAD: stops the collector, enriches everything it recorded, writes the good
# events as JSON lines (analytics SDK shape) to GOOD and the bad rows to BAD.
pipeline_events() {
  local good=$1 bad=$2
  pipeline_stop
  # A test's own schemas, if any, live in $TMP/iglu/schemas/<vendor>/<name>/jsonschema/<version>.
  local local_repo=""
  if [[ -d $TMP/iglu/schemas ]]; then
    local_repo=',{"name": "test schemas", "priority": 1, "vendorPrefixes": [],
                  "connection": {"embedded": {"path": "'"$TMP/iglu"'"}}}'
  fi
  cat >"$TMP/resolver.json" <<JSON
{"schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data": {"cacheSize": 500,
          "repositories": [{"name": "Iglu Central (local copy)", "priority": 0,
                            "vendorPrefixes": ["com.snowplowanalytics"],
                            "connection": {"embedded": {"path": "$SHARED/iglu-central"}}}
                           $local_repo]}}
JSON
  "$BIN" enrich --input-format rawlog --input "$TMP/raw" --resolver "$TMP/resolver.json" \
    --output "$TMP/good.tsv" --bad "$bad" --no-progress 2>"$TMP/enrich.log" ||
    { echo "FAIL: enrich: $(cat "$TMP/enrich.log")" >&2; return 1; }
  node "$SRC/trackers/cpp/test/enriched_to_json.mjs" "$TMP/good.tsv" >"$good"
}
