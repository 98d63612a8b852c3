#!/usr/bin/env bash
# tap-jira in a real Meltano project (meltano/example, copied to a scratch folder), as a user runs
# it, offline but for PyPI: the tap added from meltano/tap-jira.yml (no Meltano Hub), `meltano
# install` building it from this checkout through its pip_url (maturin), target-jsonl from PyPI;
# `meltano run tap-jira target-jsonl` twice against the simulator, the second from the state
# Meltano saved (`--state` passed, only the issues changed in between written); the schedules;
# `meltano invoke tap-jira --about`. Meltano 4.4.1 and uv are cached in target/. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
source bench/sim.sh

step() { echo "== meltano: $*" >&2; }
# What a failed command said, then stop.
fail() {
  echo "meltano test failed: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" >&2
  exit 1
}

python=$(command -v python3.11 || command -v python3)
tools=target/meltano-tools
venv=target/meltano-venv
if ! "$venv/bin/meltano" --version 2>/dev/null | grep -q 'version 4\.4\.1$'; then
  step "installing meltano 4.4.1"
  rm -rf "$tools" "$venv"
  "$python" -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "uv==0.13.9"
  "$tools/bin/uv" venv --quiet --python "$python" "$venv"
  VIRTUAL_ENV="$venv" "$tools/bin/uv" pip install --quiet "meltano==4.4.1"
fi
meltano="$repo/$venv/bin/meltano"
py="$repo/$venv/bin/python"

start_sim --projects 2 --issues-per-project 20 --worklog-settling-ms 0
project="$work/project"
cp -r meltano/example "$project"
cd "$project"
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
# The tap's pip_url, and the simulated site (credentials from the environment, as a user would).
export TAP_JIRA_SOURCE="$repo"
export TAP_JIRA_BASE_URL="$url" TAP_JIRA_EMAIL=sim-user@example.com TAP_JIRA_API_TOKEN=sim-api-token
export TAP_JIRA_HASH_SALT=meltano-example-salt

step "add tap-jira from meltano/tap-jira.yml"
"$meltano" add --plugin-type extractor tap-jira --from-ref "$repo/meltano/tap-jira.yml" \
  --no-install > "$work/add.log" 2>&1 || fail "meltano add" "$work/add.log"

step "install (tap-jira built from this checkout, target-jsonl from PyPI)"
start=$SECONDS
"$meltano" install > "$work/install.log" 2>&1 || fail "meltano install" "$work/install.log"
echo "meltano install took $((SECONDS - start)) s" >&2
installed=.meltano/extractors/tap-jira/venv/bin/tap-jira
[ -x "$installed" ] || fail "no tap-jira in the plugin's environment" "$work/install.log"

# Debug logs show the tap's command line; records per run are the lines target-jsonl appended.
run() {
  "$meltano" --log-level=debug run tap-jira target-jsonl > "$work/$1.log" 2>&1 ||
    fail "meltano run ($1)" "$work/$1.log"
  grep "Invoking: \['[^']*/tap-jira'" "$work/$1.log" | tail -1 > "$work/$1.argv" ||
    fail "no tap-jira command line in the log of $1" "$work/$1.log"
  cat output/*.jsonl | wc -l
}

step "run 1: full sync"
first=$(run run1)
grep -q -- "'--state'" "$work/run1.argv" && fail "the first run was given a state" "$work/run1.argv"
curl -sf -X POST "$url/_sim/touch?n=3" > "$work/touched.json"

step "run 2: incremental, from the state Meltano saved"
total=$(run run2)
grep -q -- "'--state'" "$work/run2.argv" || fail "the second run was not given --state" "$work/run2.argv"
second=$((total - first))
echo "records: $first in the first run, $second in the second" >&2

"$py" - "$first" "$second" "$work/touched.json" <<'PY' || fail "the records"
import json, sys
first, second = int(sys.argv[1]), int(sys.argv[2])
touched = set(json.load(open(sys.argv[3]))["touched"])
assert 0 < second < first, f"{second} records in the second run, {first} in the first"
assert second == len(touched), f"{second} records in the second run, {len(touched)} issues changed"
issues = [json.loads(line) for line in open("output/issues.jsonl")]
later = {i["id"] for i in issues[len(issues) - len(touched):]}
assert later == touched, f"the second run wrote {sorted(later)}, touched were {sorted(touched)}"
for issue in issues:
    # select: issues.key, issues.fields.status, issues.fields.summary (and the keys).
    assert set(issue) == {"id", "key", "updated", "fields"}, issue
    assert set(issue["fields"]) <= {"status", "summary"}, issue
    # metadata: the summary hashed (a 64-digit hex SHA-256).
    summary = issue["fields"]["summary"]
    assert len(summary) == 64 and all(c in "0123456789abcdef" for c in summary), issue
    status = issue["fields"]["status"]
    assert status["name"] and status["statusCategory"]["key"], f"status not whole: {issue}"
PY

step "schedules"
"$meltano" schedule list --format=json > "$work/schedules.json" 2> "$work/schedules.log" ||
  fail "meltano schedule list" "$work/schedules.log"
"$py" - "$work/schedules.json" <<'PY' || fail "the schedules" "$work/schedules.json"
import json, sys
schedules = {s["name"]: s for s in json.load(open(sys.argv[1]))["schedules"]["job"]}
assert schedules["jira-hourly"]["interval"] == "@hourly", schedules
assert schedules["jira-every-six-hours"]["cron_interval"] == "15 */6 * * *", schedules
for s in schedules.values():
    assert s["job"]["tasks"] == ["tap-jira target-jsonl"], s
PY

step "invoke --about"
"$meltano" invoke tap-jira --about --format=json > "$work/about.json" 2> "$work/about.log" ||
  fail "meltano invoke tap-jira --about" "$work/about.log"
"$repo/target/release/tap-jira" --about --format json > "$work/about-built.json"
cmp -s "$work/about.json" "$work/about-built.json" ||
  fail "the installed tap's --about differs from this checkout's" "$work/about.json"

echo "meltano: ok" >&2
