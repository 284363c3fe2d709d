#!/usr/bin/env bash
# Stalled websocket subscribers (issue 19, point 5): builds release, then for each server binary in BINS
# starts `gridwatch demo` on a fresh SQLite store, runs `load_subscribers` against it (OPEN open cases,
# STALLED subscribers that never read, READERS that do, creates at RATE /s) and samples the server's
# resident memory at each phase; RUNS rounds (default 3), interleaved; prints a markdown table of the
# medians. Figures in BENCHMARKS.md ("Stalled subscribers") come from this script.
#
#   server/benches/stalled.sh
#   BINS="target/release/gridwatch /tmp/gridwatch-before" server/benches/stalled.sh   # an A/B in one run
#
# Environment: RUNS (3), OPEN (20000), STALLED (50; a list such as "0 50" runs each), READERS (5; a list too), RATE (500), DURATION (20), BINS,
# SERVER_ARGS (extra arguments for `gridwatch demo`).
# STORE=postgres runs on PostGIS (GRIDWATCH_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres):
# the seeded database is copied for each run with CREATE DATABASE … TEMPLATE. NODES=2 (PostGIS only) starts a
# second node on the same database and connects every subscriber to it, so delivery is the propagation from
# the node that took the create (issue 20).
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
OPEN=${OPEN:-20000}
STALLED=${STALLED:-50}
READERS=${READERS:-5}
RATE=${RATE:-500}
DURATION=${DURATION:-20}
SERVER_ARGS=${SERVER_ARGS:-}
STORE=${STORE:-sqlite}
NODES=${NODES:-1}
PG_URL=${GRIDWATCH_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$NODES" != 1 ] && [ "$STORE" != postgres ]; then echo "NODES=2 needs STORE=postgres" >&2; exit 2; fi

cargo build --release --locked -p gridwatch --bin gridwatch --example load_subscribers >&2
BINS=${BINS:-$TARGET/release/gridwatch}
LOAD=$TARGET/release/examples/load_subscribers
WORK=$(mktemp -d)
RESULTS=$WORK/results.jsonl
SERVER_PID=
SECOND_PID=
cleanup() {
  for pid in $SERVER_PID $SECOND_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ "$STORE" = postgres ]; then
    psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS gw_bench_run" -c "DROP DATABASE IF EXISTS gw_bench_seed" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
db_url() { echo "${PG_URL%/*}/$1"; } # the same server, database $1
store_args() { # DATA: where a run's store is
  if [ "$STORE" = postgres ]; then echo "--database-url $(db_url "$1")"; else echo "--data-dir $1"; fi
}
stop_servers() {
  for pid in $SERVER_PID $SECOND_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  SERVER_PID=; SECOND_PID=
}
trap cleanup EXIT
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

start_server() { # BIN DATA LOG: starts it, sets SERVER_PID, url and token
  # shellcheck disable=SC2086,SC2046
  "$1" demo $(no_simulation "$1") --addr 127.0.0.1:0 $(store_args "$2") $SERVER_ARGS >"$3" 2>"$3.err" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do grep -q '^admin token: ' "$3" && break; sleep 0.1; done
  url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$3")
  token=$(sed -n 's/^admin token: //p' "$3")
  [ -n "$token" ] || { cat "$3.err" >&2; echo "the server did not start" >&2; exit 1; }
  ws_url=$url
  if [ "$NODES" = 2 ]; then
    # shellcheck disable=SC2086,SC2046
    "$1" serve --addr 127.0.0.1:0 $(store_args "$2") $SERVER_ARGS >"$3.second" 2>"$3.second.err" &
    SECOND_PID=$!
    for _ in $(seq 1 600); do grep -q '^gridwatch is up at ' "$3.second" && break; sleep 0.1; done
    ws_url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$3.second")
    [ -n "$ws_url" ] || { cat "$3.second.err" >&2; echo "the second node did not start" >&2; exit 1; }
  fi
}

# One store with the open cases, made once and copied for each run, so every run starts alike.
if [ "$STORE" = postgres ]; then
  SEED=gw_bench_seed
  psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS gw_bench_seed" -c "CREATE DATABASE gw_bench_seed" >/dev/null
else
  SEED=$WORK/seed
fi
NODES_WANTED=$NODES; NODES=1
start_server "${BINS%% *}" "$SEED" "$WORK/seed.log"
"$LOAD" --url "$url" --token "$token" --open "$OPEN" --seed-only
stop_servers
NODES=$NODES_WANTED

for run in $(seq 1 "$RUNS"); do
  b=0
  for BIN in $BINS; do
   for stalled in $STALLED; do
   for readers in $READERS; do
    b=$((b + 1))
    if [ "$STORE" = postgres ]; then
      data=gw_bench_run
      psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS gw_bench_run" -c "CREATE DATABASE gw_bench_run TEMPLATE gw_bench_seed" >/dev/null
    else
      data=$WORK/data-$run-$b
      cp -r "$SEED" "$data"
    fi
    log=$WORK/server-$run-$b.log
    start_server "$BIN" "$data" "$log"
    phases=$WORK/phases-$run-$b
    : >"$phases"
    "$LOAD" --url "$url" --ws-url "$ws_url" --token "$token" --open "$OPEN" --stalled "$stalled" --readers "$readers" \
      --rate "$RATE" --duration-s "$DURATION" --phases >"$WORK/run.json" 2> >(while read -r line; do
        echo "$line" >&2
        case $line in "phase: "*) echo "${line#phase: } $(rss_mb "$SERVER_PID")" >>"$phases" ;; esac
      done)
    sleep 0.5
    hwm=$(hwm_mb "$SERVER_PID")
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
r["bin"] = sys.argv[2]
r["rss_mb"] = {p: float(v) for p, v in (l.split() for l in open(sys.argv[3]) if l.strip())}
r["peak_mb"] = float(sys.argv[4])
print(json.dumps(r))' "$WORK/run.json" "$BIN, $STORE, $NODES node(s), $stalled stalled, $readers readers" "$phases" "$hwm" >>"$RESULTS"
    stop_servers
    if [ "$STORE" = postgres ]; then
      psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS gw_bench_run" >/dev/null
    else
      rm -rf "$data"
    fi
   done
   done
  done
