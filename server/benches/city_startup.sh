#!/usr/bin/env bash
# A city of 10 million people on one node (issue 20): writes the synthetic city of STREETS streets
# (default 270: 3.3 million households, about 200,000 buildings, about 27,000 grids) as GeoJSON once
# (`geodata/examples/city_geojson.rs`, kept as target/city-STREETS-SPLIT.geojson), imports it with
# `gridwatch import geojson` into a fresh PostGIS database, then RUNS times (default 3) starts
# `gridwatch serve` on it and measures:
# - start-up: from the process's start to its first `/ready` 200, and its resident memory then and at
#   its peak;
# - catch-up: EVENTS events (default 100,000) appended by another process while the node runs, and the
#   time until the node's world has applied them all (`/ready`'s `applied_seq`).
# Prints a markdown table of each run and the medians.
#
#   GRIDWATCH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres server/benches/city_startup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
STREETS=${STREETS:-270}
# Each generated building cut into SPLIT strips (geodata/examples/city_geojson.rs): 5 gives about
# 1 million buildings of about 3 households.
SPLIT=${SPLIT:-1}
RUNS=${RUNS:-3}
EVENTS=${EVENTS:-100000}
TARGET=${CARGO_TARGET_DIR:-target}
: "${GRIDWATCH_BENCH_DATABASE_URL:?set GRIDWATCH_BENCH_DATABASE_URL to a PostgreSQL server that may create databases}"

cargo build --release --locked -p gridwatch --bin gridwatch >&2
cargo build --release --locked -p gridwatch-geodata --example city_geojson >&2
BIN=$TARGET/release/gridwatch
CITY=$TARGET/city-$STREETS-$SPLIT.geojson
if [ ! -s "$CITY" ]; then
  "$TARGET/release/examples/city_geojson" "$STREETS" "$CITY.tmp" 1 "$SPLIT"
  mv "$CITY.tmp" "$CITY"
fi
WORK=$(mktemp -d)
db=gw_city_$$
URL="${GRIDWATCH_BENCH_DATABASE_URL%/*}/$db"
NODE=
cleanup() {
  if [ -n "$NODE" ]; then kill "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$GRIDWATCH_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

now() { date +%s.%N; }
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

t0=$(now)
"$BIN" import geojson "$CITY" --database-url "$URL" 2>"$WORK/import.log"
import_s=$(echo "$(now) - $t0" | bc)
echo "imported in ${import_s} s: $(tail -1 "$WORK/import.log")" >&2
psql -q "$URL" -c "VACUUM ANALYZE" -c CHECKPOINT

echo "| run | start-up to ready s | RSS at ready MiB | peak RSS MiB | catch-up of $EVENTS events s |"
echo "|---:|---:|---:|---:|---:|"
: >"$WORK/runs"
for run in $(seq 1 "$RUNS"); do
  t0=$(now)
  "$BIN" serve --database-url "$URL" --addr 127.0.0.1:0 >"$WORK/node.log" 2>"$WORK/node.err" &
  NODE=$!
  base=
  while [ -z "$base" ]; do
    kill -0 "$NODE" 2>/dev/null || { cat "$WORK/node.err" >&2; exit 1; }
    base=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$WORK/node.log")
    base=${base%/}
    sleep 0.05
  done
  until curl -fs "$base/ready" >/dev/null; do sleep 0.05; done
  ready_s=$(echo "$(now) - $t0" | bc)
  rss=$(kib "$NODE" VmRSS)
  # Catch-up: another process appends EVENTS events (revocations of a token nobody holds: only the
  # sequence moves), and the running node reads them.
  t1=$(now)
  # Under the events lock, as every writer takes it (EVENTS_LOCK in server/src/store/postgres.rs).
  psql -q "$URL" -c "DO \$\$ BEGIN PERFORM pg_advisory_xact_lock(7455532597517839988);
      INSERT INTO events (seq, at, kind, payload)
      SELECT m + g, now(), 'token.revoked', '{\"by\": 1, \"id\": 999999}'::jsonb
      FROM generate_series(1, $EVENTS) AS g, (SELECT COALESCE(max(seq), 0) AS m FROM events) AS x;
      END \$\$"
  end=$(psql -qAt "$URL" -c "SELECT max(seq) FROM events")
  until curl -fs "$base/ready" | grep -q "\"applied_seq\":$end[,}]"; do sleep 0.02; done
  catch_s=$(echo "$(now) - $t1" | bc)
  hwm=$(kib "$NODE" VmHWM)
  kill "$NODE"; wait "$NODE" 2>/dev/null || true; NODE=
  printf '| %s | %.2f | %.0f | %.0f | %.2f |\n' "$run" "$ready_s" "$(echo "$rss / 1024" | bc -l)" \
    "$(echo "$hwm / 1024" | bc -l)" "$catch_s"
  echo "$ready_s $rss $hwm $catch_s" >>"$WORK/runs"
done
python3 - "$WORK/runs" "$import_s" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = lambda i: statistics.median(r[i] for r in rows)
print(f"| median | {m(0):.2f} | {m(1) / 1024:.0f} | {m(2) / 1024:.0f} | {m(3):.2f} |")
print(f"\nimport: {float(sys.argv[2]):.1f} s")
PY
