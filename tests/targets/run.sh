#!/usr/bin/env bash
# The tap's output loaded by real Singer targets, installed from PyPI at the versions locked in
# requirements/ (see lock.sh): meltanolabs-target-postgres and pipelinewise-target-postgres into a
# PostgreSQL server started here, target-duckdb, target-jsonl, and target-stitch --dry-run (Stitch's
# own checks of date-times and keys). On each deployment (cloud, server): a full sync of every
# stream selected by default; in the simulator, issues and worklogs deleted, issues edited and a
# custom field removed; an incremental sync from the full sync's state. Each target loads both runs
# and check.py compares what it holds with what the tap emitted: a row per key, upserted; deletion
# records deleted or flagged, and rows a full-table stream no longer has deleted or kept, as each
# target does; the tap's last STATE passed on. Then flattening: a full sync flattened by the tap
# loads into pipelinewise and duckdb with nothing lost against the unflattened one, and the
# unflattened sync loaded with the targets' own flattening loses exactly what README says. Last,
# schema drift: a number field retyped to text after the first run, and a full sync flattened by the
# tap then, loaded by pipelinewise over the first run's flattened table and by meltanolabs into a
# table of its own (it never changes a column's type, as README says): every value loaded. Run by
# .ci/run; installs go to target/targets/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sim.sh # builds the release binaries
source tests/targets/lib.sh

targets=(meltanolabs pipelinewise duckdb jsonl stitch)
venvs=$cache/venvs
# The targets with a flattening of their own, and the depth both flattenings are given. The
# two share their flattening code, so each shows it on one deployment: pipelinewise on Cloud,
# duckdb on Server (each load costs a few seconds of the two cores).
flat_targets=(pipelinewise duckdb)
declare -A own_flattening_on=([pipelinewise]=cloud [duckdb]=server)
flat_depth=3
# Schema drift is loaded on one deployment: the two share the widening.
drift_on=cloud

# Each load_TARGET below loads stdin, the tap's output of run $1, into the target's destination for
# $deployment, and prints the states the target passes on. Its config goes to
# $dir/TARGET$variant.json, where check.py finds the destination: $variant (empty, _flat or _own)
# keeps the flattening loads apart, and pipelinewise and duckdb flatten $level levels themselves.

# meltanolabs-target-postgres: upserts by key and honours ACTIVATE_VERSION. With hard_delete, the
# rows a full-table stream no longer has are deleted; without, its soft delete fails on any table
# with a column named `version` (server_info): SQLAlchemy takes the bind parameter it calls
# `version` for that column. A record's own _sdc_deleted_at stays on its row as a flag.
load_meltanolabs() {
  cat > "$dir/meltanolabs${variant:-}.json" << JSON
{"host": "127.0.0.1", "port": $pg_port, "user": "postgres", "password": "unused", "database": "postgres",
 "default_target_schema": "meltanolabs${variant:-}_$deployment", "add_record_metadata": true, "hard_delete": true}
JSON
  "$venvs/meltanolabs/bin/target-postgres" --config "$dir/meltanolabs${variant:-}.json"
}

# pipelinewise-target-postgres: upserts by key; with add_metadata_columns and hard_delete, deletes
# the rows of records that carry _sdc_deleted_at; ignores ACTIVATE_VERSION. It wants a password
# even when the server asks for none, and a key unless told otherwise (time_tracking has none).
load_pipelinewise() {
  cat > "$dir/pipelinewise${variant:-}.json" << JSON
{"host": "127.0.0.1", "port": $pg_port, "user": "postgres", "password": "unused", "dbname": "postgres",
 "default_target_schema": "pipelinewise${variant:-}_$deployment", "add_metadata_columns": true,
 "hard_delete": true, "validate_records": true, "primary_key_required": false,
 "data_flattening_max_level": ${level:-0}}
JSON
  "$venvs/pipelinewise/bin/target-postgres" --config "$dir/pipelinewise${variant:-}.json"
}

# target-duckdb: the same rules as pipelinewise's, in a database file.
load_duckdb() {
  cat > "$dir/duckdb${variant:-}.json" << JSON
{"path": "$dir/loaded${variant:-}.duckdb", "default_target_schema": "jira", "add_metadata_columns": true,
 "hard_delete": true, "validate_records": true, "primary_key_required": false,
 "data_flattening_max_level": ${level:-0}}
JSON
  "$venvs/duckdb/bin/target-duckdb" --config "$dir/duckdb${variant:-}.json"
}

# target-jsonl: appends each record to STREAM.jsonl after a Draft 4 check; passes the state on
# only when a STATE follows the last RECORD. Logs a warning for each ACTIVATE_VERSION.
load_jsonl() {
  printf '{"destination_path": "%s", "do_timestamp_file": false}\n' "$dir/jsonl" > "$dir/jsonl.json"
  "$venvs/jsonl/bin/target-jsonl" --config "$dir/jsonl.json"
}

# target-stitch --dry-run: Stitch's checks (Draft 4 with date-time formats, every key property in
# every record) without sending; the bodies it would send go to a file.
load_stitch() {
  "$venvs/stitch/bin/target-stitch" --dry-run --output-file "$dir/stitch-$1.body"
}

# TARGET RUN... loads the runs of $deployment (run1, run2: the full and the incremental sync;
# flat: the full sync flattened by the tap; drift: a full sync flattened by the tap after a field
# changed type), already in $dir, one after the other.
load() {
  local t=$1 run out
  shift
  for run in "$@"; do
    out=$dir/$t${variant:-}-$run
    "load_$t" "$run" < "$dir/$run.jsonl" > "$out.out" 2> "$out.err" || {
      echo "$t${variant:-} failed to load the $deployment $run:" >&2
      tail -20 "$out.err" >&2
      return 1
    }
  done
}

