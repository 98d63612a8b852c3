# Sourced by the benchmarks: builds release binaries, makes a scratch directory `$work` removed
# at exit, and `start_sim ARGS...` starts the simulator with ARGS, sets `$url` and writes a tap
# config for it to `$work/config.json` (extra JSON members in `$CONFIG_EXTRA`), with the
# simulator's Cloud credentials, or its Server personal access token when ARGS hold
# `--deployment server`. `discover_catalog TAP` writes the catalog TAP discovers there to
# `$work/catalog.json`, or says why it could not and exits.
# Built one at a time: together, the simulator's features would change the tap's shared crates,
# and Meltano's install (maturin builds the tap alone) would build them all again.
cargo build --release --quiet -p tap-jira
cargo build --release --quiet -p jira-sim
work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_sim() {
  target/release/jira-sim "$@" > "$work/sim.out" 2> "$work/sim.err" &
  sim_pid=$!
  # A large site, or a busy machine, takes the simulator a while to build.
  for _ in $(seq 1200); do [ -s "$work/sim.out" ] && break; sleep 0.1; done
  url=$(head -1 "$work/sim.out")
  if [ -z "$url" ]; then
    echo "the simulator did not start within 2 minutes:" >&2
    tail -5 "$work/sim.err" >&2
    exit 1
  fi
  local credentials='"email": "sim-user@example.com", "api_token": "sim-api-token"'
  case " $* " in
    *" --deployment server "*) credentials='"personal_access_token": "sim-personal-access-token"' ;;
  esac
  cat > "$work/config.json" <<JSON
{"base_url": "$url", "allow_http": true, $credentials${CONFIG_EXTRA:-}}
JSON
}

discover_catalog() {
  if ! "$1" --config "$work/config.json" --discover > "$work/catalog.json" 2> "$work/discover.err"; then
    echo "--discover failed:" >&2
    tail -5 "$work/discover.err" >&2
    exit 1
  fi
}
