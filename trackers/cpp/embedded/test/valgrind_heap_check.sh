#!/usr/bin/env bash
# Acceptance: the embedded core uses no heap. Runs the heap probe (a program built only from the
# core, linked without libstdc++) under valgrind and requires the whole process to report
# "total heap usage: 0 allocs", no errors, exit status 0, and the two query strings it printed.
# Usage: valgrind_heap_check.sh VALGRIND PROBE
set -euo pipefail
VALGRIND=${1:?valgrind}
PROBE=${2:?probe}
TMP=$(mktemp -d /tmp/furrow-embedded-valgrind-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The probe must not pull in libstdc++ (its start-up pool allocation would hide nothing, but it
# would make "0 allocs" impossible to state for the core alone).
if ldd "$PROBE" | grep -q 'libstdc++'; then fail "probe links libstdc++"; fi

set +e
"$VALGRIND" --error-exitcode=9 --leak-check=full "$PROBE" >"$TMP/out" 2>"$TMP/valgrind"
code=$?
set -e
cat "$TMP/valgrind" >&2
[[ $code == 0 ]] || fail "probe under valgrind exited $code"
grep -q 'total heap usage: 0 allocs, 0 frees, 0 bytes allocated' "$TMP/valgrind" ||
  fail "heap was used: $(grep 'total heap usage' "$TMP/valgrind")"
grep -q 'ERROR SUMMARY: 0 errors' "$TMP/valgrind" || fail "valgrind reported errors"
[[ $(wc -l <"$TMP/out") == 2 ]] || fail "probe output: $(cat "$TMP/out")"
head -1 "$TMP/out" | grep -Eq '^e=ue&eid=[0-9a-f-]{36}&dtm=1700000000999&tv=furrow-embedded-0.1.0&p=iot&aid=greenhouse&tna=probe&ue_px=[A-Za-z0-9_-]+$' ||
  fail "sensor query: $(head -1 "$TMP/out")"
tail -1 "$TMP/out" | grep -q '&se_ca=pump&se_ac=start&se_la=valve%203%20%26%204&se_va=12.5$' ||
  fail "structured query: $(tail -1 "$TMP/out")"
echo "ok: embedded core under valgrind: $(grep -o 'total heap usage.*' "$TMP/valgrind")"
