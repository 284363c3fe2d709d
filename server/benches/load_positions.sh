#!/usr/bin/env bash
# Positions + live map load: builds release, then for each round and store starts `gridwatch demo` on a
# fresh store, runs `load_positions` against it (1,000 websocket clients with random viewports listening
# while positions are posted in batches) and stops it; RUNS rounds (default 3), interleaved so slow spells
# of the shared machine hit every store alike; prints a markdown table of the medians of the runs.
# Figures in BENCHMARKS.md ("Positions and live map load") come from this script.
#
#   GRIDWATCH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres server/benches/load_positions.sh
#
# Environment: RUNS (3), STORES ("sqlite postgres"), LOAD_ARGS (extra arguments for the load tool, e.g.
# "--rate 50000 --batch 2000 --clients 1000 --duration-s 20"), SERVER_ARGS (extra arguments for
# `gridwatch demo`, e.g. "--ws-queue 256"), RESULTS_OUT (a file to keep each run's JSON line in), BINS
# (server binaries to run in the same rounds, for an A/B; default the one this script builds). Without
# GRIDWATCH_BENCH_DATABASE_URL the PostGIS runs are skipped.
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
STORES=${STORES:-sqlite postgres}
LOAD_ARGS=${LOAD_ARGS:-}
SERVER_ARGS=${SERVER_ARGS:-}
TARGET=${CARGO_TARGET_DIR:-target}

# 1,000 websocket clients hold 1,000 sockets in the tool and 1,000 in the server (both inherit this).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || echo "warning: ulimit -n is $(ulimit -n)" >&2

# The load tool posts batches from one address far faster than any tracker: lift the per-address limit
# on position reports (a variable, so binaries from before the limit run unchanged in an A/B).
export GRIDWATCH_RATE_POSITIONS=${GRIDWATCH_RATE_POSITIONS:-off}

cargo build --release --locked -p gridwatch --bin gridwatch --example load_positions >&2
# BINS: server binaries to compare in the same rounds (A/B on one machine state), default the one built.
BINS=${BINS:-$TARGET/release/gridwatch}
LOAD=$TARGET/release/examples/load_positions
WORK=$(mktemp -d)
RESULTS=$WORK/results.jsonl
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

for run in $(seq 1 "$RUNS"); do
  for store in $STORES; do
   b=0
   for BIN in $BINS; do
    b=$((b + 1))
    label=$store
    if [ "$BINS" != "${BINS%% *}" ]; then label="$label, $(basename "$BIN")"; fi
    case $store in
      sqlite) args=(--data-dir "$WORK/data-$run-$b") ;;
      postgres)
        if [ -z "${GRIDWATCH_BENCH_DATABASE_URL:-}" ]; then echo "skipping postgres: GRIDWATCH_BENCH_DATABASE_URL is not set" >&2; continue; fi
        db=gw_positions_$$_${run}_$b
        psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        args=(--database-url "${GRIDWATCH_BENCH_DATABASE_URL%/*}/$db") ;;
      *) echo "unknown store $store" >&2; exit 2 ;;
    esac
    log=$WORK/server-$store-$run-$b.log
    # shellcheck disable=SC2086
    "$BIN" demo $(no_simulation "$BIN") --addr 127.0.0.1:0 "${args[@]}" $SERVER_ARGS >"$log" 2>"$log.err" &
    SERVER_PID=$!
    for _ in $(seq 1 600); do grep -q '^admin token: ' "$log" && break; sleep 0.1; done
    url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$log")
    url=${url%/}
    token=$(sed -n 's/^admin token: //p' "$log")
    [ -n "$token" ] || { cat "$log.err" >&2; echo "the server did not start" >&2; exit 1; }
    # Flush the demo import now, so its checkpoint does not land inside the measurement.
    if [ "$store" = postgres ]; then psql -q "${args[1]}" -c CHECKPOINT; fi
    # shellcheck disable=SC2086
    "$LOAD" --url "$url" --token "$token" --server-pid "$SERVER_PID" --label "$label" $LOAD_ARGS >>"$RESULTS"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
    if [ "$store" = postgres ]; then psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE $db WITH (FORCE)"; fi
   done
  done
done

if [ -n "${RESULTS_OUT:-}" ]; then cp "$RESULTS" "$RESULTS_OUT"; fi
python3 - "$RESULTS" "$RUNS" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"\nmedians of {sys.argv[2]} runs (each run: its own fresh store and server)\n")
print("| store | clients | movers | target /s | batch | accepted /s | HTTP p50 ms | HTTP p99 ms | delivery p50 ms | delivery p99 ms | delivery max ms "
      "| messages /s | flagged | failed batches | ws closed | resyncs | overflowed | server RSS before → peak MiB | server CPU cores | tool CPU cores |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["label"] for r in runs):
    rs = [r for r in runs if r["label"] == label]
    m = lambda k: statistics.median(r[k] if r[k] is not None else float("nan") for r in rs)
    overflowed = max(max(r["overflowed_max_seen"], r["live_after"]["overflowed"]) for r in rs)
    print(f"| {label} | {m('clients'):.0f} | {m('movers'):.0f} | {m('rate'):,.0f} | {m('batch'):.0f} | {m('accepted_per_s'):,.0f} | "
          f"{m('http_p50_ms'):,.1f} | {m('http_p99_ms'):,.1f} | {m('delivery_p50_ms'):,.1f} | {m('delivery_p99_ms'):,.1f} | "
          f"{m('delivery_max_ms'):,.0f} | {m('messages_per_s'):,.0f} | {m('flagged'):.0f} | {m('failed_batches'):.0f} | {m('ws_dropped'):.0f} | "
          f"{m('resyncs'):.0f} | {overflowed} | {m('server_rss_before_mib'):.0f} → {m('server_rss_peak_mib'):.0f} | "
          f"{m('server_cpu_cores'):.2f} | {m('tool_cpu_cores'):.2f} |")
print("\nper run (accepted /s, delivery p99 ms, websocket connections the server closed):",
      "; ".join(f"{r['label']} {r['accepted_per_s']:,.0f}, {r['delivery_p99_ms'] or float('nan'):,.0f}, {r['ws_dropped']}" for r in runs))
PY
