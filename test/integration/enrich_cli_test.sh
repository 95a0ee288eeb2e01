#!/usr/bin/env bash
# `furrow enrich` and `furrow gen` as a user meets them: help, version, exit codes, error messages
# that name the file, determinism of gen, exact counts (read = good + bad), input order kept
# across threads, and the malformed corpus through the binary.
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
TMP=$(mktemp -d /tmp/furrow-enrich-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Help and version.
"$BIN" --help | grep -q 'enrich' || fail "furrow --help does not list enrich"
"$BIN" --help | grep -q 'gen' || fail "furrow --help does not list gen"
"$BIN" enrich --help | grep -q -- '--input-format' || fail "enrich --help lacks --input-format"
"$BIN" gen --help | grep -q -- '--malformed-share' || fail "gen --help lacks --malformed-share"
"$BIN" version | grep -Eq '^furrow [0-9]+\.[0-9]+\.[0-9]+' || fail "furrow version"

# Exit codes (docs/cli.md): 2 for bad flags, 1 for unreadable input, with the file named.
set +e
"$BIN" enrich --threads nope </dev/null >/dev/null 2>"$TMP/err"; code=$?
[[ $code == 2 ]] || fail "bad flag: exit $code, want 2"
"$BIN" enrich --input-format nonsense </dev/null >/dev/null 2>"$TMP/err"; code=$?
[[ $code == 2 ]] || fail "unknown input format: exit $code, want 2"
grep -q "nonsense" "$TMP/err" || fail "unknown format not named: $(cat "$TMP/err")"
"$BIN" enrich --input "$TMP/missing.b64" >/dev/null 2>"$TMP/err"; code=$?
[[ $code == 1 ]] || fail "missing input: exit $code, want 1"
grep -q "$TMP/missing.b64" "$TMP/err" || fail "missing input not named: $(cat "$TMP/err")"
"$BIN" enrich --input /dev/null --output /nonexistent-dir/out.tsv >/dev/null 2>"$TMP/err"; code=$?
[[ $code == 1 ]] || fail "unwritable output: exit $code, want 1"
grep -q "/nonexistent-dir/out.tsv" "$TMP/err" || fail "output not named: $(cat "$TMP/err")"
"$BIN" gen --malformed-share 2 >/dev/null 2>&1; code=$?
[[ $code == 2 ]] || fail "gen --malformed-share 2: exit $code, want 2"
set -e

# gen: same seed, same bytes; another seed, other bytes.
"$BIN" gen --count 3000 --seed 5 --malformed-share 0.1 --output "$TMP/a.b64" 2>"$TMP/gen_err"
"$BIN" gen --count 3000 --seed 5 --malformed-share 0.1 >"$TMP/b.b64" 2>/dev/null
"$BIN" gen --count 3000 --seed 6 --malformed-share 0.1 >"$TMP/c.b64" 2>/dev/null
cmp -s "$TMP/a.b64" "$TMP/b.b64" || fail "gen is not deterministic"
! cmp -s "$TMP/a.b64" "$TMP/c.b64" || fail "gen ignores --seed"
grep -q 'carrying 3000 events' "$TMP/gen_err" || fail "gen summary: $(cat "$TMP/gen_err")"

# enrich: E = --count exactly, E = G + B, and every output line is accounted for; the output is
# identical whatever the number of threads (input order kept).
for threads in 1 2 5; do
  "$BIN" enrich --input "$TMP/a.b64" --output "$TMP/good$threads.tsv" --bad "$TMP/bad$threads.json" \
    --threads "$threads" 2>"$TMP/err$threads"
  summary=$(grep -o 'read [0-9]* payloads carrying [0-9]* events: [0-9]* good, [0-9]* bad' "$TMP/err$threads") \
    || fail "no summary: $(cat "$TMP/err$threads")"
  read -r _ p _ _ e _ g _ b _ <<<"${summary//[:,]/}"
  [[ $e == 3000 ]] || fail "threads=$threads: $e events, want 3000"
  [[ $((g + b)) == "$e" ]] || fail "threads=$threads: $g + $b != $e"
  [[ $p == $(wc -l <"$TMP/a.b64") ]] || fail "threads=$threads: $p payloads, want $(wc -l <"$TMP/a.b64")"
  [[ $(wc -l <"$TMP/good$threads.tsv") == "$g" ]] || fail "good lines != $g"
  [[ $(wc -l <"$TMP/bad$threads.json") == "$b" ]] || fail "bad lines != $b"
  (( b > 40 )) || fail "only $b bad rows from 10% of ~900 payloads malformed"
done
# event_id and etl_tstamp differ between runs only where enrich generates them; compare the rest.
strip() { cut -f1,2,4-6,8-131 "$1"; }
cmp -s <(strip "$TMP/good1.tsv") <(strip "$TMP/good2.tsv") || fail "threads=2 changed the output"
cmp -s <(strip "$TMP/good1.tsv") <(strip "$TMP/good5.tsv") || fail "threads=5 changed the output"

# stdin → stdout, bad rows to stderr by default.
"$BIN" gen --count 50 --seed 9 --quiet | "$BIN" enrich --quiet >"$TMP/stdout.tsv" 2>"$TMP/stderr"
[[ $(wc -l <"$TMP/stdout.tsv") == 50 ]] || fail "stdin/stdout: $(wc -l <"$TMP/stdout.tsv") lines"
[[ ! -s "$TMP/stderr" ]] || fail "--quiet printed: $(cat "$TMP/stderr")"

# --enrichments: a directory of Snowplow configs is loaded and applied (anon_ip masks the last
# IPv4 octet); a broken config is a configuration error naming the file.
mkdir -p "$TMP/enr" "$TMP/enr_bad"
cp "$SRC/examples/enrichments/anon_ip.json" "$TMP/enr/"
"$BIN" gen --count 200 --seed 3 --quiet | "$BIN" enrich --enrichments "$TMP/enr" --quiet >"$TMP/anon.tsv"
ips=$(cut -f14 "$TMP/anon.tsv" | grep -cE '^[0-9]+\.[0-9]+\.[0-9]+\.([0-9]+|x)$' || true)
(( ips > 20 )) || fail "no IPv4 user_ipaddress to check"
masked=$(cut -f14 "$TMP/anon.tsv" | grep -c '^[0-9]*\.[0-9]*\.[0-9]*\.x$' || true)
[[ $masked == "$ips" ]] || fail "anon_ip not applied: $ips IPv4, $masked masked"
echo '{"schema":"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1","data":{"name":"anon_ip","vendor":"com.snowplowanalytics.snowplow","enabled":true,"parameters":{"anonOctets":"two"}}}' \
  >"$TMP/enr_bad/broken_anon.json"
set +e
"$BIN" enrich --enrichments "$TMP/enr_bad" </dev/null >/dev/null 2>"$TMP/err"; code=$?
set -e
[[ $code == 2 ]] || fail "broken enrichment config: exit $code, want 2"
grep -q "broken_anon.json" "$TMP/err" || fail "broken config not named: $(cat "$TMP/err")"

# The malformed corpus through the binary: every record one bad row, none good.
n=0
for f in "$SRC"/test/corpus/malformed/*.thrift; do cat "$f"; n=$((n + 1)); done >"$TMP/corpus.b64"
"$BIN" enrich --input "$TMP/corpus.b64" --output "$TMP/corpus.tsv" --bad "$TMP/corpus.json" \
  2>"$TMP/corpus_err"
grep -q "read $n payloads carrying $n events: 0 good, $n bad" "$TMP/corpus_err" \
  || fail "corpus: $(cat "$TMP/corpus_err")"
[[ $(wc -l <"$TMP/corpus.json") == "$n" ]] || fail "corpus bad rows"

# --load: the loader as a sink of enrich. Every good event and bad row lands in SQLite, the same
# lines go to the outputs, and a second run over the same input adds nothing (idempotent).
"$BIN" enrich --input "$TMP/a.b64" --output "$TMP/load.tsv" --bad "$TMP/load.json" \
  --load "sqlite:$TMP/load.db" 2>"$TMP/load_err"
good=$(wc -l <"$TMP/load.tsv")
bad=$(wc -l <"$TMP/load.json")
((good > 0 && bad > 0)) || fail "--load: expected good and bad lines: $good $bad"
grep -q "loaded $good events (0 duplicates skipped), $bad bad rows" "$TMP/load_err" \
  || fail "--load summary: $(cat "$TMP/load_err")"
[[ $(sqlite3 "$TMP/load.db" 'select count(*) from atomic_events') == "$good" ]] \
  || fail "--load: atomic_events count"
[[ $(sqlite3 "$TMP/load.db" 'select count(*) from bad_rows') == "$bad" ]] || fail "--load: bad_rows count"
cut -f7 "$TMP/load.tsv" | sort >"$TMP/tsv_ids"
sqlite3 "$TMP/load.db" 'select event_id from atomic_events' | sort >"$TMP/db_ids"
cmp -s "$TMP/tsv_ids" "$TMP/db_ids" || fail "--load: event ids differ from the TSV output"
"$BIN" enrich --input "$TMP/a.b64" --output /dev/null --bad /dev/null --load "sqlite:$TMP/load.db" \
  2>"$TMP/load_err2"
[[ $(sqlite3 "$TMP/load.db" 'select count(*) from atomic_events') == "$good" ]] \
  || fail "--load twice: atomic_events count changed"
set +e
"$BIN" enrich --input "$TMP/a.b64" --output /dev/null --load "mysql://x" 2>"$TMP/err"; code=$?
set -e
[[ $code == 2 ]] || fail "--load with an unknown database: exit $code, want 2"
echo "ok"
