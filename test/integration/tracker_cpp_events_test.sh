#!/usr/bin/env bash
# Acceptance 1 for the C++ tracker: every event type (page view, screen view, structured,
# self-describing, timing; with a context, a true timestamp and every subject field) sent with
# POST and with GET through the real furrow pipeline arrives as a good event with the expected
# fields (self-describing JSON validated against Iglu Central), and nothing becomes a bad row.
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
SHARED=${FURROW_SHARED:?}
TRACK=${FURROW_BUILD_DIR:?}/trackers/cpp/furrow-track
TMP=$(mktemp -d /tmp/furrow-tracker-cpp-XXXXXX)
source "$SRC/trackers/cpp/test/pipeline.sh"
trap 'pipeline_cleanup; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $TRACK ]] || fail "furrow-track not built: $TRACK"

pipeline_start
for method in post get; do
  "$TRACK" --collector "$PIPELINE_URL" --method "$method" --outbox "$TMP/outbox-$method.db" \
    --app-id "cpp-$method" --flush-timeout-ms 20000 all >"$TMP/ids-$method" 2>"$TMP/track-$method.log" ||
    fail "furrow-track $method: $(cat "$TMP/track-$method.log")"
  [[ $(wc -l <"$TMP/ids-$method") == 5 ]] || fail "$method: ids $(cat "$TMP/ids-$method")"
done
pipeline_events "$TMP/good.json" "$TMP/bad.json" 10

[[ ! -s $TMP/bad.json ]] || fail "bad rows: $(head -c 3000 "$TMP/bad.json")"
[[ $(wc -l <"$TMP/good.json") == 10 ]] || fail "$(wc -l <"$TMP/good.json") good events, want 10"

# check METHOD KIND JQ-CONDITION: the event tracked as KIND has every expected field.
check() {
  local method=$1 kind=$2 cond=$3 eid
  eid=$(awk -v k="$kind" '$1 == k {print $2}' "$TMP/ids-$method")
  [[ -n $eid ]] || fail "$method $kind: no event id"
  local event
  event=$(jq -c --arg id "$eid" 'select(.event_id == $id)' "$TMP/good.json")
  [[ $(grep -c . <<<"$event") == 1 ]] || fail "$method $kind $eid: found $(grep -c . <<<"$event") times"
  jq -e "$cond" <<<"$event" >/dev/null || fail "$method $kind: $cond not met by $event"
}

common='.app_id == $app and .platform == "srv" and .name_tracker == "furrow-track"
  and .v_tracker == "furrow-cpp-0.1.0" and .user_id == "user-42" and .user_ipaddress == "203.0.113.7"
  and .useragent == "furrow-track/0.1 (integration)"
  and .domain_userid == "c0ffee00-0000-4000-8000-000000000042"
  and .dvce_screenwidth == 1920 and .dvce_screenheight == 1080 and .br_viewwidth == 1280
  and .br_viewheight == 720 and .br_colordepth == "24" and .br_lang == "en-GB"
  and .os_timezone == "Europe/London" and .true_tstamp == "2023-11-14T22:13:20.123Z"
  and (.dvce_created_tstamp | type) == "string" and (.dvce_sent_tstamp | type) == "string"
  and .dvce_sent_tstamp >= .dvce_created_tstamp
  and .contexts_com_snowplowanalytics_snowplow_geolocation_context_1
      == [{"latitude": 51.5074, "longitude": -0.1278}]'
for method in post get; do
  with_app() { check "$method" "$1" "(\"cpp-$method\") as \$app | ($common) and ($2)"; }
  with_app page_view '.event == "page_view" and .page_url == "https://shop.example/basket?x=1&y=2"
    and .page_urlhost == "shop.example" and .page_urlquery == "x=1&y=2"
    and .page_title == "Basket — ünïcode" and .page_referrer == "https://search.example/?q=a+b"'
  with_app screen_view '.event == "unstruct" and .event_vendor == "com.snowplowanalytics.mobile"
    and .event_name == "screen_view"
    and (.unstruct_event_com_snowplowanalytics_mobile_screen_view_1 | .name == "settings"
         and .type == "modal" and .previousName == "home" and .transitionType == "push"
         and (.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))'
  with_app structured '.event == "struct" and .se_category == "game" and .se_action == "level-up"
    and .se_label == "level 7" and .se_property == "hard" and (.se_value | tonumber) == 12.5'
  with_app self_describing '.event == "unstruct" and .event_name == "link_click"
    and .unstruct_event_com_snowplowanalytics_snowplow_link_click_1
        == {"targetUrl": "https://docs.example/a b", "elementId": "help"}'
  with_app timing '.event == "unstruct" and .event_name == "timing"
    and .unstruct_event_com_snowplowanalytics_snowplow_timing_1
        == {"category": "load", "variable": "level", "timing": 1234, "label": "level 7"}'
done
echo "ok ($PIPELINE_KIND): 10 events (5 types x POST/GET) arrived good with their fields, 0 bad rows"
