#!/usr/bin/env bash
# Load throughput of `furrow load` against each database's own bulk load of the same rows:
#   SQLite:     the sqlite3 shell's .import (one prepared INSERT, one transaction) into the same
#               table with the same indexes, synchronous=NORMAL like the loader;
#   PostgreSQL: psql \copy (COPY text format) into the same table on the same server.
# The ratio is baseline time / furrow time (1.0 = as fast as the database's own bulk load).
# For PostgreSQL it also prints CPU time per row, which is far less noisy than wall time on a
# shared machine: the client process's (user + system) and the server's (every PostgreSQL process,
# backends counted when they exit), each the lowest of the rounds.
#
#   bench/storage_load.sh [EVENTS] [ROUNDS]      (defaults 50000 and 3; best time of the rounds)
# Env: FURROW_BIN (default build/release/furrow).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-50000}
rounds=${2:-3}
bin=${FURROW_BIN:-build/release/furrow}
[[ -x $bin ]] || { echo "storage_load: $bin not built" >&2; exit 1; }
psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1)
[[ -n $psql_bin ]] || psql_bin=psql

work=$(mktemp -d /tmp/furrow_storage_bench.XXXXXX)
chmod 755 "$work"
pg_dir="$work/pg"
cleanup() {
  scripts/pg-test-server stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Enriched events shaped like browser traffic: page views and pings with a web_page context and a
# derived ua_parser context (about 1.3 KB a line). Deterministic.
awk -v n="$events" 'BEGIN {
  OFS = "\t";
  for (i = 1; i <= n; i++) {
    for (k = 1; k <= 131; k++) f[k] = "";
    s = sprintf("%02d", i % 60); m = sprintf("%02d", int(i / 60) % 60); h = sprintf("%02d", int(i / 3600) % 24);
    ts = "2024-03-01 " h ":" m ":" s ".123";
    f[1] = "shop"; f[2] = "web"; f[3] = ts; f[4] = ts; f[5] = ts;
    f[6] = (i % 3 == 0) ? "page_ping" : "page_view";
    f[7] = sprintf("%08x-0000-4000-8000-%012x", i, i);
    f[9] = "sp"; f[10] = "js-3.24.0"; f[11] = "ssc-3.2.0-stdout"; f[12] = "furrow-enrich-0.1.0";
    f[14] = "203.0.113." (i % 250); f[16] = sprintf("%08x-1111-4000-8000-000000000000", int(i / 40));
    f[17] = "1"; f[18] = sprintf("%08x-2222-4000-8000-000000000000", int(i / 40));
    f[19] = "US"; f[20] = "WA"; f[21] = "Seattle"; f[22] = "98101"; f[23] = "47.6062"; f[24] = "-122.3321";
    f[30] = "https://shop.example.com/products/" (i % 500) "?ref=home"; f[31] = "Product " (i % 500);
    f[32] = "https://www.google.com/search?q=shop"; f[33] = "https"; f[34] = "shop.example.com"; f[35] = "443";
    f[36] = "/products/" (i % 500); f[37] = "ref=home"; f[39] = "https"; f[40] = "www.google.com"; f[41] = "443";
    f[42] = "/search"; f[43] = "q=shop"; f[45] = "search"; f[46] = "Google"; f[47] = "shop";
    f[53] = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\",\"data\":{\"id\":\"" sprintf("%08x-3333-4000-8000-000000000000", int(i / 4)) "\"}}]}";
    if (f[6] == "page_ping") { f[74] = "0"; f[75] = "0"; f[76] = "0"; f[77] = 100 * (i % 30); }
    f[78] = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    f[84] = "en-US"; f[94] = "1"; f[95] = "24"; f[96] = "1280"; f[97] = "800"; f[101] = "Europe/London";
    f[103] = "0"; f[104] = "1920"; f[105] = "1080"; f[106] = "UTF-8"; f[107] = "1280"; f[108] = "4000";
    f[120] = ts; f[123] = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\",\"data\":{\"useragentFamily\":\"Firefox\",\"useragentMajor\":\"120\",\"useragentMinor\":\"0\",\"useragentPatch\":null,\"useragentVersion\":\"Firefox 120.0\",\"osFamily\":\"Linux\",\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,\"osPatchMinor\":null,\"osVersion\":\"Linux\",\"deviceFamily\":\"Other\"}}]}";
    f[124] = sprintf("%08x-4444-4000-8000-000000000000", int(i / 20)); f[125] = ts;
    f[126] = "com.snowplowanalytics.snowplow"; f[127] = f[6]; f[128] = "jsonschema"; f[129] = "1-0-0";
    f[130] = sprintf("fp%d", i);
    line = f[1]; for (k = 2; k <= 131; k++) line = line OFS f[k];
    print line;
  }
}' >"$work/events.tsv"
# The baselines load the same rows plus the load_id column furrow adds.
awk '{ print $0 "\t1" }' "$work/events.tsv" >"$work/events_with_load_id.tsv"
bytes=$(stat -c %s "$work/events.tsv")

