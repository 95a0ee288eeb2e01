#!/usr/bin/env bash
# `furrow enrich --default-enrichments` throughput on `furrow gen` traffic, with the user-agent
# cache on (default 10,000 entries) and off (--ua-cache 0). Targets (issue #4): >= 150,000
# events/s/core with the cache, >= 60,000 without.
#
#   bash bench/enrich_defaults.sh                 # EVENTS=100000
#   FURROW_BIN=build/release/furrow EVENTS=50000 bash bench/enrich_defaults.sh
#
# One worker thread (--threads 1); events/s/core = events / (user + sys CPU seconds) of the
# enrich process, which does not depend on how busy the machine is. The start-up cost (opening and
# verifying the ~130 MB of DB-IP City data, compiling the uap-core rules) is measured separately
# with an empty input and subtracted, so the figure is the steady state. A run with no optional
# enrichment gives the pipeline's own cost for comparison. Bounded to about 3 minutes on an idle
# 2-core machine with the default EVENTS.
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
"$BIN" gen --count "$EVENTS" --seed "$SEED" --output "$TMP/in.b64" --quiet
: >"$TMP/empty.b64"
echo "input: furrow gen --count $EVENTS --seed $SEED ($(stat -c %s "$TMP/in.b64") bytes)"

base=$(cpu_of "$TMP/in.b64")
printf 'no optional enrichment:        CPU %6.2fs  %8.0f events/s/core\n' "$base" "$(echo "$EVENTS / $base" | bc -l)"
for mode in cache nocache; do
  args=(--default-enrichments)
  [[ $mode == nocache ]] && args+=(--ua-cache 0)
  startup=$(cpu_of "$TMP/empty.b64" "${args[@]}")
  total=$(cpu_of "$TMP/in.b64" "${args[@]}")
  steady=$(echo "$total - $startup" | bc -l)
  printf 'default enrichments, %-8s CPU %6.2fs (start-up %.2fs)  %8.0f events/s/core steady, %.2f us/event of which enrichments %.2f us\n' \
    "$mode:" "$total" "$startup" "$(echo "$EVENTS / $steady" | bc -l)" \
    "$(echo "$steady * 1000000 / $EVENTS" | bc -l)" "$(echo "($steady - $base) * 1000000 / $EVENTS" | bc -l)"
done
