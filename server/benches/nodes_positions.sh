#!/usr/bin/env bash
# Positions on several nodes (issue 20): the positions + live map load of `load_positions.sh` (1,000
# websocket clients with random viewports, position batches posted open loop) against one node and
# against NODES nodes (default 3) on one PostGIS database, the nodes linked by NATS; the batches are posted
# to the nodes in turn and the clients spread over them, so most fixes a client sees were stored by
# another node and came to its node through NATS. Both setups run in each round, alternately, on a fresh
# database each; prints a markdown table of the medians of RUNS rounds (default 3).
#
#   GRIDWATCH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres server/benches/nodes_positions.sh
#
# Environment: RUNS (3), NODES (3), SETUPS ("1 $NODES"), LOAD_ARGS (extra arguments for the load tool, e.g.
# "--rate 50000 --batch 2000 --duration-s 20"), RESULTS_OUT (a file to keep each run's JSON line in).
# Starts its own nats-server on a free port. Server RSS and CPU are the sum over the nodes.
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
NODES=${NODES:-3}
SETUPS=${SETUPS:-1 $NODES}
LOAD_ARGS=${LOAD_ARGS:-}
TARGET=${CARGO_TARGET_DIR:-target}
: "${GRIDWATCH_BENCH_DATABASE_URL:?set GRIDWATCH_BENCH_DATABASE_URL to a PostgreSQL server that may create databases}"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
export GRIDWATCH_RATE_POSITIONS=${GRIDWATCH_RATE_POSITIONS:-off}

cargo build --release --locked -p gridwatch --bin gridwatch --example load_positions >&2
BIN=$TARGET/release/gridwatch
LOAD=$TARGET/release/examples/load_positions
WORK=$(mktemp -d)
RESULTS=$WORK/results.jsonl
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
NATS_PID=
cleanup() {
  stop_all
  if [ -n "$NATS_PID" ]; then kill "$NATS_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

nats=$(command -v nats-server || echo /usr/sbin/nats-server)
nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$nats" -a 127.0.0.1 -p "$nats_port" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!
NATS_URL=nats://127.0.0.1:$nats_port

# Starts node $1 (1: `demo`, which imports the city and prints the admin token; others: `serve`) on $2.
start_node() {
  local n=$1 url=$2 log=$WORK/node-$1.log command=serve
  if [ "$n" = 1 ]; then command=demo; fi
  # shellcheck disable=SC2046 # an empty word or the one flag
  "$BIN" "$command" $([ "$command" = demo ] && no_simulation "$BIN") --database-url "$url" --addr 127.0.0.1:0 --nats-url "$NATS_URL" --node-id "node-$n" \
    >"$log" 2>"$log.err" &
  PIDS+=($!)
  for _ in $(seq 1 1200); do
    if [ "$command" = demo ]; then grep -q '^admin token: ' "$log" && break; else grep -q '^gridwatch is up at ' "$log" && break; fi
    sleep 0.1
  done
  grep -q '^gridwatch is up at ' "$log" || { cat "$log.err" >&2; echo "node $n did not start" >&2; exit 1; }
}

for run in $(seq 1 "$RUNS"); do
  for nodes in $SETUPS; do
    db=gw_nodes_positions_$$_${run}_$nodes
    psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    url="${GRIDWATCH_BENCH_DATABASE_URL%/*}/$db"
    for n in $(seq 1 "$nodes"); do start_node "$n" "$url"; done
    token=$(sed -n 's/^admin token: //p' "$WORK/node-1.log")
    urls=()
    for n in $(seq 1 "$nodes"); do
      u=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$WORK/node-$n.log")
      urls+=("${u%/}")
    done
    also=()
    for u in "${urls[@]:1}"; do also+=(--also-url "$u"); done
    pids=()
    for pid in "${PIDS[@]}"; do pids+=(--server-pid "$pid"); done
    psql -q "$url" -c CHECKPOINT
    # shellcheck disable=SC2086
    "$LOAD" --url "${urls[0]}" "${also[@]}" --token "$token" "${pids[@]}" --label "$nodes node(s)" $LOAD_ARGS >>"$RESULTS"
    stop_all
    psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE $db WITH (FORCE)"
  done
done

if [ -n "${RESULTS_OUT:-}" ]; then cp "$RESULTS" "$RESULTS_OUT"; fi
python3 - "$RESULTS" "$RUNS" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"\nmedians of {sys.argv[2]} runs (each run: a fresh database and fresh nodes)\n")
print("| setup | clients | target /s | accepted /s | HTTP p50 ms | HTTP p99 ms | delivery p50 ms | delivery p99 ms "
      "| delivery max ms | messages /s | failed batches | ws closed | resyncs | nodes' RSS peak MiB | nodes' CPU cores | tool CPU cores |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["label"] for r in runs):
    rs = [r for r in runs if r["label"] == label]
    m = lambda k: statistics.median(r[k] if r[k] is not None else float("nan") for r in rs)
    print(f"| {label} | {m('clients'):.0f} | {m('rate'):,.0f} | {m('accepted_per_s'):,.0f} | {m('http_p50_ms'):,.1f} | "
          f"{m('http_p99_ms'):,.1f} | {m('delivery_p50_ms'):,.1f} | {m('delivery_p99_ms'):,.1f} | {m('delivery_max_ms'):,.0f} | "
          f"{m('messages_per_s'):,.0f} | {m('failed_batches'):.0f} | {m('ws_dropped'):.0f} | {m('resyncs'):.0f} | "
          f"{m('server_rss_peak_mib'):.0f} | {m('server_cpu_cores'):.2f} | {m('tool_cpu_cores'):.2f} |")
print("\nper run (setup: accepted /s, delivery p99 ms):",
      "; ".join(f"{r['label']}: {r['accepted_per_s']:,.0f}, {r['delivery_p99_ms'] or float('nan'):,.0f}" for r in runs))
PY
