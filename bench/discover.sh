#!/usr/bin/env bash
# `--discover` on a simulated Cloud site with many custom fields behind network latency: wall time
# of each of five runs (Meltano discovers before every run). Then a sync of `issues` alone from
# the catalog discovered, as a scheduled run makes it: the site's fields read again and compared
# with the catalog's (schema drift), on a site of 2 issues, so that what it measures is the
# catalog's cost, not the issues'.
# Usage: bench/discover.sh [custom-fields] [latency-ms]   (defaults: 200 50)
set -euo pipefail
cd "$(dirname "$0")/.."
fields=${1:-200}
latency=${2:-50}
source bench/sim.sh
start_sim --extra-custom-fields "$fields" --latency-ms "$latency" --projects 1 --issues-per-project 2
echo "site: $fields extra custom fields, latency ${latency} ms"
for run in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KiB peak" target/release/tap-jira --config "$work/config.json" \
    --discover > "$work/catalog.json" 2> "$work/tap.err"
  streams=$(grep -o '"tap_stream_id"' "$work/catalog.json" | wc -l)
  echo "  run $run: $(tail -1 "$work/tap.err"), $streams streams"
done
# `issues` alone selected: the catalog keeps every stream, the others deselected.
python3 - "$work/catalog.json" > "$work/issues.json" <<'PY'
import json, sys
catalog = json.load(open(sys.argv[1]))
for entry in catalog["streams"]:
    for m in entry["metadata"]:
        if m["breadcrumb"] == []:
            m["metadata"]["selected"] = entry["tap_stream_id"] == "issues"
json.dump(catalog, sys.stdout)
PY
/usr/bin/time -f "%e s wall, %U s CPU, %M KiB peak" target/release/tap-jira \
  --config "$work/config.json" --catalog "$work/issues.json" > "$work/records.jsonl" 2> "$work/tap.err"
records=$(grep -c '"type":"RECORD"' "$work/records.jsonl" || true)
echo "  sync of issues from the catalog: $(tail -1 "$work/tap.err"), $records records"
