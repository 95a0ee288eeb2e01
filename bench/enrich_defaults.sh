#!/usr/bin/env bash
# `furrow enrich --default-enrichments` throughput on `furrow gen` traffic, with the user-agent
# cache on (default 10,000 entries) and off (--ua-cache 0), and with no optional enrichment for
# reference. Targets (issue #4): >= 150,000 events/s/core with the cache, >= 60,000 without.
#
#   bash bench/enrich_defaults.sh                    # EVENTS=300000 ROUNDS=5, ~1.5 min idle
#   FURROW_BIN=build/release/furrow ROUNDS=3 bash bench/enrich_defaults.sh
#   BASE_BIN=/tmp/old-furrow bash bench/enrich_defaults.sh   # also an older binary, interleaved
#   METHOD=diff bash bench/enrich_defaults.sh        # the sessions 3-6 method (EVENTS=100000)
#
# Method (METHOD=report, the default). One worker thread (--threads 1); the cost is CPU time
# (user + sys, all threads of the process: reader, worker, writer), which depends much less on
# how busy the machine is than wall time. `furrow enrich --cpu-report` prints the CPU time spent
# after start-up (enrichments loaded, ~130 MB of DB-IP City data opened and verified, uap-core
# rules compiled: 1.3-3.5 s, varying by +-0.5 s between runs) until the end, so the figure per
# event is that CPU time / events, from one run, with no start-up left in it and nothing
# subtracted. EVENTS is large (300,000: seconds of CPU per run) so that timer resolution and
# short disturbances weigh little. Every input is the same work in every round. Because this VM's
# speed drifts by up to 2x within minutes, the script runs ROUNDS rounds, each running every mode
# once (interleaved, so a slow minute hits all of them alike), and prints per mode the MEDIAN of
# the rounds with the smallest and largest in brackets (their spread is the noise of the
# figure), plus two same-round figures, least affected by drift: the enrichments' cost (mode
# minus the no-enrichment run of the same round) and the cost ratio mode / no enrichment.
# With BASE_BIN (which must have --cpu-report), every round also runs each mode with that binary
# right after the new binary's run of the same mode, and the script prints the older binary's
# figures and per mode the median over rounds of the old/new cost ratio; that doubles the time.
#
# METHOD=diff: the method of sessions 3-6, kept for comparison. Each mode runs on EVENTS and
# 2 x EVENTS events (default EVENTS=100000); the steady cost is (CPU(2N) - CPU(N)) / N of the
# whole process, so the start-up cancels only as far as it is the same in both runs. Works with
# binaries without --cpu-report; with it, the report method's figure of the same 2N runs is
# printed beside, so the two methods' spreads can be compared on the same runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FURROW_BIN:-build/release/furrow}
BASE_BIN=${BASE_BIN:-}
METHOD=${METHOD:-report}
case $METHOD in
  report) EVENTS=${EVENTS:-300000} ;;
  diff) EVENTS=${EVENTS:-100000} ;;
  *) echo "METHOD must be report or diff" >&2; exit 2 ;;
esac
ROUNDS=${ROUNDS:-5}
SEED=${SEED:-42}
TMP=$(mktemp -d /tmp/furrow-enrich-defaults-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $BIN ]] || { echo "no furrow binary at $BIN (make release, or set FURROW_BIN)" >&2; exit 1; }
[[ -z $BASE_BIN || -x $BASE_BIN ]] || { echo "no furrow binary at BASE_BIN=$BASE_BIN" >&2; exit 1; }
has_report() { "$1" enrich --help 2>/dev/null | grep -q -- '--cpu-report'; }
for b in "$BIN" ${BASE_BIN:+"$BASE_BIN"}; do
  if [[ $METHOD == report ]] && ! has_report "$b"; then
    echo "$b has no 'enrich --cpu-report'; use METHOD=diff for it" >&2
    exit 1
  fi
done

declare -A REPORTS
for b in "$BIN" ${BASE_BIN:+"$BASE_BIN"}; do
  if has_report "$b"; then REPORTS[$b]=1; else REPORTS[$b]=0; fi
done

