#!/usr/bin/env bash
# The tap's CPU per issue beside another tap binary's, on the same simulated site at 0 ms: full
# syncs by the two in turn, so that both meet the host as it is at the same moments. CPU time per
# issue moves with the host (1.6 x from one session's host to the next, 15% within one session);
# the ratio of two syncs run one after the other moves far less, and the mean of many such
# ratios, with its standard error, tells a change of a few percent from the noise. Instructions
# (`bench/instructions.sh`) do not move with the host, but they are not time: a change can take
# instructions away and leave the time where it was.
#
# Usage: bench/compare.sh REFERENCE [issues-per-project] [projects] [runs]
#   REFERENCE: another tap binary, such as an older release build; defaults 200 10 60 (runs of
#   each: many short syncs say more than a few long ones). The site is bench/run.sh's at its
#   defaults, the output read by awk, as there. Each sync's CPU (user and system) is read from
#   the kernel's accounting of the tap's process, to the microsecond.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/compare.sh REFERENCE [issues-per-project] [projects] [runs]"
reference=${1:-}
if [ -z "$reference" ]; then
  echo "$usage" >&2
  exit 2
fi
if [ ! -x "$reference" ] || [ -d "$reference" ]; then
  echo "$reference is not a tap binary to run ($usage)" >&2
  exit 2
fi
per_project=${2:-200}
projects=${3:-10}
runs=${4:-60}
for number in "$per_project" "$projects" "$runs"; do
  case $number in '' | *[!0-9]* | 0) echo "sizes and runs are whole numbers, 1 or more ($usage)" >&2; exit 2 ;; esac
done
source bench/sim.sh
this=target/release/tap-jira
issues=$((per_project * projects))
start_sim --projects "$projects" --issues-per-project "$per_project" --users 200 \
  --extra-custom-fields 50 --busy-every 40 --latency-ms 0
discover_catalog "$this"

# One full sync by the binary $1; its CPU (user and system, seconds) is added to `$work/$2.cpu`,
# its records to `$work/$2.records`. Python waits for the tap and reads its resource usage:
# GNU time's figures are rounded to 10 ms, a few percent of a short sync.
sync_once() {
  if ! python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    print("%.6f" % (usage.ru_utime + usage.ru_stime), file=out)
sys.exit(0 if status == 0 else 1)
' "$work/time" "$1" --config "$work/config.json" --catalog "$work/catalog.json" \
    2> "$work/sync.err" | awk '/^\{"type":"RECORD"/ { n++ } END { print n + 0 }' > "$work/records"; then
    echo "a sync by $1 failed:" >&2
    tail -5 "$work/sync.err" >&2
    exit 1
  fi
  cat "$work/time" >> "$work/$2.cpu"
  cat "$work/records" >> "$work/$2.records"
}

for _ in $(seq "$runs"); do
  sync_once "$this" this
  sync_once "$reference" reference
done

echo "site: $projects projects x $per_project issues, 50 custom fields, busy 1 in 40; latency 0 ms; $runs full syncs each, in turn"
for name in this reference; do
  binary=$this
  [ "$name" = reference ] && binary=$reference
  sort -n "$work/$name.cpu" | awk -v i="$issues" -v b="$binary" \
    -v r="$(sort -u "$work/$name.records" | tr '\n' ' ')" '
    { v[NR] = $1 } END {
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "  %s: tap CPU per issue median %.0f us (lowest %.0f, highest %.0f); records %s\n", b, m * 1e6 / i, v[1] * 1e6 / i, v[NR] * 1e6 / i, r
    }'
done
# Each round's ratio, this build's sync over the reference's run just after it: their mean and
# its standard error (about two standard errors either side hold the true ratio, 95 times in 100).
paste "$work/this.cpu" "$work/reference.cpu" | awk '
  $2 > 0 { r = $1 / $2; n++; sum += r; squares += r * r }
  END {
    mean = n ? sum / n : 0
    spread = n > 1 ? (squares - n * mean * mean) / (n - 1) : 0
    se = spread > 0 ? sqrt(spread / n) : 0
    printf "  this build / reference: %.3f (mean of %d rounds, standard error %.3f)\n", mean, n, se
  }'
