#!/usr/bin/env bash
# A full sync of a simulated Cloud site, measured: wall time, CPU time, peak memory, requests.
# Usage: bench/run.sh [issues-per-project] [projects] [latency-ms]   (defaults: 1000 10 0)
set -euo pipefail
cd "$(dirname "$0")/.."
per_project=${1:-1000}
projects=${2:-10}
latency=${3:-0}
cargo build --release --quiet -p tap-jira -p jira-sim
work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
target/release/jira-sim --projects "$projects" --issues-per-project "$per_project" --users 200 \
  --latency-ms "$latency" > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
for _ in $(seq 50); do [ -s "$work/sim.out" ] && break; sleep 0.1; done
url=$(head -1 "$work/sim.out")
cat > "$work/config.json" <<JSON
{"base_url": "$url", "allow_http": true, "email": "sim-user@example.com", "api_token": "sim-api-token"}
JSON
target/release/tap-jira --config "$work/config.json" --discover > "$work/catalog.json" 2> /dev/null
/usr/bin/time -v target/release/tap-jira --config "$work/config.json" --catalog "$work/catalog.json" \
  2> "$work/tap.err" | wc -lc > "$work/lines"
echo "site: $projects projects x $per_project issues, latency ${latency} ms"
read -r lines bytes < "$work/lines"
echo "output: $lines messages, $((bytes / 1024 / 1024)) MiB"
grep -E "Elapsed|Maximum resident|User time|System time" "$work/tap.err" | sed 's/^\t*/  /'
grep " requests " "$work/tap.err" | sed -E 's/.*endpoint="([^"]*)" requests=([0-9]+).*/  \2 × \1/'
