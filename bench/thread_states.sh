#!/usr/bin/env bash
# Where the threads of a running process spend their time, by sampling: every INTERVAL seconds for
# SECONDS seconds it reads each thread's state and kernel wait channel from /proc and prints, per
# thread name, the share of samples running or runnable (R), asleep (S) by wait channel, and in
# uninterruptible sleep (D, usually disk I/O) by wait channel. Used on `furrow run` under
# bench/run_load.sh to see what a stage waits for when the machine still has idle CPU.
#   bash bench/thread_states.sh PID [SECONDS=10] [INTERVAL=0.005]
# Reads /proc only; bounded by SECONDS.
set -euo pipefail
pid=${1:?usage: thread_states.sh PID [SECONDS] [INTERVAL]}
seconds=${2:-10}
interval=${3:-0.005}
[ -d /proc/$pid ] || { echo "thread_states: no process $pid" >&2; exit 2; }
end=$(($(date +%s) + seconds))
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
while [ "$(date +%s)" -lt "$end" ] && [ -d /proc/$pid ]; do
  for t in /proc/$pid/task/*; do
    # comm may contain spaces; the state is the field after the closing parenthesis.
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    state=${stat##*) }
    state=${state%% *}
    wchan=$(cat "$t/wchan" 2>/dev/null || echo '?')
    printf '%s\t%s\t%s\n' "$comm" "$state" "$wchan"
  done >>"$samples"
  sleep "$interval"
done
awk -F'\t' '
  { n[$1]++; k = ($2 == "R") ? "R" : $2 " " ($3 == "0" ? "-" : $3); c[$1 "\t" k]++ }
  END {
    for (x in c) { split(x, p, "\t"); printf "%-16s %5.1f%%  %s\n", p[1], 100 * c[x] / n[p[1]], p[2] }
  }' "$samples" | sort -k1,1 -k2,2nr
