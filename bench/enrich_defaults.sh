#!/usr/bin/env bash
# `furrow enrich --default-enrichments` throughput on `furrow gen` traffic, with the user-agent
# cache on (default 10,000 entries) and off (--ua-cache 0). Targets (issue #4): >= 150,000
# events/s/core with the cache, >= 60,000 without.
#
#   bash bench/enrich_defaults.sh                 # EVENTS=100000
#   FURROW_BIN=build/release/furrow EVENTS=50000 bash bench/enrich_defaults.sh
#
# One worker thread (--threads 1); events/s/core = events / (user + sys CPU seconds) of the
# enrich process, which depends much less on how busy the machine is than wall time. Each mode
# runs on EVENTS and on 2 x EVENTS generated events; the steady cost per event is the CPU
# difference divided by EVENTS, so the start-up (opening and verifying the ~130 MB of DB-IP City
# data, compiling the uap-core rules: 2.5-3.5 s that varied by +-0.5 s between runs, too noisy to
# subtract when measured apart) cancels out. A run with no optional enrichment gives the
# pipeline's own cost for comparison. Bounded to about 3 minutes on an idle 2-core machine with
# the default EVENTS.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FURROW_BIN:-build/release/furrow}
EVENTS=${EVENTS:-100000}
SEED=${SEED:-42}
TMP=$(mktemp -d /tmp/furrow-enrich-defaults-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $BIN ]] || { echo "no furrow binary at $BIN (make release, or set FURROW_BIN)" >&2; exit 1; }

# Prints the CPU seconds (user + sys) of one enrich run; checks its summary line.
cpu_of() {
  local input=$1
  shift
  /usr/bin/time -f '%U %S' -o "$TMP/time" "$BIN" enrich --input "$input" --output /dev/null \
    --bad /dev/null --threads 1 --no-progress "$@" 2>"$TMP/stderr" >/dev/null
  if grep -q 'warning' "$TMP/stderr"; then
    cat "$TMP/stderr" >&2
    echo "default data missing: run scripts/setup (npm packages) first" >&2
    exit 1
  fi
  grep -h 'read .* payloads' "$TMP/stderr" >&2 || true
  read -r user sys <"$TMP/time"
  echo "$user + $sys" | bc -l
}

echo "# furrow enrich --default-enrichments ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN" gen --count "$EVENTS" --seed "$SEED" --output "$TMP/in1.b64" --quiet
"$BIN" gen --count "$((2 * EVENTS))" --seed "$SEED" --output "$TMP/in2.b64" --quiet
echo "input: furrow gen --count $EVENTS and $((2 * EVENTS)) --seed $SEED"

# Prints the steady CPU microseconds per event of one mode (arguments: extra enrich options).
steady_us() {
  local one two
  one=$(cpu_of "$TMP/in1.b64" "$@")
  two=$(cpu_of "$TMP/in2.b64" "$@")
  echo "($two - $one) * 1000000 / $EVENTS" | bc -l
}

base=$(steady_us)
printf 'no optional enrichment:        %6.2f us/event  %8.0f events/s/core\n' "$base" \
  "$(echo "1000000 / $base" | bc -l)"
for mode in cache nocache; do
  args=(--default-enrichments)
  [[ $mode == nocache ]] && args+=(--ua-cache 0)
  us=$(steady_us "${args[@]}")
  printf 'default enrichments, %-8s %6.2f us/event  %8.0f events/s/core, of which enrichments %.2f us\n' \
    "$mode:" "$us" "$(echo "1000000 / $us" | bc -l)" "$(echo "$us - $base" | bc -l)"
done
