#!/usr/bin/env bash
# `furrow enrich --default-enrichments` throughput on `furrow gen` traffic, with the user-agent
# cache on (default 10,000 entries) and off (--ua-cache 0). Targets (issue #4): >= 150,000
# events/s/core with the cache, >= 60,000 without.
#
#   bash bench/enrich_defaults.sh                 # EVENTS=100000 ROUNDS=5
#   FURROW_BIN=build/release/furrow EVENTS=50000 ROUNDS=3 bash bench/enrich_defaults.sh
#   BASE_BIN=/tmp/old-furrow bash bench/enrich_defaults.sh   # also an older binary, interleaved
#
# Method. One worker thread (--threads 1); the cost is CPU time (user + sys) of the enrich
# process, which depends much less on how busy the machine is than wall time. Each mode runs on
# EVENTS and on 2 x EVENTS generated events (same seed, distinct event ids); the steady cost per
# event is the CPU difference divided by EVENTS, so the start-up (opening and verifying the
# ~130 MB of DB-IP City data, compiling the uap-core rules: 1.3-3.5 s, varying by up to +-0.5 s
# between runs, too noisy to subtract when measured apart) cancels out. Every input is the same
# work in every round. Because this VM's speed drifts by up to 2x within minutes, a single
# difference is unreliable: the script runs ROUNDS rounds, each round running every mode once
# (modes interleaved, so a slow minute hits all of them alike), and prints per mode the MEDIAN of
# the rounds' steady costs, with the smallest and largest in brackets (their spread is the noise
# of the figure). A run with no optional enrichment gives the pipeline's own cost for comparison;
# "of which enrichments" is the difference of the two medians. Bounded to about 3 minutes on an
# idle 2-core machine with the defaults. With BASE_BIN, every round also runs the three modes with
# that binary (same inputs, right after the new binary's run of the same mode), and the script
# prints its figures and, per mode, the median over rounds of the old/new cost ratio (the ratio
# within a round is the figure least affected by the VM's drift); that doubles the time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FURROW_BIN:-build/release/furrow}
BASE_BIN=${BASE_BIN:-}
EVENTS=${EVENTS:-100000}
ROUNDS=${ROUNDS:-5}
SEED=${SEED:-42}
TMP=$(mktemp -d /tmp/furrow-enrich-defaults-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $BIN ]] || { echo "no furrow binary at $BIN (make release, or set FURROW_BIN)" >&2; exit 1; }
[[ -z $BASE_BIN || -x $BASE_BIN ]] || { echo "no furrow binary at BASE_BIN=$BASE_BIN" >&2; exit 1; }

# Prints the CPU seconds (user + sys) of one enrich run; checks its summary line.
# RUN_BIN: the binary to run (default BIN).
cpu_of() {
  local input=$1
  shift
  /usr/bin/time -f '%U %S' -o "$TMP/time" "${RUN_BIN:-$BIN}" enrich --input "$input" --output /dev/null \
    --bad /dev/null --threads 1 --no-progress "$@" 2>"$TMP/stderr" >/dev/null
  if grep -q 'warning' "$TMP/stderr"; then
    cat "$TMP/stderr" >&2
    echo "default data missing: run scripts/setup (npm packages) first" >&2
    exit 1
  fi
  read -r user sys <"$TMP/time"
  echo "$user + $sys" | bc -l
}

echo "# furrow enrich --default-enrichments ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN" gen --count "$EVENTS" --seed "$SEED" --output "$TMP/in1.b64" --quiet
"$BIN" gen --count "$((2 * EVENTS))" --seed "$SEED" --output "$TMP/in2.b64" --quiet
echo "input: furrow gen --count $EVENTS and $((2 * EVENTS)) --seed $SEED; median of $ROUNDS rounds [min, max]"

# Prints the steady CPU microseconds per event of one mode (arguments: extra enrich options).
steady_us() {
  local one two
  one=$(cpu_of "$TMP/in1.b64" "$@")
  two=$(cpu_of "$TMP/in2.b64" "$@")
  echo "($two - $one) * 1000000 / $EVENTS" | bc -l
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
    steady_us $(args_of "$mode") >>"$TMP/$mode.us"
    if [[ -n $BASE_BIN ]]; then
      # shellcheck disable=SC2046
      RUN_BIN=$BASE_BIN steady_us $(args_of "$mode") >>"$TMP/old-$mode.us"
      awk -v old="$(tail -n1 "$TMP/old-$mode.us")" -v new="$(tail -n1 "$TMP/$mode.us")" \
        'BEGIN { if (new > 0) print old / new; else print "nan" }' >>"$TMP/ratio-$mode"
    fi
  done
  echo "round $r of $ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

# "median min max" of the figures in a file.
stats() { sort -g "$1" | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'; }

read -r base base_min base_max < <(stats "$TMP/base.us")
printf 'no optional enrichment:        %6.2f us/event  %8.0f events/s/core  [%.2f, %.2f]\n' "$base" \
  "$(echo "1000000 / $base" | bc -l)" "$base_min" "$base_max"
for mode in cache nocache; do
  read -r us us_min us_max < <(stats "$TMP/$mode.us")
  printf 'default enrichments, %-8s %6.2f us/event  %8.0f events/s/core, of which enrichments %.2f us  [%.2f, %.2f]\n' \
    "$mode:" "$us" "$(echo "1000000 / $us" | bc -l)" "$(echo "$us - $base" | bc -l)" "$us_min" "$us_max"
done
if [[ -n $BASE_BIN ]]; then
  echo "BASE_BIN=$BASE_BIN, same rounds:"
  for mode in base cache nocache; do
    read -r us us_min us_max < <(stats "$TMP/old-$mode.us")
    read -r ratio ratio_min ratio_max < <(stats "$TMP/ratio-$mode")
    printf '  %-8s %6.2f us/event  %8.0f events/s/core  [%.2f, %.2f]; old/new cost ratio, median of rounds %.3f [%.3f, %.3f]\n' \
      "$mode:" "$us" "$(echo "1000000 / $us" | bc -l)" "$us_min" "$us_max" "$ratio" "$ratio_min" "$ratio_max"
  done
fi
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
