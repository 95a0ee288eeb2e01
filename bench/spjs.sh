#!/bin/bash
# sp.js in headless Chromium: bundle size, tracking cost per event (collector up and down, the
# outbox growing to 1000 events) and delivery time of 1000 events in batched POSTs to a minimal
# node collector. Bounded (< 3 minutes). Figures: bench/results/spjs.md.
#   bench/spjs.sh [BUILD_DIR]     (default build/release; needs the built sp.js in it)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export FURROW_SOURCE_DIR="$here"
export FURROW_BUILD_DIR="${1:-$here/build/release}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
timeout 170 node "$here/trackers/js/bench/track_bench.mjs"