now() { date +%s.%N; }
clk_tck=$(getconf CLK_TCK)
# `timed cmd...` runs the command (output discarded; a failure stops the script) and sets `wall`
# (seconds) and `cpu` (CPU seconds of its process tree, user + system).
timed() {
  local c0 c1 t0 t1
  c0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  c1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  wall=$(elapsed "$t0" "$t1")
  cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / hz }')
}
best() { sort -g | head -1; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# --- SQLite --------------------------------------------------------------------------------
sqlite_ours=() sqlite_base=()
for r in $(seq "$rounds"); do
  rm -f "$work"/a.db* "$work"/b.db*
  t0=$(now); "$bin" load --to "sqlite:$work/a.db" -q "$work/events.tsv"; t1=$(now)
  sqlite_ours+=("$(elapsed "$t0" "$t1")")
  "$bin" load --to "sqlite:$work/b.db" -q /dev/null   # same schema, empty
  t0=$(now)
  sqlite3 "$work/b.db" <<SQL
PRAGMA synchronous=NORMAL;
.mode tabs
.import $work/events_with_load_id.tsv atomic_events
SQL
  t1=$(now)
  sqlite_base+=("$(elapsed "$t0" "$t1")")
  a=$(sqlite3 "$work/a.db" "SELECT count(*) FROM atomic_events")
  b=$(sqlite3 "$work/b.db" "SELECT count(*) FROM atomic_events")
  [[ $a == "$events" && $b == "$events" ]] || { echo "row counts differ: furrow $a, sqlite3 $b" >&2; exit 1; }
done
so=$(printf '%s\n' "${sqlite_ours[@]}" | best)
sb=$(printf '%s\n' "${sqlite_base[@]}" | best)

# --- PostgreSQL ----------------------------------------------------------------------------
url=$(scripts/pg-test-server start "$pg_dir" | tail -1)
"$bin" load --to "$url" -q /dev/null   # create the schema
postmaster=$(head -1 "$pg_dir/data/postmaster.pid")
# CPU seconds used so far by the server: live processes plus exited ones (the postmaster's
# children times).
server_cpu() {
  local p total
  total=$(awk '{ print $16 + $17 }' /proc/$postmaster/stat)
  for p in $postmaster $(pgrep -P "$postmaster"); do
    total=$((total + $(awk '{ print $14 + $15 }' /proc/$p/stat 2>/dev/null || echo 0)))
  done
  echo "$total"
}
pg_ours=() pg_base=() cpu_ours=() cpu_base=() srv_ours=() srv_base=()
reset_pg() { "$psql_bin" -X -q "$url" -c "TRUNCATE atomic_events, bad_rows, loaded_files, load_batches" -c "VACUUM ANALYZE atomic_events" >/dev/null 2>&1; }
per_row() { awk -v a="$1" -v b="$2" -v hz="$3" -v n="$events" 'BEGIN { printf "%.2f", (b - a) / hz / n * 1e6 }'; }
for r in $(seq "$rounds"); do
  reset_pg
  s0=$(server_cpu)
  timed "$bin" load --to "$url" -q "$work/events.tsv"
  sleep 0.2; s1=$(server_cpu)
  pg_ours+=("$wall") cpu_ours+=("$(per_row 0 "$cpu" 1)") srv_ours+=("$(per_row "$s0" "$s1" "$clk_tck")")
  a=$("$psql_bin" -X -qAt "$url" -c "SELECT count(*) FROM atomic_events")
  reset_pg
  s0=$(server_cpu)
  timed "$psql_bin" -X -q "$url" -c "\\copy atomic_events FROM '$work/events_with_load_id.tsv' WITH (FORMAT text, NULL '')"
  sleep 0.2; s1=$(server_cpu)
  pg_base+=("$wall") cpu_base+=("$(per_row 0 "$cpu" 1)") srv_base+=("$(per_row "$s0" "$s1" "$clk_tck")")
  b=$("$psql_bin" -X -qAt "$url" -c "SELECT count(*) FROM atomic_events")
  [[ $a == "$events" && $b == "$events" ]] || { echo "row counts differ: furrow $a, psql $b" >&2; exit 1; }
done
po=$(printf '%s\n' "${pg_ours[@]}" | best)
pb=$(printf '%s\n' "${pg_base[@]}" | best)
co=$(printf '%s\n' "${cpu_ours[@]}" | best) cb=$(printf '%s\n' "${cpu_base[@]}" | best)
so_=$(printf '%s\n' "${srv_ours[@]}" | best) sb_=$(printf '%s\n' "${srv_base[@]}" | best)

report() {  # name ours base
  awk -v name="$1" -v n="$events" -v ours="$2" -v base="$3" 'BEGIN {
    printf "| %s | %d | %.2f s (%d events/s) | %.2f s | %.2f |\n", name, n, ours, n / ours, base, base / ours }'
}
echo "input: $events events, $bytes bytes of enriched TSV; best of $rounds rounds"
echo "| database | events | furrow load | database bulk load | ratio (bulk / furrow) |"
echo "|---|---|---|---|---|"
report "SQLite (vs sqlite3 .import)" "$so" "$sb"
report "PostgreSQL 15 (vs psql \\copy)" "$po" "$pb"
echo
echo "PostgreSQL CPU per row (lowest of $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)):"
echo "| loader | client CPU us/row | server CPU us/row | total us/row |"
echo "|---|---|---|---|"
awk -v c="$co" -v s="$so_" 'BEGIN { printf "| furrow load | %.1f | %.1f | %.1f |\n", c, s, c + s }'
awk -v c="$cb" -v s="$sb_" 'BEGIN { printf "| psql \\copy | %.1f | %.1f | %.1f |\n", c, s, c + s }'
