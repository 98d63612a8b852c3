#!/usr/bin/env bash
# The tap's output loaded by real Singer targets, installed from PyPI at pinned versions. Today:
# target-duckdb (with duckdb 1.2.2: later versions drop rows), which deletes a row when a RECORD
# carries `_sdc_deleted_at`. On each deployment: a full sync of issues and worklogs, issues and
# worklogs deleted in the simulator, an incremental sync from the state the target passed on; the
# tables must then hold exactly the live rows. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sim.sh

venv=target/targets-venv
if ! "$venv/bin/python" -c 'import duckdb, target_duckdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "target-duckdb==0.8.0" "duckdb==1.2.2"
fi
py="$venv/bin/python"
tap=target/release/tap-jira

for deployment in cloud server; do
  echo "== target-duckdb, $deployment" >&2
  [ -n "$sim_pid" ] && kill "$sim_pid" && wait "$sim_pid" 2>/dev/null || true
  start_sim --deployment "$deployment" --worklog-settling-ms 0
  if [ "$deployment" = server ]; then
    printf '{"base_url": "%s", "allow_http": true, "personal_access_token": "sim-personal-access-token"}\n' "$url" \
      > "$work/config.json"
  fi
  "$tap" --config "$work/config.json" --discover > "$work/discovered.json" 2> "$work/discover.err"
  "$py" - "$work/discovered.json" "$work/catalog.json" <<'PY'
import json, sys
catalog = json.load(open(sys.argv[1]))
for stream in catalog["streams"]:
    for m in stream["metadata"]:
        if m["breadcrumb"] == []:
            m["metadata"]["selected"] = stream["stream"] in ("issues", "worklogs")
json.dump(catalog, open(sys.argv[2], "w"))
PY
  db="$work/$deployment.duckdb"
  printf '{"path": "%s", "default_target_schema": "jira", "add_metadata_columns": true, "hard_delete": true}\n' \
    "$db" > "$work/target.json"

  "$tap" --config "$work/config.json" --catalog "$work/catalog.json" 2> "$work/tap1.err" \
    | tee "$work/run1.jsonl" \
    | "$venv/bin/target-duckdb" --config "$work/target.json" 2> "$work/target1.err" \
    | tail -1 > "$work/state.json"

  curl -sf -X POST "$url/_sim/delete-issues?n=4" > "$work/deleted-issues.json"
  curl -sf -X POST "$url/_sim/delete-worklogs?n=3" > "$work/deleted-worklogs.json"

  "$tap" --config "$work/config.json" --catalog "$work/catalog.json" --state "$work/state.json" \
    2> "$work/tap2.err" \
    | tee "$work/run2.jsonl" \
    | "$venv/bin/target-duckdb" --config "$work/target.json" 2> "$work/target2.err" \
    > /dev/null

  "$py" - "$work" "$db" <<'PY'
import duckdb, json, sys
work, db = sys.argv[1], sys.argv[2]

def records(name, stream):
    for line in open(f"{work}/{name}"):
        m = json.loads(line)
        if m["type"] == "RECORD" and m["stream"] == stream:
            yield m["record"]

gone_issues = {d["id"] for d in json.load(open(f"{work}/deleted-issues.json"))["deleted"]}
gone_worklogs = {str(d["worklogId"]) for d in json.load(open(f"{work}/deleted-worklogs.json"))["deleted"]}
said = {r["id"] for r in records("run2.jsonl", "issues") if r.get("_sdc_deleted_at")}
assert said == gone_issues, f"deletion records {sorted(said)} != deleted issues {sorted(gone_issues)}"
said = {r["id"] for r in records("run2.jsonl", "worklogs") if r.get("_sdc_deleted_at")}
assert gone_worklogs <= said, f"deleted worklogs {sorted(gone_worklogs - said)} not reported"

con = duckdb.connect(db, read_only=True)
for stream, gone in (("issues", gone_issues), ("worklogs", said)):
    emitted = {r["id"] for r in records("run1.jsonl", stream)}
    loaded = {str(row[0]) for row in con.execute(f"SELECT id FROM jira.{stream}").fetchall()}
    live = emitted - gone
    assert loaded == live, (
        f"{stream}: {len(loaded)} rows, {len(live)} expected; "
        f"still there: {sorted(loaded & gone)[:5]}, missing: {sorted(live - loaded)[:5]}")
    print(f"{stream}: {len(loaded)} rows, {len(gone)} deleted rows removed", file=sys.stderr)
PY
done
echo "targets: ok" >&2
