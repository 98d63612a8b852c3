#!/usr/bin/env bash
# A full then an incremental sync of a simulated Jira site (Cloud, or Server), measured: wall and
# CPU time, peak memory, records per second, requests per endpoint, peak requests in flight, 429s,
# and the lower bound requests x latency / max_concurrency.
#
# Usage: bench/run.sh [issues-per-project] [projects] [latency-ms] [rate-limit-per-second]
#   defaults: 1000 10 0 (no limit). Environment: MAX_CONCURRENCY (tap, default 8),
#   RENDER_TEXT (tap's render_text, default markdown), CUSTOM_FIELDS (default 50), BUSY_EVERY (one issue in N far above Jira's embed caps, default 40:
#   about 3 comments, 2 worklogs and 5 changelog entries per issue on average), TOUCH (issues
#   changed before the incremental run, default 1% of them), REPEAT (full syncs measured one after
#   another, default 1: on a shared host the median of several says more than any one run), READER
#   (what reads the tap's output: awk, default, faster than the tap; or python, at a target's pace),
#   DEPLOYMENT (cloud, default: REST v3 and an API token; or server: REST v2, offset-paged
#   searches and a personal access token), GZIP (1: the site answers gzip-compressed, as Jira
#   Cloud does; default 0, since the simulator's compressing shares the tap's two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
per_project=${1:-1000}
projects=${2:-10}
latency=${3:-0}
rate=${4:-}
concurrency=${MAX_CONCURRENCY:-8}
custom_fields=${CUSTOM_FIELDS:-50}
busy_every=${BUSY_EVERY:-40}
repeat=${REPEAT:-1}
case $repeat in '' | *[!0-9]* | 0) echo "REPEAT must be a whole number of runs, 1 or more" >&2; exit 2 ;; esac
reader=${READER:-awk}
case $reader in awk | python) ;; *) echo "READER must be awk or python" >&2; exit 2 ;; esac
deployment=${DEPLOYMENT:-cloud}
case $deployment in cloud | server) ;; *) echo "DEPLOYMENT must be cloud or server" >&2; exit 2 ;; esac
gzip=${GZIP:-0}
case $gzip in 0 | 1) ;; *) echo "GZIP must be 0 or 1" >&2; exit 2 ;; esac
issues=$((per_project * projects))
touch_n=${TOUCH:-$(((issues + 99) / 100))}
source bench/sim.sh
sim_args=(--deployment "$deployment" --projects "$projects" --issues-per-project "$per_project" --users 200
  --extra-custom-fields "$custom_fields" --busy-every "$busy_every" --latency-ms "$latency")
if [ -n "$rate" ]; then sim_args+=(--rate-limit "$rate"); fi
if [ "$gzip" = 1 ]; then sim_args+=(--gzip); fi
CONFIG_EXTRA=", \"max_concurrency\": $concurrency${RENDER_TEXT:+, \"render_text\": \"$RENDER_TEXT\"}" \
  start_sim "${sim_args[@]}"
discover_catalog target/release/tap-jira

# The simulator's counters: requests, rejected_429, peak_in_flight, busy_seconds (time spent
# answering, waiting for a CPU included); and its CPU time in clock ticks.
load() { curl -s "$url/_sim/load"; }
sim_cpu() { awk '{ print $14 + $15 }' "/proc/$sim_pid/stat"; }
field() { grep -o "\"$1\":[0-9.]*" <<< "$2" | cut -d: -f2; }

# The tap's output read as it comes, by $READER: `awk` (faster than the tap), or `python` (a
# target's pace: every line parsed with json.loads, as singer-python targets do, so the tap
# waits on a full pipe as it does in a pipeline). Prints the lines and the records; the last
# STATE goes to $1.
read_output() {
  case $reader in
    awk)
      awk -F '\t' -v state="$1" '
        /^\{"type":"RECORD"/ { records++ }
        /^\{"type":"STATE"/ { last = $0 }
        END { print NR, records + 0; print last > state }' ;;
    python)
      python3 -c '
import json, sys
lines = records = 0
last = ""
for line in sys.stdin:
    message = json.loads(line)
    lines += 1
    if message["type"] == "RECORD":
        records += 1
    elif message["type"] == "STATE":
        last = line.rstrip("\n")
print(lines, records)
with open(sys.argv[1], "w") as state:
    print(last, file=state)
' "$1" ;;
  esac
}

