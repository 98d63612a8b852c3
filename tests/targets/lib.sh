# The plumbing of the target tests, sourced from the repository's root by run.sh (after
# bench/sim.sh, whose $work, start_sim and cleanup the last four below use) and by lock.sh.
#   ensure_debs               the Debian packages the loads need, installed when missing
#   ensure_uv                 uv from PyPI in a bootstrap venv; sets $uv, and $py (its Python)
#   ensure_venv NAME          target/targets/venvs/NAME from requirements/NAME.txt, kept while
#                             that lock file is unchanged
#   wait_all PID...           waits for every background job PID; fails if one did
#   start_postgres            a PostgreSQL server in a fresh folder on 127.0.0.1:$pg_port,
#                             stopped at exit
#   start_deployment D        the simulator as Jira D (cloud or server), a tap config for it
#   select_defaults IN OUT    a discovered catalog with the streams selected by default selected
#   sync OUT [--state FILE]   one run of the tap with $work/catalog.json into OUT
# Everything installed lives under target/targets/: deleting that folder (or `cargo clean`)
# makes a cold start, and a second run installs nothing.

cache=target/targets
# uv keeps its downloads here rather than in ~/.cache, so that they go with the venvs; trusts the
# system's CA certificates, as pip does (a proxy's own may be among them); never fetches a Python.
export UV_CACHE_DIR=$PWD/$cache/uv-cache UV_NATIVE_TLS=1 UV_PYTHON_DOWNLOADS=never
# pipelinewise-target-postgres pins a psycopg2-binary that has no wheel after Python 3.11.
python=/usr/bin/python3.11
tap=target/release/tap-jira

ensure_debs() {
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
  [ -x "$python" ] && "$python" -c 'import ensurepip, venv' 2> /dev/null || missing+=(python3.11-venv)
  # target-stitch pins psutil 5.6.6, which PyPI has only as source for Python 3.11.
  command -v gcc > /dev/null || missing+=(gcc)
  [ -e /usr/include/python3.11/Python.h ] || missing+=(python3.11-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      > /dev/null
  fi
}

ensure_uv() {
  local boot=$cache/bootstrap spec=uv==0.13.9
  if [ "$(cat "$boot/installed.txt" 2> /dev/null)" != "$spec" ]; then
    rm -rf "$boot"
    "$python" -m venv "$boot"
    "$boot/bin/pip" install --quiet --disable-pip-version-check "$spec"
    echo "$spec" > "$boot/installed.txt"
  fi
  uv=$boot/bin/uv
  py=$boot/bin/python
}

ensure_venv() {
  local name=$1 lock=tests/targets/requirements/$1.txt venv=$cache/venvs/$1
  # The copy of the lock file is written last: a venv whose install was cut short is redone.
  cmp -s "$lock" "$venv/installed.txt" && return
  "$uv" venv --quiet --clear --python "$python" "$venv"
  "$uv" pip sync --quiet --python "$venv/bin/python" "$lock"
  cp "$lock" "$venv/installed.txt"
}

# Waits for every one of the background jobs $@, then fails if any did: none is left running
# while the EXIT trap removes its files.
wait_all() {
  local pid failed=0
  for pid in "$@"; do wait "$pid" || failed=1; done
  return "$failed"
}

# PostgreSQL refuses to run as root: the server runs as the postgres user (created by the Debian
# package) when this script is root, as the caller otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_postgres() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop > /dev/null 2>&1 || true
  rm -rf "$pg_dir"
}

start_postgres() {
  pg_bin=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")
  # Its own folder, outside $work: the postgres user must be able to enter it.
  pg_dir=$(mktemp -d)
  # Before bench/sim.sh's cleanup (the simulator, $work), and while the server's folder is there.
  trap 'stop_postgres; cleanup' EXIT
  chmod 755 "$pg_dir"
  if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres -m 700 "$pg_dir/data"; fi
  as_pg "$pg_bin/initdb" --no-sync -D "$pg_dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    > /dev/null
  # A port free now (another test's server may hold a fixed one).
  pg_port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # fsync off: the data is thrown away at exit. The socket goes in the data folder:
  # /var/run/postgresql exists only where the packaged service has run.
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/data/server.log" -w \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_dir/data -c fsync=off" start > /dev/null
}

start_deployment() {
  [ -z "$sim_pid" ] || { kill "$sim_pid" && wait "$sim_pid" 2> /dev/null || true; }
  # No settling delay: worklogs deleted between the runs are listed by the next one at once.
  start_sim --deployment "$1" --worklog-settling-ms 0
  if [ "$1" = server ]; then
    printf '{"base_url": "%s", "allow_http": true, "personal_access_token": "sim-personal-access-token"}\n' \
      "$url" > "$work/config.json"
  fi
}

select_defaults() {
  "$py" - "$1" "$2" << 'PY'
import json, sys
catalog = json.load(open(sys.argv[1]))
for stream in catalog["streams"]:
    for m in stream["metadata"]:
        if m["breadcrumb"] == []:
            m["metadata"]["selected"] = m["metadata"].get("selected-by-default", False)
json.dump(catalog, open(sys.argv[2], "w"))
PY
}

sync() {
  local out=$1
  shift
  "$tap" --config "$work/config.json" --catalog "$work/catalog.json" "$@" > "$out" 2> "$out.err" \
    || { tail -20 "$out.err" >&2; return 1; }
}
