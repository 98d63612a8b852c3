#!/usr/bin/env bash
# Instructions the tap executes per issue in a full sync at 0 ms, counted by valgrind's callgrind:
# a measure of the tap's CPU work that, unlike CPU time, does not move with the host's speed or
# load (the same binary's CPU per issue has moved by 1.6 x from one host to another). Two sites
# are synced, of N and 3N issues per project; the difference, over the issues it adds, is what
# one more issue costs, its children included, without what a run costs once (the catalog, the
# reference streams).
#
# Usage: bench/instructions.sh [issues-per-project] [projects]   (defaults: 100 10)
#   The site is bench/run.sh's at its defaults (50 custom fields, one issue in 40 far above
#   Jira's embed caps);
#   RENDER_TEXT as there; TAP, another tap binary to measure on the same site (an older build).
#   Needs valgrind; under it the tap runs about 50 times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind > /dev/null; then
  echo "bench/instructions.sh needs valgrind (e.g. apt-get install valgrind)" >&2
  exit 2
fi
per_project=${1:-100}
projects=${2:-10}
for size in "$per_project" "$projects"; do
  case $size in '' | *[!0-9]* | 0) echo "sizes are whole numbers, 1 or more" >&2; exit 2 ;; esac
done
source bench/sim.sh
tap=${TAP:-target/release/tap-jira}

# One full sync of a site of $1 issues per project (the simulator started anew): its instructions
# in `$instructions`, its records in `$records`. Run in this shell, not a subshell, so that the
# simulator it starts is the one `sim.sh` stops at exit.
count() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2> /dev/null || true; wait "$sim_pid" 2> /dev/null || true; fi
  CONFIG_EXTRA="${RENDER_TEXT:+, \"render_text\": \"$RENDER_TEXT\"}" start_sim --projects "$projects" \
    --issues-per-project "$1" --users 200 --extra-custom-fields 50 --busy-every 40 --latency-ms 0
  discover_catalog "$tap"
  if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tap" \
    --config "$work/config.json" --catalog "$work/catalog.json" 2> "$work/valgrind.err" |
    awk '/^\{"type":"RECORD"/ { n++ } END { print n + 0 }' > "$work/records"; then
    echo "the sync failed under valgrind:" >&2
    tail -5 "$work/valgrind.err" >&2
    exit 1
  fi
  instructions=$(grep -o 'Collected : [0-9]*' "$work/valgrind.err" | grep -o '[0-9]*$')
  records=$(cat "$work/records")
}

count "$per_project"
small=$instructions small_records=$records
count $((3 * per_project))
large=$instructions large_records=$records
added=$((2 * per_project * projects))
echo "site: $projects projects, 50 custom fields, busy 1 in 40; latency 0 ms${RENDER_TEXT:+; render_text $RENDER_TEXT}"
echo "  $((per_project * projects)) issues: $small instructions, $small_records records"
echo "  $((3 * per_project * projects)) issues: $large instructions, $large_records records"
echo "  per issue added: $(((large - small) / added)) instructions, $(((large_records - small_records) / added)) records"