# One sync, measured. $1: name, $2: state file or "" for none.
measure() {
  local name=$1 state=$2 before after sim_cpu_before sim_cpu_after
  before=$(load)
  sim_cpu_before=$(sim_cpu)
  local args=(--config "$work/config.json" --catalog "$work/catalog.json")
  if [ -n "$state" ]; then args+=(--state "$state"); fi
  # Into a pipe, as into a target: a file of gigabytes would charge the tap the page cache's
  # work (at 100,000 issues, more system time than the tap's own). Read as it comes: the lines,
  # the records and the last STATE.
  /usr/bin/time -v -o "$work/$name.time" target/release/tap-jira "${args[@]}" 2> "$work/$name.err" |
    read_output "$work/$name.state" > "$work/$name.counts"
  after=$(load)
  sim_cpu_after=$(sim_cpu)
  local requests rejected busy wall user sys rss records lines
  requests=$(($(field requests "$after") - $(field requests "$before")))
  rejected=$(($(field rejected_429 "$after") - $(field rejected_429 "$before")))
  busy=$(awk -v a="$(field busy_seconds "$after")" -v b="$(field busy_seconds "$before")" \
    'BEGIN { printf "%.1f", a - b }')
  wall=$(grep "Elapsed" "$work/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  user=$(grep "User time" "$work/$name.time" | awk '{print $NF}')
  sys=$(grep "System time" "$work/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$work/$name.time" | awk '{print $NF}')
  read -r lines records < "$work/$name.counts"
  awk -v u="$user" -v s="$sys" -v i="$issues" 'BEGIN { printf "%.0f\n", (u + s) * 1e6 / i }' \
    >> "$work/$name.per_issue"
  echo "$name sync:"
  awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$records" -v m="$lines" \
    -v q="$requests" -v x="$rejected" -v l="$latency" -v c="$concurrency" -v b="$busy" -v i="$issues" \
    -v sc="$((sim_cpu_after - sim_cpu_before))" -v hz="$(getconf CLK_TCK)" '
    BEGIN {
      printf "  wall %.2f s, tap CPU %.2f s (%.0f us per issue), peak RSS %.0f MiB\n", w, u + s, (u + s) * 1e6 / i, r / 1024
      printf "  %d messages, %d records, %.0f records/s\n", m, n, (w > 0 ? n / w : 0)
      printf "  %d requests (%.1f/s), %d answered 429 (%.2f%%); simulator busy %.1f s, its CPU %.1f s\n", q, (w > 0 ? q / w : 0), x, (q > 0 ? 100 * x / q : 0), b, sc / hz
      printf "  lower bound requests x latency / max_concurrency = %.2f s\n", q * l / 1000 / c
    }'
  grep -o 'peak=[0-9]* on_average="[0-9.]*"' "$work/$name.err" | tail -1 |
    sed -E 's/peak=([0-9]+) on_average="([0-9.]+)"/  requests in flight (tap): at most \1, on average \2/'
  grep "endpoint=" "$work/$name.err" | sed -E 's/.*endpoint="([^"]*)" requests=([0-9]+).*/    \2 × \1/'
}

echo "site: $deployment, $projects projects x $per_project issues, $custom_fields custom fields, busy 1 in $busy_every;" \
  "latency ${latency} ms; rate limit ${rate:-none}; max_concurrency $concurrency; read by $reader;" \
  "answers $([ "$gzip" = 1 ] && echo gzip-compressed || echo uncompressed)"
for _ in $(seq "$repeat"); do measure full ""; done
if [ "$repeat" -gt 1 ]; then
  sort -n "$work/full.per_issue" | awk '{ v[NR] = $1 } END {
    median = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "full sync, %d runs: tap CPU per issue median %.0f us (lowest %d, highest %d)\n", NR, median, v[1], v[NR]
  }'
fi
sed -E 's/^\{"type":"STATE","value":(.*)\}$/\1/' "$work/full.state" \
  > "$work/state.json"
curl -s -X POST "$url/_sim/touch?n=$touch_n" > /dev/null
echo "($touch_n issues changed)"
measure incremental "$work/state.json"
