#!/usr/bin/env bash
# Acceptance 1 for the Lua tracker: page view, structured and self-describing events (with a
# context and a true timestamp), sent with POST and with GET by trackers/lua/furrow_tracker.lua
# over LuaSocket, arrive through the real furrow pipeline as good events with the expected fields;
# nothing becomes a bad row. Also runs the busted specs, so `ctest -L integration` covers them.
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
SHARED=${FURROW_SHARED:?}
TMP=$(mktemp -d /tmp/furrow-tracker-lua-XXXXXX)
source "$SRC/trackers/cpp/test/pipeline.sh"
trap 'pipeline_cleanup; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$SRC/trackers/lua" && busted --lua=lua5.4 --lpath="$SRC/trackers/lua/?.lua" -o utfTerminal spec \
  >"$TMP/busted.log" 2>&1) || fail "busted: $(cat "$TMP/busted.log")"

pipeline_start
cat >"$TMP/send.lua" <<'LUA'
local furrow = require("furrow_tracker")
local url, method = arg[1], arg[2]
local t = furrow.new{ collector = url, method = method, app_id = "lua-" .. method,
  namespace = "lua-test", batch_size = 2,
  subject = { user_id = "lua-user", screen_resolution = { 1024, 768 }, language = "fr-FR",
              timezone = "Europe/Paris", ip_address = "198.51.100.9", useragent = "lua-test/1",
              domain_user_id = "lua-duid" } }
local ctx = { { schema = "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
                data = { latitude = 48.8566, longitude = 2.3522 } } }
local function out(kind, id, err)
  if not id then error(kind .. ": " .. tostring(err)) end
  print(kind .. " " .. id)
end
out("page_view", t:track_page_view{ url = "https://lua.example/a?b=c&d=1", title = "Café ✓",
  referrer = "https://ref.example/", contexts = ctx, true_timestamp = 1700000000456 })
out("structured", t:track_struct_event{ category = "cat", action = "act", label = "lab+el",
  property = "prop", value = 0.25, contexts = ctx, true_timestamp = 1700000000456 })
out("self_describing", t:track_self_describing_event{
  schema = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
  data = { targetUrl = "https://lua.example/target", elementClasses = furrow.array({ "x", "y" }) },
  contexts = ctx, true_timestamp = 1700000000456 })
local ok, err = t:flush()
if not ok then error("flush: " .. tostring(err)) end
LUA
for method in post get; do
  LUA_PATH="$SRC/trackers/lua/?.lua;;" lua5.4 "$TMP/send.lua" "$PIPELINE_URL" "$method" \
    >"$TMP/ids-$method" 2>"$TMP/lua-$method.log" || fail "lua $method: $(cat "$TMP/lua-$method.log")"
  [[ $(wc -l <"$TMP/ids-$method") == 3 ]] || fail "$method ids: $(cat "$TMP/ids-$method")"
done
pipeline_events "$TMP/good.json" "$TMP/bad.json" 6
[[ ! -s $TMP/bad.json ]] || fail "bad rows: $(head -c 3000 "$TMP/bad.json")"
[[ $(wc -l <"$TMP/good.json") == 6 ]] || fail "$(wc -l <"$TMP/good.json") good events, want 6"

check() {
  local method=$1 kind=$2 cond=$3 eid event
  eid=$(awk -v k="$kind" '$1 == k {print $2}' "$TMP/ids-$method")
  event=$(jq -c --arg id "$eid" 'select(.event_id == $id)' "$TMP/good.json")
  [[ $(grep -c . <<<"$event") == 1 ]] || fail "$method $kind $eid: found $(grep -c . <<<"$event") times"
  jq -e --arg app "lua-$method" "$cond" <<<"$event" >/dev/null || fail "$method $kind: $cond not met by $event"
}
common='.app_id == $app and .platform == "srv" and .name_tracker == "lua-test"
  and .v_tracker == "furrow-lua-0.1.0" and .user_id == "lua-user" and .user_ipaddress == "198.51.100.9"
  and .useragent == "lua-test/1" and .domain_userid == "lua-duid" and .dvce_screenwidth == 1024
  and .dvce_screenheight == 768 and .br_lang == "fr-FR" and .os_timezone == "Europe/Paris"
  and .true_tstamp == "2023-11-14T22:13:20.456Z" and (.dvce_sent_tstamp | type) == "string"
  and .contexts_com_snowplowanalytics_snowplow_geolocation_context_1
      == [{"latitude": 48.8566, "longitude": 2.3522}]'
for method in post get; do
  check "$method" page_view "($common) and .event == \"page_view\"
    and .page_url == \"https://lua.example/a?b=c&d=1\" and .page_title == \"Café ✓\"
    and .page_referrer == \"https://ref.example/\""
  check "$method" structured "($common) and .event == \"struct\" and .se_category == \"cat\"
    and .se_action == \"act\" and .se_label == \"lab+el\" and .se_property == \"prop\"
    and (.se_value | tonumber) == 0.25"
  check "$method" self_describing "($common) and .event == \"unstruct\" and .event_name == \"link_click\"
    and .unstruct_event_com_snowplowanalytics_snowplow_link_click_1
        == {\"targetUrl\": \"https://lua.example/target\", \"elementClasses\": [\"x\", \"y\"]}"
done
echo "ok ($PIPELINE_KIND): 6 Lua events (3 types x POST/GET) arrived good with their fields, 0 bad rows"
