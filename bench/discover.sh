#!/usr/bin/env bash
# `--discover` on a simulated Cloud site with many custom fields behind network latency: wall time
# of each of five runs. Meltano discovers before every run.
# Usage: bench/discover.sh [custom-fields] [latency-ms]   (defaults: 200 50)
set -euo pipefail
cd "$(dirname "$0")/.."
fields=${1:-200}
latency=${2:-50}
source bench/sim.sh
start_sim --extra-custom-fields "$fields" --latency-ms "$latency"
echo "site: $fields extra custom fields, latency ${latency} ms"
for run in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KiB peak" target/release/tap-jira --config "$work/config.json" \
    --discover > "$work/catalog.json" 2> "$work/tap.err"
  streams=$(grep -o '"tap_stream_id"' "$work/catalog.json" | wc -l)
  echo "  run $run: $(tail -1 "$work/tap.err"), $streams streams"
done