sim_admin() { curl -sf -X "$1" "$url/_sim/$2"; }
# The id of the custom field in the simulator's answer on stdin.
field_id() { "$py" -c 'import json, sys; print(json.load(sys.stdin)["added"]["id"])'; }
# The value of the last STATE message in the tap's output $1.
last_state() {
  "$py" -c 'import json, sys
states = [m["value"] for m in map(json.loads, open(sys.argv[1])) if m["type"] == "STATE"]
print(json.dumps(states[-1]))' "$1"
}

ensure_debs
ensure_uv
pids=()
for t in "${targets[@]}"; do
  ensure_venv "$t" &
  pids+=($!)
done
wait_all "${pids[@]}"

# target-stitch checks date-time formats only when strict-rfc3339 is there: unless Jira's own
# offset is refused, its passing the tap's output below would prove nothing.
if "$venvs/stitch/bin/target-stitch" --dry-run > /dev/null 2>&1 << 'JSONL'; then
{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"t": {"format": "date-time"}}}, "key_properties": ["t"]}
{"type": "RECORD", "stream": "s", "record": {"t": "2024-01-31T13:05:00.000+0000"}}
JSONL
  echo "target-stitch accepted a date-time with Jira's offset: it checks no formats" >&2
  exit 1
fi

# The tap's two runs on each deployment, and what the simulator changed between them; and the first
# run again, flattened by the tap (a second config file adds the settings).
printf '{"flattening_enabled": true, "flattening_max_depth": %d}\n' "$flat_depth" > "$work/flat.json"
for deployment in cloud server; do
  dir=$work/$deployment
  mkdir -p "$dir"
  start_deployment "$deployment"
  # A custom field that only the full sync sees: the second run's `fields` lacks its row, which
  # ACTIVATE_VERSION removes where a target honours it.
  sim_admin POST 'fields?name=Short%20lived&type=textfield' > "$dir/field.json"
  # A number field that becomes text after the first run: drift widens its schema.
  sim_admin POST 'fields?name=Retyped&type=float' > "$dir/retyped.json"
  "$tap" --config "$work/config.json" --discover > "$dir/discovered.json" 2> "$dir/discover.err"
  select_defaults "$dir/discovered.json" "$work/catalog.json"
  sync "$dir/run1.jsonl"
  sync "$dir/flat.jsonl" --config "$work/flat.json"
  sim_admin PUT "fields/$(field_id < "$dir/retyped.json")?type=textfield" > /dev/null
  if [ "$deployment" = "$drift_on" ]; then sync "$dir/drift.jsonl" --config "$work/flat.json"; fi
  sim_admin POST 'delete-issues?n=4' > "$dir/deleted-issues.json"
  sim_admin POST 'delete-worklogs?n=3' > "$dir/deleted-worklogs.json"
  sim_admin POST 'touch?n=5' > "$dir/touched.json"
  sim_admin DELETE "fields/$(field_id < "$dir/field.json")" > /dev/null
  # The full sync's last state, as an orchestrator would keep it (check.py makes sure that every
  # target passes on this one).
  last_state "$dir/run1.jsonl" > "$dir/state.json"
  sync "$dir/run2.jsonl" --state "$dir/state.json"
done

# Every target loads both deployments' runs, all at once: they spend most of their time starting
# Python, checking schemas and waiting for the database, so the two cores are busier together.
start_postgres
pids=()
for deployment in cloud server; do
  dir=$work/$deployment
  for t in "${targets[@]}"; do
    load "$t" run1 run2 &
    pids+=($!)
  done
  # The tap's flattening, loaded by pipelinewise as it is and by duckdb flattening too (the tap
  # leaves it no object to split); and the targets' own flattening of the nested full sync.
  for t in "${flat_targets[@]}"; do
    level=$([ "$t" = duckdb ] && echo "$flat_depth" || echo 0) variant=_flat load "$t" flat &
    pids+=($!)
    if [ "${own_flattening_on[$t]}" = "$deployment" ]; then
      level=$flat_depth variant=_own load "$t" run1 &
      pids+=($!)
    fi
  done
  # A column made for numbers by the first run, then text: pipelinewise makes a new column for
  # the new type; meltanolabs cannot, and loads into a table of its own.
  if [ "$deployment" = "$drift_on" ]; then
    variant=_drift load pipelinewise flat drift &
    pids+=($!)
    variant=_drift load meltanolabs drift &
    pids+=($!)
  fi
done
wait_all "${pids[@]}"

for deployment in cloud server; do
  echo "== $deployment" >&2
  "$py" tests/targets/check.py tap "$work/$deployment"
  for t in "${targets[@]}"; do
    "$venvs/$t/bin/python" tests/targets/check.py "$t" "$work/$deployment"
  done
  # The flattening checks read every cell: run at once.
  pids=()
  for t in "${flat_targets[@]}"; do
    "$venvs/$t/bin/python" tests/targets/check.py "$t" "$work/$deployment" flat &
    pids+=($!)
    if [ "${own_flattening_on[$t]}" = "$deployment" ]; then
      "$venvs/$t/bin/python" tests/targets/check.py "$t" "$work/$deployment" own &
      pids+=($!)
    fi
  done
  if [ "$deployment" = "$drift_on" ]; then
    for t in pipelinewise meltanolabs; do
      "$venvs/$t/bin/python" tests/targets/check.py "$t" "$work/$deployment" drift &
      pids+=($!)
    done
  fi
  wait_all "${pids[@]}"
done
echo "targets: ok" >&2
