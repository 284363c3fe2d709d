#!/usr/bin/env bash
# Incident load: builds release, then for each store and each group-commit limit starts `gridwatch demo`
# on a fresh store, runs `load_incidents` against it and stops it; RUNS rounds (default 3), interleaved so
# slow spells of the shared machine hit every configuration alike; prints a markdown table of the medians
# of the runs. Figures in BENCHMARKS.md ("Incident load") come from this script.
#
#   GRIDWATCH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres server/benches/load.sh
#
# Environment: RUNS (3), STORES ("sqlite postgres"), BATCHES ("1 64": GRIDWATCH_INTAKE_BATCH_MAX, the most
# new incidents the server commits in one transaction; 1 is one transaction per incident), LOAD_ARGS (extra arguments for the load tool,
# e.g. "--rate 500 --duration-s 20"), SERVER_ARGS (extra arguments for `gridwatch demo`), BINS (server
# binaries to run in the same rounds, for an A/B; default the one this script builds).
# Without GRIDWATCH_BENCH_DATABASE_URL the PostGIS runs are skipped.
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
STORES=${STORES:-sqlite postgres}
BATCHES=${BATCHES:-1 64}
LOAD_ARGS=${LOAD_ARGS:-}
SERVER_ARGS=${SERVER_ARGS:-}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release --locked -p gridwatch --bin gridwatch --example load_incidents >&2
# BINS: server binaries to compare in the same rounds (A/B on one machine state), default the one built.
BINS=${BINS:-$TARGET/release/gridwatch}
LOAD=$TARGET/release/examples/load_incidents
WORK=$(mktemp -d)
RESULTS=$WORK/results.jsonl
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for run in $(seq 1 "$RUNS"); do
 for store in $STORES; do
  for batch in $BATCHES; do
   b=0
   for BIN in $BINS; do
    b=$((b + 1))
    label="$store, group ≤ $batch"
    if [ "$BINS" != "${BINS%% *}" ]; then label="$label, $(basename "$BIN")"; fi
    case $store in
      sqlite) args=(--data-dir "$WORK/data-${run}-$batch-$b") ;;
      postgres)
        if [ -z "${GRIDWATCH_BENCH_DATABASE_URL:-}" ]; then echo "skipping postgres: GRIDWATCH_BENCH_DATABASE_URL is not set" >&2; continue; fi
        db=gw_load_$$_${run}_${batch}_$b
        psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        args=(--database-url "${GRIDWATCH_BENCH_DATABASE_URL%/*}/$db") ;;
      *) echo "unknown store $store" >&2; exit 2 ;;
    esac
    log=$WORK/server-$store-$run-$batch.log
    # shellcheck disable=SC2086
    GRIDWATCH_INTAKE_BATCH_MAX=$batch "$BIN" demo $(no_simulation "$BIN") --addr 127.0.0.1:0 "${args[@]}" $SERVER_ARGS >"$log" 2>"$log.err" &
    SERVER_PID=$!
    for _ in $(seq 1 600); do grep -q '^admin token: ' "$log" && break; sleep 0.1; done
    url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$log")
    token=$(sed -n 's/^admin token: //p' "$log")
    [ -n "$token" ] || { cat "$log.err" >&2; echo "the server did not start" >&2; exit 1; }
    # The demo import has just written tens of thousands of rows: flush them now, so the import's
    # checkpoint does not land inside the measurement. (SQLite checkpoints its WAL as it goes.)
    if [ "$store" = postgres ]; then psql -q "${args[1]}" -c CHECKPOINT; fi
    cpu_before=$(cpu_ticks "$SERVER_PID")
    # shellcheck disable=SC2086
    "$LOAD" --url "$url" --token "$token" --label "$label" $LOAD_ARGS >"$WORK/run.json"
    cpu_after=$(cpu_ticks "$SERVER_PID")
    # The server process's own CPU time (user + system) for the whole run, warm-up included; PostgreSQL's
    # backends are not in it.
    python3 -c 'import json, os, sys; r = json.load(open(sys.argv[1])); t = (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK"); r["server_cpu_us_per_create"] = 1e6 * t / max(1, r["total_ok"]); print(json.dumps(r))' \
      "$WORK/run.json" "$cpu_before" "$cpu_after" >>"$RESULTS"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
    if [ "$store" = postgres ]; then psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE $db WITH (FORCE)"; fi
   done
  done
 done
done

python3 - "$RESULTS" "$RUNS" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"\nmedians of {sys.argv[2]} runs (each run: its own fresh store and server)\n")
print("| store, group commit | rate /s | runs | p50 ms | p90 ms | p99 ms | max ms | throughput /s | errors | assigned to a worker | server CPU µs / create |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["label"] for r in runs):
    rs = [r for r in runs if r["label"] == label]
    m = lambda k: statistics.median(r[k] for r in rs)
    print(f"| {label} | {m('rate'):.0f} | {len(rs)} | {m('p50_ms'):.2f} | {m('p90_ms'):.2f} | {m('p99_ms'):.2f} | "
          f"{m('max_ms'):.1f} | {m('throughput_per_s'):.1f} | {m('errors'):.0f} | {m('assigned_to_worker') / m('ok'):.0%} | {m('server_cpu_us_per_create'):.0f} |")
print("\nper run (p99 ms):", ", ".join(f"{r['label']} {r['p99_ms']:.2f}" for r in runs))
print("\nin the server over the measured window (its histograms scraped at the window's start and end; medians of the runs, ms): the request, the wait for a group, a group (drafting and store), the commit\n")
print("| store, group commit | request p50 | request p99 | wait p50 | wait p99 | group p50 | group p99 | commit p50 | commit p99 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in dict.fromkeys(r["label"] for r in runs):
    rs = [r for r in runs if r["label"] == label and r.get("server")]
    def sm(k):
        vs = [r["server"][k] for r in rs if r["server"].get(k) is not None]
        return f"{statistics.median(vs):.2f}" if vs else "—"
    print(f"| {label} | " + " | ".join(sm(f"{n}_{q}_ms") for n in ("request", "wait", "group", "commit") for q in ("p50", "p99")) + " |")
PY
