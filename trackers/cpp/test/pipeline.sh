# Sourced by the tracker integration tests (test/integration/tracker_*_test.sh): a furrow pipeline
# on 127.0.0.1 that trackers send to, and the good events and bad rows it produced.
#
# With `furrow run` in the binary: `furrow run` on an ephemeral port with an Iglu registry made of
# $FURROW_SHARED/iglu-central plus the test's own schemas ($TMP/iglu/schemas, if any); events are
# read back through the Snowplow-Micro-compatible API (/micro/wait, /micro/good, /micro/bad).
# Otherwise: `furrow collector --sink rawlog:DIR`, then `furrow enrich --input-format rawlog` with
# an Iglu resolver over the same schemas. Either way self-describing events and contexts are
# validated against their real schemas, and good events come out as JSON lines in the shape of
# Snowplow's analytics SDK (atomic fields by name, nulls left out, each entity type under
# unstruct_event_<vendor>_<name>_<model> / contexts_<vendor>_<name>_<model>).
#
# Needs: BIN (furrow), SRC (source dir), SHARED, TMP (a fresh temp dir the caller removes).
# Sets: PIPELINE_PORT, PIPELINE_URL, PIPELINE_KIND (run | collector). The caller's EXIT trap must
# call pipeline_cleanup.

# Tools the tests need besides furrow (scripts/setup installs them).
for tool in jq curl node sqlite3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (see scripts/setup)" >&2; exit 1; }
done

PIPELINE_PID=""
PIPELINE_KIND=collector
if "$BIN" run --help 2>/dev/null | grep -q -- --data-dir; then PIPELINE_KIND=run; fi

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
  local log="$TMP/pipeline-$RANDOM.log"
  if [[ $PIPELINE_KIND == run ]]; then
    # One static registry: every Iglu Central vendor and the test's own vendors, as symlinks.
    rm -rf "$TMP/run-iglu"
    mkdir -p "$TMP/run-iglu/schemas" "$TMP/run"
    local v
    for v in "$SHARED/iglu-central/schemas/"* "$TMP/iglu/schemas/"*; do
      [[ -d $v ]] && ln -sfn "$v" "$TMP/run-iglu/schemas/"
    done
    printf 'run:\n  iglu_registry: %s\n' "$TMP/run-iglu" >"$TMP/run/run.yaml"
    "$BIN" run --config "$TMP/run/run.yaml" --host 127.0.0.1 --port "$port" \
      --data-dir "$TMP/run/data-$RANDOM" 2>"$log" >/dev/null &
  else
    mkdir -p "$TMP/raw"
    "$BIN" collector --host 127.0.0.1 --port "$port" --sink "rawlog:$TMP/raw" --durability fsync \
      2>"$log" >/dev/null &
  fi
  PIPELINE_PID=$!
  local i
  for ((i = 0; i < 400; i++)); do
    if grep -q 'listening on' "$log" 2>/dev/null; then
      PIPELINE_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$log" | head -1)
      PIPELINE_URL="http://127.0.0.1:$PIPELINE_PORT"
      return 0
    fi
    if ! kill -0 "$PIPELINE_PID" 2>/dev/null; then
      echo "FAIL: furrow $PIPELINE_KIND exited at start: $(cat "$log")" >&2
      PIPELINE_PID=""
      return 1
    fi
    sleep 0.05
  done
  echo "FAIL: furrow $PIPELINE_KIND did not start: $(cat "$log")" >&2
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

# Micro JSON (the array /micro/good returns) → one analytics-SDK-shaped object per line.
micro_to_sdk_lines() {
  jq -c '
    def entity_key(prefix):
      (.schema | capture("^iglu:(?<v>[^/]+)/(?<n>[^/]+)/[^/]+/(?<m>[0-9]+)-")) as $k
      | prefix + "_" + ($k.v | gsub("[.-]"; "_") | ascii_downcase) + "_"
        + ($k.n | gsub("(?<a>[a-z0-9])(?<b>[A-Z])"; "\(.a)_\(.b)") | gsub("-"; "_")
          | ascii_downcase) + "_" + $k.m;
    .[] | .event as $e
    | ($e | with_entries(select(.value != null))
          | del(.unstruct_event, .contexts, .derived_contexts))
      + (if $e.unstruct_event then
           {($e.unstruct_event.data | entity_key("unstruct_event")): $e.unstruct_event.data.data}
         else {} end)
      + ([($e.contexts.data // [])[], ($e.derived_contexts.data // [])[]]
         | group_by(entity_key("contexts"))
         | map({key: (.[0] | entity_key("contexts")), value: map(.data)}) | from_entries)'
}

# pipeline_events GOOD BAD COUNT: waits (at most 30 s) until COUNT good events arrived, stops the
# pipeline, writes the good events as JSON lines (analytics SDK shape) to GOOD and the bad rows
# (one JSON per line) to BAD.
pipeline_events() {
  local good=$1 bad=$2 count=$3
  if [[ $PIPELINE_KIND == run ]]; then
    curl -s --max-time 35 "$PIPELINE_URL/micro/wait?count=$count&timeout=30000" >"$TMP/wait.json"
    curl -sf "$PIPELINE_URL/micro/good" >"$TMP/micro-good.json" ||
      { echo "FAIL: GET /micro/good" >&2; return 1; }
    curl -sf "$PIPELINE_URL/micro/bad" | jq -c '.[]' >"$bad" ||
      { echo "FAIL: GET /micro/bad" >&2; return 1; }
    pipeline_stop
    micro_to_sdk_lines <"$TMP/micro-good.json" >"$good"
    return 0
  fi
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
