#!/usr/bin/env bash
# The embedded core's query strings are real tracker-protocol traffic: a structured event and a
# sensor (self-describing) event built by trackers/cpp/embedded into fixed buffers, sent as
# GET /i to the collector, come out of enrich as good events with every field, and the sensor
# data validates against its Iglu schema (written by this test).
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
SHARED=${FURROW_SHARED:?}
TRACK=${FURROW_BUILD_DIR:?}/trackers/cpp/furrow-track
TMP=$(mktemp -d /tmp/furrow-tracker-embedded-XXXXXX)
source "$SRC/trackers/cpp/test/pipeline.sh"
trap 'pipeline_cleanup; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $TRACK ]] || fail "furrow-track not built: $TRACK"

schema_dir=$TMP/iglu/schemas/com.example.furrow/sensor_reading/jsonschema
mkdir -p "$schema_dir"
cat >"$schema_dir/1-0-0" <<'JSON'
{"$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "description": "A sensor reading sent by furrow's embedded tracker core (test schema)",
 "self": {"vendor": "com.example.furrow", "name": "sensor_reading", "format": "jsonschema",
          "version": "1-0-0"},
 "type": "object",
 "properties": {"sensor": {"type": "string", "maxLength": 64},
                "celsius": {"type": "number", "minimum": -60, "maximum": 90},
                "humidity": {"type": "integer", "minimum": 0, "maximum": 100},
                "door_open": {"type": "boolean"}},
 "required": ["sensor", "celsius"],
 "additionalProperties": false}
JSON

pipeline_start
"$TRACK" --collector "$PIPELINE_URL" --app-id greenhouse embedded-query >"$TMP/queries" ||
  fail "embedded-query failed"
while read -r kind query; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$PIPELINE_URL/i?$query")
  [[ $code == 200 ]] || fail "$kind: collector answered $code"
done <"$TMP/queries"
pipeline_events "$TMP/good.json" "$TMP/bad.json" 2
[[ ! -s $TMP/bad.json ]] || fail "bad rows: $(head -c 3000 "$TMP/bad.json")"
[[ $(wc -l <"$TMP/good.json") == 2 ]] || fail "$(wc -l <"$TMP/good.json") good events, want 2"
common='.app_id == "greenhouse" and .platform == "iot" and .name_tracker == "furrow-embedded"
  and .v_tracker == "furrow-embedded-0.1.0" and (.dvce_created_tstamp | type) == "string"
  and (.event_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))'
jq -e -s "map(select(.event == \"struct\")) | length == 1 and (.[0] | ($common)
  and .se_category == \"pump\" and .se_action == \"start\" and .se_label == \"valve 3 & 4\"
  and (.se_value | tonumber) == 12.5)" "$TMP/good.json" >/dev/null ||
  fail "structured event: $(cat "$TMP/good.json")"
jq -e -s "map(select(.event == \"unstruct\")) | length == 1 and (.[0] | ($common)
  and .event_vendor == \"com.example.furrow\" and .event_name == \"sensor_reading\"
  and .unstruct_event_com_example_furrow_sensor_reading_1
      == {\"sensor\": \"greenhouse/north \\\"A\\\"\", \"celsius\": -21.5, \"humidity\": 64,
          \"door_open\": true})" "$TMP/good.json" >/dev/null ||
  fail "sensor event: $(cat "$TMP/good.json")"
# The event ids differ (each comes from the caller's random source).
[[ $(jq -r .event_id "$TMP/good.json" | sort -u | wc -l) == 2 ]] || fail "event ids repeat"
echo "ok ($PIPELINE_KIND): the embedded core's structured and sensor events arrived good, 0 bad rows"