done

python3 - "$RESULTS" "$RUNS" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"\nmedians of {sys.argv[2]} runs (each on a copy of the same seeded store)\n")
print("| server | open cases | stalled | readers | RSS seeded MB | RSS stalled MB | RSS after load MB | peak MB | create p50 ms | create p99 ms | delivery p50 ms | delivery p99 ms | failed | missing deliveries |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["bin"] for r in runs):
    rs = [r for r in runs if r["bin"] == label]
    m = lambda f: statistics.median(f(r) for r in rs)
    print(f"| {label} | {rs[0]['open']} | {rs[0]['stalled']} | {rs[0]['readers']} | {m(lambda r: r['rss_mb'].get('seeded', 0)):.0f} | "
          f"{m(lambda r: r['rss_mb'].get('stalled', 0)):.0f} | {m(lambda r: r['rss_mb'].get('done', 0)):.0f} | {m(lambda r: r['peak_mb']):.0f} | "
          f"{m(lambda r: r['create_p50_ms']):.2f} | {m(lambda r: r['create_p99_ms']):.2f} | {m(lambda r: r['delivery_p50_ms']):.2f} | "
          f"{m(lambda r: r['delivery_p99_ms']):.2f} | {m(lambda r: r['failed']):.0f} | {m(lambda r: r['deliveries_missing']):.0f} |")
print("\nin the server (medians, ms): the request, the wait for a group, the group, the commit\n")
print("| server | request p50 | request p99 | wait p50 | wait p99 | group p50 | group p99 | commit p50 | commit p99 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["bin"] for r in runs):
    rs = [r for r in runs if r["bin"] == label]
    m = lambda k: statistics.median(r["server"][k] or 0 for r in rs)
    print(f"| {label} | " + " | ".join(f"{m(f'{s}_{q}_ms'):.2f}" for s in ("request", "wait", "group", "commit") for q in ("p50", "p99")) + " |")
print("\nper run (create p99 / delivery p99 ms, peak MB):", ", ".join(
    f"{r['bin']} {r['create_p99_ms']:.2f}/{r['delivery_p99_ms']:.2f}/{r['peak_mb']:.0f}" for r in runs))
PY
