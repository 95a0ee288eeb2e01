# Sourced by test/integration/enrich_checksum*_test.sh: enriches fixed `furrow gen` samples and
# compares hashes of the output with reference values. Needs BIN (the furrow binary) and TMP (a
# temp dir) set by the caller. Only what differs from run to run is masked: the etl_tstamp column
# of good lines, and the failure timestamps, etl_tstamp and event_id of bad rows (a random
# event_id is minted when eid is missing or invalid).
fail() { echo "FAIL: $*" >&2; exit 1; }

hash() { sha256sum | cut -c1-64; }
mask_bad() {
  sed -E -e 's/"(timestamp|lastAttempt)":"[^"]*"/"\1":"T"/g' \
    -e 's/"(etl_tstamp|event_id)":"[^"]*"/"\1":"X"/g' "$1"
}

# check LABEL SEED SHARE GEN_HASH GOOD_HASH GOOD_LINES BAD_HASH BAD_LINES [ENRICH OPTIONS...]:
# generates 4,000 events, checks the input's hash, then enriches it with 1 and 3 workers (batch
# order covered too) and checks line counts and hashes. A warning from enrich (missing default
# data) fails the check.
check() {
  local label=$1 seed=$2 share=$3 gen_hash=$4 good_hash=$5 good_n=$6 bad_hash=$7 bad_n=$8
  shift 8
  "$BIN" gen --count 4000 --seed "$seed" --malformed-share "$share" --quiet --output "$TMP/in.b64"
  [[ $(hash <"$TMP/in.b64") == "$gen_hash" ]] ||
    fail "seed $seed: furrow gen output changed; the expected enrich hashes must be regenerated (see the test's header)"
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