# Runs enrich once; writes "total_cpu after_cpu events" to $TMP/run (after_cpu and events "-"
# when the binary has no --cpu-report). RUN_BIN: the binary to run (default BIN). Checks the
# event count; exits the script on a failed run.
run_once() {
  local input=$1 want=$2 bin=${RUN_BIN:-$BIN} report=()
  shift 2
  ((REPORTS[$bin])) && report=(--cpu-report)
  /usr/bin/time -f '%U %S' -o "$TMP/time" "$bin" enrich --input "$input" --output /dev/null \
    --bad /dev/null --threads 1 --no-progress "${report[@]}" "$@" 2>"$TMP/stderr" >/dev/null
  if grep -q 'warning' "$TMP/stderr"; then
    cat "$TMP/stderr" >&2
    echo "default data missing: run scripts/setup (npm packages) first" >&2
    exit 1
  fi
  grep -q "carrying $want events" "$TMP/stderr" || { cat "$TMP/stderr" >&2; echo "expected $want events" >&2; exit 1; }
  if ((${#report[@]})); then
    sed -nE 's/^furrow enrich: cpu ([0-9.]+) s after start-up .* of ([0-9.]+) s total; ([0-9]+) events.*/\2 \1 \3/p' \
      "$TMP/stderr" >"$TMP/run"
    [[ -s $TMP/run ]] || { cat "$TMP/stderr" >&2; echo "no cpu report line" >&2; exit 1; }
  else
    read -r user sys <"$TMP/time"
    echo "$(echo "$user + $sys" | bc -l) - -" >"$TMP/run"
  fi
}

echo "# furrow enrich --default-enrichments, METHOD=$METHOD ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN" gen --count "$EVENTS" --seed "$SEED" --output "$TMP/in1.b64" --quiet
if [[ $METHOD == diff ]]; then
  "$BIN" gen --count "$((2 * EVENTS))" --seed "$SEED" --output "$TMP/in2.b64" --quiet
  echo "input: furrow gen --count $EVENTS and $((2 * EVENTS)) --seed $SEED; (CPU(2N) - CPU(N)) / N; median of $ROUNDS rounds [min, max]"
else
  echo "input: furrow gen --count $EVENTS --seed $SEED; CPU after start-up / events (--cpu-report); median of $ROUNDS rounds [min, max]"
fi

# Prints the steady CPU microseconds per event of one mode (arguments: extra enrich options);
# with METHOD=diff, also appends the report method's figure of the 2N run to $TMP/$REPORT_FILE.
steady_us() {
  local total1 total2 after2 events2 after1 events1
  if [[ $METHOD == report ]]; then
    run_once "$TMP/in1.b64" "$EVENTS" "$@"
    read -r _ after1 events1 <"$TMP/run"
    echo "$after1 * 1000000 / $events1" | bc -l
    return
  fi
  run_once "$TMP/in1.b64" "$EVENTS" "$@"
  read -r total1 _ _ <"$TMP/run"
  run_once "$TMP/in2.b64" "$((2 * EVENTS))" "$@"
  read -r total2 after2 events2 <"$TMP/run"
  if [[ $after2 != - ]]; then echo "$after2 * 1000000 / $events2" | bc -l >>"$TMP/$REPORT_FILE"; fi
  echo "($total2 - $total1) * 1000000 / $EVENTS" | bc -l
}

modes=(base cache nocache)
args_of() {
  case $1 in
    base) ;;
    cache) echo --default-enrichments ;;
    nocache) echo --default-enrichments --ua-cache 0 ;;
  esac
}
for ((r = 1; r <= ROUNDS; ++r)); do
  for mode in "${modes[@]}"; do
    # shellcheck disable=SC2046  # args_of prints separate words on purpose
    REPORT_FILE=$mode.report steady_us $(args_of "$mode") >>"$TMP/$mode.us"
    if [[ -n $BASE_BIN ]]; then
      # shellcheck disable=SC2046
      REPORT_FILE=old-$mode.report RUN_BIN=$BASE_BIN steady_us $(args_of "$mode") >>"$TMP/old-$mode.us"
      awk -v old="$(tail -n1 "$TMP/old-$mode.us")" -v new="$(tail -n1 "$TMP/$mode.us")" \
        'BEGIN { if (new > 0) print old / new; else print "nan" }' >>"$TMP/ratio-$mode"
    fi
  done
  # Same-round figures against the no-enrichment run.
  for mode in cache nocache; do
    for p in "" old-; do
      [[ -f $TMP/$p$mode.us ]] || continue
      awk -v m="$(tail -n1 "$TMP/$p$mode.us")" -v b="$(tail -n1 "$TMP/${p}base.us")" \
        'BEGIN { print m - b; if (b > 0) print m / b > "/dev/stderr"; else print "nan" > "/dev/stderr" }' \
        >>"$TMP/$p$mode.minus" 2>>"$TMP/$p$mode.over"
    done
  done
  echo "round $r of $ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

# "median min max" of the figures in a file.
stats() { sort -g "$1" | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'; }

# Prints the figures of one binary (prefix "" = BIN, "old-" = BASE_BIN).
report_of() {
  local p=$1 us lo hi d dlo dhi q qlo qhi
  read -r us lo hi < <(stats "$TMP/${p}base.us")
  printf '  no optional enrichment:     %6.2f us/event  %8.0f events/s/core  [%.2f, %.2f]\n' "$us" \
    "$(echo "1000000 / $us" | bc -l)" "$lo" "$hi"
  for mode in cache nocache; do
    read -r us lo hi < <(stats "$TMP/$p$mode.us")
    read -r d dlo dhi < <(stats "$TMP/$p$mode.minus")
    read -r q qlo qhi < <(stats "$TMP/$p$mode.over")
    printf '  defaults, %-8s          %6.2f us/event  %8.0f events/s/core  [%.2f, %.2f]\n' "$mode:" "$us" \
      "$(echo "1000000 / $us" | bc -l)" "$lo" "$hi"
    printf '      same round: enrichments %.2f us/event [%.2f, %.2f]; cost / no enrichment %.3f [%.3f, %.3f]\n' \
      "$d" "$dlo" "$dhi" "$q" "$qlo" "$qhi"
  done
  if [[ $METHOD == diff && -s $TMP/${p}base.report ]]; then
    echo "  the same 2N runs by the report method (CPU after start-up / events):"
    for mode in base cache nocache; do
      read -r us lo hi < <(stats "$TMP/$p$mode.report")
      printf '    %-8s %6.2f us/event  %8.0f events/s/core  [%.2f, %.2f]\n' "$mode:" "$us" \
        "$(echo "1000000 / $us" | bc -l)" "$lo" "$hi"
    done
  fi
}
echo "FURROW_BIN=$BIN:"
report_of ""
if [[ -n $BASE_BIN ]]; then
  echo "BASE_BIN=$BASE_BIN, same rounds:"
  report_of old-
  for mode in base cache nocache; do
    read -r q qlo qhi < <(stats "$TMP/ratio-$mode")
    printf '  old/new cost ratio, %-8s median of rounds %.3f [%.3f, %.3f]\n' "$mode:" "$q" "$qlo" "$qhi"
  done
fi
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
