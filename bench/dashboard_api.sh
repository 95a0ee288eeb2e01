#!/usr/bin/env bash
# Issue 7 acceptance 5: every dashboard API query over 10 million events in under 500 ms.
# Runs bench/dashboard_api_bench.cpp (built as <build>/bench/dashboard_api_bench): generates the
# data set inside SQLite once (cached, see the .cpp), refreshes the rollups, then times every
# endpoint over 30, 7 and 1 days (and 30 days with an app filter), a refresh with nothing new and a
# refresh of a 10k-event live batch. Prints one line per endpoint and a verdict.
#   bench/dashboard_api.sh [build-dir]      (default build/release)
# Env: FURROW_DASHBOARD_BENCH_EVENTS (default 10000000), FURROW_DASHBOARD_BENCH_DB (cache path).
# Time: the first run generates and refreshes (a few minutes at 10M); later runs reuse the cache.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
exe=$build/bench/dashboard_api_bench
[[ -x $exe ]] || { echo "build $exe first: cmake --build $build --target dashboard_api_bench" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$exe" --benchmark_min_time=0.05 --benchmark_format=json --benchmark_out="$out" \
  --benchmark_out_format=json >/dev/null 2> >(grep -v '^\*\*\*' >&2)
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
worst = 0.0
for b in d["benchmarks"]:
    name = b["name"].replace("BM_Endpoint/", "")
    ms = b["real_time"] if b["time_unit"] == "ms" else b["real_time"] / 1e6
    extra = ""
    if "events_per_s" in b:
        extra = f"  ({b['events_per_s']:.0f} events/s refreshed)"
    print(f"{name:32s} {ms:9.2f} ms{extra}")
    if b["name"].startswith("BM_Endpoint/"):
        worst = max(worst, ms)
print(f"slowest API query: {worst:.1f} ms -> {'PASS' if worst < 500 else 'FAIL'} (< 500 ms)")
PY
