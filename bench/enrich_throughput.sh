#!/usr/bin/env bash
# `furrow enrich` throughput and memory on `furrow gen` traffic (no optional enrichments).
#
#   bash bench/enrich_throughput.sh            # 300k-event throughput runs + the 10M memory run
#   EVENTS=100000 BIG=0 bash bench/enrich_throughput.sh   # quick: throughput only
#   CALLGRIND=1 BIG=0 bash bench/enrich_throughput.sh     # + instructions per event (valgrind)
#   EXTRACTORS=1 CALLGRIND=1 BIG=0 bash bench/enrich_throughput.sh
#       # the same with cookie_extractor_config (sp), http_header_extractor_config (every header)
#       # and event_fingerprint_config enabled (the configs of enrich_checksum_enrichments_test.sh)
#   BASE_BIN=/path/to/old/furrow ROUNDS=5 EVENTS=300000 BIG=0 bash bench/enrich_throughput.sh
#       # + A/B rounds: the old and this binary alternately, CPU seconds and their ratio per round
#   ENRICH_ARGS=--default-enrichments CALLGRIND=1 BIG=0 bash bench/enrich_throughput.sh
#       # any enrich options; with the default enrichments the start-up under valgrind takes
#       # minutes, but cancels out of the difference
#
# Throughput: the input is generated into a file first, then enriched with --threads 1 and with
# all cores; events/s/core = events / (user + sys CPU seconds), which does not depend on how busy
# the machine is. Memory: 10M generated events are piped straight into enrich (no 14 GB file), and
# the peak RSS is compared with a 1M-event run: bounded queues keep it flat.
# Instructions per event (CALLGRIND=1, needs valgrind; ~1-2 minutes): callgrind's instruction
# count for 20,000 events minus that for 10 events (start-up), divided by the 19,990 events
# between: the same on a busy machine as on an idle one.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FURROW_BIN:-build/release/furrow}
EVENTS=${EVENTS:-300000}
BIG=${BIG:-10000000}
SEED=${SEED:-42}
read -r -a EXTRA <<<"${ENRICH_ARGS:-}"
TMP=$(mktemp -d /tmp/furrow-bench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $BIN ]] || { echo "no furrow binary at $BIN (make release, or set FURROW_BIN)" >&2; exit 1; }
if [[ ${EXTRACTORS:-0} != 0 ]]; then
  mkdir -p "$TMP/cfg"
  cp examples/enrichments/cookie_extractor_config.json examples/enrichments/event_fingerprint_config.json \
    "$TMP/cfg/"
  sed 's/"X-Forwarded-For|Accept-Language"/".*"/' examples/enrichments/http_header_extractor_config.json \
    >"$TMP/cfg/http_header_extractor_config.json"
  EXTRA+=(--enrichments "$TMP/cfg")
  ENRICH_ARGS="${ENRICH_ARGS:-} --enrichments <cookie, header, fingerprint configs>"
fi

# Runs a command under GNU time; prints "wall user sys maxrss_kb".
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" 2>"$TMP/stderr" >/dev/null
  grep -h 'read .* payloads' "$TMP/stderr" >&2 || true
  cat "$TMP/time"
}

echo "# furrow enrich throughput ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m))"
echo "input: furrow gen --count $EVENTS --seed $SEED (no malformed payloads)${ENRICH_ARGS:+, enrich options: $ENRICH_ARGS}"
"$BIN" gen --count "$EVENTS" --seed "$SEED" --output "$TMP/in.b64" --quiet
echo "input size: $(stat -c %s "$TMP/in.b64") bytes"
for threads in 1 0; do
  read -r wall user sys rss < <(measure "$BIN" enrich --input "$TMP/in.b64" --output /dev/null \
    --bad /dev/null --threads "$threads" "${EXTRA[@]}")
  cpu=$(echo "$user + $sys" | bc -l)
  printf 'threads=%s: wall %ss, CPU %ss (user %s + sys %s), %.0f events/s/core, %.0f events/s wall, peak RSS %s KiB\n' \
    "$([[ $threads == 0 ]] && echo "all($(nproc))" || echo "$threads")" "$wall" "$cpu" "$user" "$sys" \
    "$(echo "$EVENTS / $cpu" | bc -l)" "$(echo "$EVENTS / $wall" | bc -l)" "$rss"
done
if [[ -n ${BASE_BIN:-} ]]; then
  # A/B: the base and this binary alternately on the same input, ROUNDS times (--threads 1);
  # the VM's speed drifts between runs, so only each round's ratio is meaningful.
  [[ -x $BASE_BIN ]] || { echo "no binary at BASE_BIN=$BASE_BIN" >&2; exit 1; }
  ratios=()
  for ((r = 1; r <= ${ROUNDS:-5}; r++)); do
    read -r _ bu bs _ < <(measure "$BASE_BIN" enrich --input "$TMP/in.b64" --output /dev/null \
      --bad /dev/null --threads 1 "${EXTRA[@]}")
    read -r _ nu ns _ < <(measure "$BIN" enrich --input "$TMP/in.b64" --output /dev/null \
      --bad /dev/null --threads 1 "${EXTRA[@]}")
    base_cpu=$(echo "$bu + $bs" | bc -l)
    new_cpu=$(echo "$nu + $ns" | bc -l)
    ratio=$(echo "$base_cpu / $new_cpu" | bc -l)
    ratios+=("$ratio")
    printf 'A/B round %d: base %ss CPU, new %ss CPU, base/new %.2f (load %s)\n' "$r" "$base_cpu" \
      "$new_cpu" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  printf 'A/B median base/new: %.2f\n' "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
fi
rm -f "$TMP/in.b64"

if [[ ${CALLGRIND:-0} != 0 ]]; then
  irefs() {
    "$BIN" gen --count "$1" --seed "$SEED" --output "$TMP/cg.b64" --quiet
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" enrich --input "$TMP/cg.b64" \
      --output /dev/null --bad /dev/null --threads 1 "${EXTRA[@]}" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,
  }
  small=$(irefs 10)
  large=$(irefs 20000)
  echo "instructions/event (callgrind, --threads 1, 20000 - 10 events): $(((large - small) / 19990))"
  rm -f "$TMP/cg.b64"
fi

if [[ $BIG != 0 ]]; then
  for n in 1000000 "$BIG"; do
    "$BIN" gen --count "$n" --seed "$SEED" --quiet |
      /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$BIN" enrich --output /dev/null --bad /dev/null \
        2>"$TMP/stderr"
    grep -h 'read .* payloads' "$TMP/stderr" || true
    read -r wall user sys rss < "$TMP/time"
    echo "gen | enrich, $n events: enrich wall ${wall}s, enrich CPU $(echo "$user + $sys" | bc -l)s, enrich peak RSS ${rss} KiB"
  done
fi
