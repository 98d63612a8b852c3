#!/usr/bin/env bash
# `--discover` on a simulated Cloud site with many custom fields behind network latency: wall time
# of each of five runs. Meltano discovers before every run.
# Usage: bench/discover.sh [custom-fields] [latency-ms]   (defaults: 200 50)
set -euo pipefail
cd "$(dirname "$0")/.."
fields=${1:-200}
latency=${2:-50}
cargo build --release --quiet -p tap-jira -p jira-sim
work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
target/release/jira-sim --extra-custom-fields "$fields" --latency-ms "$latency" \
  > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
for _ in $(seq 50); do [ -s "$work/sim.out" ] && break; sleep 0.1; done
url=$(head -1 "$work/sim.out")
cat > "$work/config.json" <<JSON
{"base_url": "$url", "allow_http": true, "email": "sim-user@example.com", "api_token": "sim-api-token"}
JSON
echo "site: $fields extra custom fields, latency ${latency} ms"
for run in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KiB peak" target/release/tap-jira --config "$work/config.json" \
    --discover > "$work/catalog.json" 2> "$work/tap.err"
  streams=$(grep -o '"tap_stream_id"' "$work/catalog.json" | wc -l)
  echo "  run $run: $(tail -1 "$work/tap.err"), $streams streams"
done
