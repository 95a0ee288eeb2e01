#!/usr/bin/env bash
# `furrow schema lint` and `furrow schema validate`: output and exit codes (docs/iglu.md).
set -euo pipefail
: "${FURROW_BIN:?}" "${FURROW_SHARED:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Acceptance 2: Iglu Central lints clean.
set +e
out=$("$FURROW_BIN" schema lint "$FURROW_SHARED/iglu-central" 2>"$tmp/err")
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "lint iglu-central exited $rc: $out"
[ -z "$out" ] || fail "lint iglu-central reported: $out"
grep -q "problems" "$tmp/err" || fail "no summary line"

# A registry with one good and two bad schemas.
reg="$tmp/reg/schemas/com.acme"
mkdir -p "$reg/good/jsonschema" "$reg/bad/jsonschema"
hdr='"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"'
cat >"$reg/good/jsonschema/1-0-0" <<JSON
{$hdr,"self":{"vendor":"com.acme","name":"good","format":"jsonschema","version":"1-0-0"},
 "type":"object","properties":{"price":{"type":"number","minimum":0}},"required":["price"],"additionalProperties":false}
JSON
cat >"$reg/bad/jsonschema/1-0-1" <<JSON
{$hdr,"self":{"vendor":"com.acme","name":"bad","format":"jsonschema","version":"1-0-0"},"type":"objekt"}
JSON
echo '{"type":' >"$reg/bad/jsonschema/1-0-2"
set +e
out=$("$FURROW_BIN" schema lint "$tmp/reg" 2>/dev/null)
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "lint of a bad registry exited $rc"
echo "$out" | grep -q 'schemas/com.acme/bad/jsonschema/1-0-1: self.version is' || fail "version mismatch not reported: $out"
echo "$out" | grep -q 'schemas/com.acme/bad/jsonschema/1-0-1: not a valid draft-04 schema: \$.type' || fail "bad type not reported: $out"
echo "$out" | grep -q 'schemas/com.acme/bad/jsonschema/1-0-2: not valid JSON' || fail "bad JSON not reported: $out"
if echo "$out" | grep -q 'good'; then fail "good schema reported: $out"; fi

set +e
"$FURROW_BIN" schema lint "$tmp/nothere" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "lint of a missing dir exited $rc"

# validate: valid instances only → 0; any invalid → 3 with the errors.
echo '{"price": 3.5}' >"$tmp/ok1.json"
echo '{"price": 0}' >"$tmp/ok2.json"
echo '{"price": "3", "x": 1}' >"$tmp/bad.json"
echo '{"price": ' >"$tmp/notjson.json"
out=$("$FURROW_BIN" schema validate --schema "$reg/good/jsonschema/1-0-0" "$tmp/ok1.json" "$tmp/ok2.json")
[ "$out" = "$tmp/ok1.json: valid
$tmp/ok2.json: valid" ] || fail "unexpected validate output: $out"
set +e
out=$("$FURROW_BIN" schema validate --schema "$reg/good/jsonschema/1-0-0" "$tmp/ok1.json" "$tmp/bad.json" "$tmp/notjson.json")
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "validate with an invalid instance exited $rc"
echo "$out" | grep -q "^$tmp/ok1.json: valid$" || fail "ok1 not valid: $out"
echo "$out" | grep -q "^$tmp/bad.json: \$.price: string found" || fail "type error missing: $out"
echo "$out" | grep -q "^$tmp/bad.json: .*'x'.*\[additionalProperties\]" || fail "additionalProperties error missing: $out"
echo "$out" | grep -q "^$tmp/notjson.json: not valid JSON" || fail "JSON error missing: $out"

# A schema from Iglu Central and an instance against it.
echo '{"targetUrl":"http://example.com/a","elementId":"x"}' >"$tmp/link.json"
"$FURROW_BIN" schema validate --schema "$FURROW_SHARED/iglu-central/schemas/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1" "$tmp/link.json" >/dev/null \
  || fail "link_click instance rejected"
echo "iglu schema CLI: ok"
