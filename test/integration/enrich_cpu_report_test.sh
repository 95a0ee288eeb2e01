#!/usr/bin/env bash
# `furrow enrich --cpu-report` (the figure bench/enrich_defaults.sh reads): one extra stderr line
# with the CPU time used after start-up, the total CPU time and the events it covers; absent
# without the option, the summary line unchanged either way. Checks that the line is sane (after
# start-up <= total, its events equal the summary's, us/event and events/s/core agree with the
# CPU time), that the start-up is really left out (default enrichments on an empty input: the
# start-up is nearly all of the CPU time), and that --quiet drops the summary but not the report.
set -euo pipefail
BIN=${FURROW_BIN:?}
TMP=$(mktemp -d /tmp/furrow-enrich-cpu-report-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

SUMMARY_RE='^furrow enrich: read [0-9]+ payloads carrying [0-9]+ events: [0-9]+ good, [0-9]+ bad( \([0-9]+ non-payload lines skipped\))? in [0-9]+\.[0-9]{2} s$'
REPORT_RE='^furrow enrich: cpu ([0-9]+\.[0-9]{3}) s after start-up \(user\+sys, all threads\) of ([0-9]+\.[0-9]{3}) s total; ([0-9]+) events(, ([0-9]+\.[0-9]{3}) us/event, ([0-9]+) events/s/core)?$'

"$BIN" gen --count 3000 --seed 3 --malformed-share 0.1 --output "$TMP/in.b64" --quiet
: >"$TMP/empty.b64"

# Without the option: the summary alone, exactly as before.
"$BIN" enrich --input "$TMP/in.b64" --output /dev/null --bad /dev/null --threads 1 --no-progress \
  2>"$TMP/plain.err"
[[ $(wc -l <"$TMP/plain.err") == 1 ]] || fail "without --cpu-report: $(cat "$TMP/plain.err")"
grep -Eq "$SUMMARY_RE" "$TMP/plain.err" || fail "summary line changed: $(cat "$TMP/plain.err")"
! grep -q 'cpu' "$TMP/plain.err" || fail "cpu line without --cpu-report"

# Checks one run's stderr ($1): the summary (unless $2 = quiet) and a sane report; prints
# "after total events".
check_report() {
  local err=$1 quiet=${2:-} summary_events
  local report
  report=$(grep -E "$REPORT_RE" "$err") || fail "no cpu report line: $(cat "$err")"
  [[ $(grep -c 'cpu' "$err") == 1 ]] || fail "more than one cpu line: $(cat "$err")"
  [[ $report =~ $REPORT_RE ]] || fail "unparsable: $report"
  local after=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]} events=${BASH_REMATCH[3]}
  local us=${BASH_REMATCH[5]} rate=${BASH_REMATCH[6]}
  awk -v a="$after" -v t="$total" 'BEGIN { exit !(a >= 0 && a <= t && t > 0) }' ||
    fail "after start-up $after s, total $total s: $report"
  if [[ $quiet == quiet ]]; then
    ! grep -q 'payloads carrying' "$err" || fail "--quiet printed the summary: $(cat "$err")"
  else
    grep -Eq "$SUMMARY_RE" "$err" || fail "summary line changed: $(cat "$err")"
    summary_events=$(grep -Eo 'carrying [0-9]+ events' "$err" | grep -Eo '[0-9]+')
    [[ $events == "$summary_events" ]] || fail "report counts $events events, summary $summary_events"
  fi
  if [[ -n $us ]]; then
    # us/event = after * 1e6 / events and events/s/core = events / after, to the printed rounding
    # (after has 3 decimals, so allow its half-millisecond).
    awk -v a="$after" -v e="$events" -v us="$us" -v r="$rate" 'BEGIN {
      lo = (a - 0.0005) * 1e6 / e; hi = (a + 0.0005) * 1e6 / e;
      if (us < lo - 0.001 || us > hi + 0.001) exit 1;
      if (r * us < 0.99e6 || r * us > 1.01e6) exit 1 }' ||
      fail "us/event $us or events/s/core $rate disagree with $after s for $events events"
  fi
  echo "$after $total $events"
}

for threads in 1 3; do
  "$BIN" enrich --input "$TMP/in.b64" --output "$TMP/good.tsv" --bad "$TMP/bad.json" \
    --threads $threads --no-progress --cpu-report 2>"$TMP/report.err"
  read -r _ _ events < <(check_report "$TMP/report.err")
  [[ $events == 3000 ]] || fail "threads=$threads: report counts $events events, want 3000"
  [[ $(($(wc -l <"$TMP/good.tsv") + $(wc -l <"$TMP/bad.json"))) == 3000 ]] ||
    fail "threads=$threads: output lines != 3000"
done

# --quiet: no summary, the report still.
"$BIN" enrich --input "$TMP/in.b64" --output /dev/null --bad /dev/null --threads 1 --quiet \
  --cpu-report 2>"$TMP/quiet.err"
read -r _ _ events < <(check_report "$TMP/quiet.err" quiet)
[[ $events == 3000 ]] || fail "--quiet: report counts $events events"

# The start-up is left out: the default enrichments on an empty input spend ~1 s loading their
# data (uap-core rules, DB-IP City) and nothing after, so nearly all the CPU is before the
# boundary. (Fails if the boundary were the process start or the end of the run.)
"$BIN" enrich --input "$TMP/empty.b64" --output /dev/null --bad /dev/null --threads 1 \
  --no-progress --default-enrichments --cpu-report 2>"$TMP/empty.err"
read -r after total events < <(check_report "$TMP/empty.err")
[[ $events == 0 ]] || fail "empty input: $events events"
! grep -q 'us/event' "$TMP/empty.err" || fail "empty input: a per-event figure: $(cat "$TMP/empty.err")"
awk -v a="$after" -v t="$total" 'BEGIN { exit !(t >= 0.2 && a < t / 4) }' ||
  fail "default enrichments, empty input: $after s after start-up of $total s total"

# And with events: the start-up stays out, the events' work is in.
"$BIN" enrich --input "$TMP/in.b64" --output /dev/null --bad /dev/null --threads 1 \
  --no-progress --default-enrichments --cpu-report 2>"$TMP/defaults.err"
read -r after2 total2 events < <(check_report "$TMP/defaults.err")
[[ $events == 3000 ]] || fail "default enrichments: $events events"
awk -v a="$after2" -v t="$total2" 'BEGIN { exit !(a > 0 && a < t / 2) }' ||
  fail "default enrichments, 3000 events: $after2 s after start-up of $total2 s total"
echo "enrich --cpu-report: ok"
