#!/usr/bin/env bash
# Tile serving throughput, gridwatch beside Martin: starts `gridwatch demo` on a fresh PostGIS database (so
# the same grids are in PostGIS for Martin), lists every tile of the `grids` layer at zooms 12–16 over the
# city's extent (from gridwatch's TileJSON `bounds`), and drives the same list round-robin with the same
# wrk settings against:
#   - gridwatch uncached (`Cache-Control: no-cache` on the request: every tile drawn from the world);
#   - gridwatch cached (after one warm-up pass over the list);
#   - Martin 1.14.0 serving the `grids` table of that database, uncached (`--cache-size 0`) and cached
#     (its default cache, after one warm-up pass).
#   - optionally a second gridwatch binary (BASELINE_BIN, e.g. the build before a change) on its own fresh
#     database, uncached and cached, in the same rounds: before and after compared within one run.
# Every request asks for gzip. ROUNDS rounds (3), interleaved; prints each run and the medians.
#
#   GRIDWATCH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres server/benches/tiles.sh
#   GRIDWATCH_BIN=target/debug/gridwatch DURATION=5s ROUNDS=1 … server/benches/tiles.sh   # a smoke run
#
# Environment: GRIDWATCH_BIN (skip the build, use this binary), MARTIN (the martin binary; default `martin`
# on PATH — install it with `cargo install martin --version 1.14.0 --locked --no-default-features
# --features postgres,metrics`; without it only gridwatch runs), DURATION (wrk -d, 20s), THREADS (2),
# CONNECTIONS (16), ZOOMS ("12 16"), ROUNDS (3), SERVER_ARGS (extra `gridwatch demo` arguments), GZIP (1; 0 drops
# `Accept-Encoding: gzip` from the measured requests), BASELINE_BIN (a second gridwatch binary measured
# as `baseline-uncached` / `baseline-cached`).
# Needs wrk (Debian: apt-get install wrk), curl, psql and python3.
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-3}
read -r ZMIN ZMAX <<<"${ZOOMS:-12 16}"
SERVER_ARGS=${SERVER_ARGS:-}
MARTIN=${MARTIN:-martin}
DB_URL=${GRIDWATCH_BENCH_DATABASE_URL:?set GRIDWATCH_BENCH_DATABASE_URL=postgres://… (Martin reads the grids from PostGIS)}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
if ! command -v "$MARTIN" >/dev/null; then
  echo "martin is missing: only gridwatch is measured (see the header for how to install it)" >&2
  MARTIN=
fi
if [ -z "${GRIDWATCH_BIN:-}" ]; then
  cargo build --release --locked -p gridwatch --bin gridwatch >&2
  GRIDWATCH_BIN=${CARGO_TARGET_DIR:-target}/release/gridwatch
fi
WORK=$(mktemp -d)
db=gw_tiles_$$
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql -q "$DB_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  psql -q "$DB_URL" -c "DROP DATABASE IF EXISTS ${db}_base WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# gridwatch_up BIN DB: starts `gridwatch demo` on a fresh database DB, sets GW_URL and GW_TOKEN.
gridwatch_up() {
  psql -q "$DB_URL" -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2"
  local log=$WORK/server-$2.log
  # shellcheck disable=SC2086
  "$1" demo $(no_simulation "$1") --addr 127.0.0.1:0 --database-url "${DB_URL%/*}/$2" $SERVER_ARGS >"$log" 2>"$log.err" &
  PIDS+=($!)
  for _ in $(seq 1 600); do grep -q '^admin token: ' "$log" && break; sleep 0.1; done
  GW_URL=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$log"); GW_URL=${GW_URL%/}
  GW_TOKEN=$(sed -n 's/^admin token: //p' "$log")
  [ -n "$GW_TOKEN" ] || { cat "$log.err" >&2; echo "gridwatch ($1) did not start" >&2; exit 1; }
}
gridwatch_up "$GRIDWATCH_BIN" "$db"
gw_db=${DB_URL%/*}/$db
url=$GW_URL token=$GW_TOKEN
if [ -n "${BASELINE_BIN:-}" ]; then
  gridwatch_up "$BASELINE_BIN" "${db}_base"
  base_url=$GW_URL base_token=$GW_TOKEN
fi

curl -sf -H "Authorization: Bearer $token" "$url/tiles/grids.json" >"$WORK/tilejson.json"
python3 - "$WORK/tilejson.json" "$ZMIN" "$ZMAX" >"$WORK/zxy.txt" <<'PY'
import json, math, sys
bounds = json.load(open(sys.argv[1]))["bounds"]
zmin, zmax = int(sys.argv[2]), int(sys.argv[3])
def tile(lon, lat, z):
    n = 2 ** z
    s = math.sin(math.radians(lat))
    return int((lon + 180) / 360 * n), int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
for z in range(zmin, zmax + 1):
    x0, y0 = tile(bounds[0], bounds[3], z)
    x1, y1 = tile(bounds[2], bounds[1], z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            print(f"{z}/{x}/{y}")
PY
sed 's|.*|/tiles/grids/&.mvt|' "$WORK/zxy.txt" >"$WORK/gridwatch.txt"
sed 's|.*|/grids/&|' "$WORK/zxy.txt" >"$WORK/martin.txt"
count=$(wc -l <"$WORK/zxy.txt")

cat >"$WORK/tiles.lua" <<'LUA'
local tiles = {}
for line in io.lines(os.getenv("TILES")) do tiles[#tiles + 1] = line end
local i = 0
if os.getenv("TOKEN") ~= "" then wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN") end
if os.getenv("GZIP") ~= "0" then wrk.headers["Accept-Encoding"] = "gzip" end
if os.getenv("UNCACHED") == "1" then wrk.headers["Cache-Control"] = "no-cache" end
request = function()
  i = i % #tiles + 1
  return wrk.format("GET", tiles[i])
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("TILES_PER_S %.0f P50_MS %.2f P99_MS %.2f ERRORS %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
LUA

# drive LABEL BASE_URL LIST TOKEN UNCACHED: one wrk run, one result line.
drive() {
  local line
  line=$(TILES=$3 TOKEN=$4 UNCACHED=$5 wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$WORK/tiles.lua" "$2" | grep '^TILES_PER_S')
  echo "$1 $line" | tee -a "$WORK/results.txt"
}
# warm BASE_URL LIST TOKEN: every tile once, each must answer 200.
warm() {
  while read -r path; do
    curl -sf -o /dev/null ${3:+-H "Authorization: Bearer $3"} -H 'Accept-Encoding: gzip' "$1$path" || { echo "warm-up: $1$path failed" >&2; exit 1; }
  done <"$2"
}
# martin_up CACHE_ARGS: starts Martin on the grids table, sets MARTIN_URL.
martin_up() {
  local port=$((20000 + RANDOM % 20000))
  # Martin needs a password in its connection string (any, with trust authentication).
  local conn; conn=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(netloc=(p.username or "postgres") + ":bench@" + p.hostname + ":" + str(p.port or 5432)).geturl())' "$gw_db")
  # shellcheck disable=SC2086
  "$MARTIN" --listen-addresses "127.0.0.1:$port" $1 "$conn" >"$WORK/martin.log" 2>&1 &
  MARTIN_PID=$!
  PIDS+=("$MARTIN_PID")
  MARTIN_URL=http://127.0.0.1:$port
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$MARTIN_URL/catalog" && break; sleep 0.1; done
  curl -sf "$MARTIN_URL/catalog" | grep -q '"grids"' || { cat "$WORK/martin.log" >&2; echo "martin does not serve grids" >&2; exit 1; }
}
martin_down() { kill "$MARTIN_PID"; wait "$MARTIN_PID" 2>/dev/null || true; }

echo "grids layer, zooms $ZMIN–$ZMAX: $count tiles; wrk -t $THREADS -c $CONNECTIONS -d $DURATION; $ROUNDS rounds"
warm "$url" "$WORK/gridwatch.txt" "$token"
[ -z "${base_url:-}" ] || warm "$base_url" "$WORK/gridwatch.txt" "$base_token"
for round in $(seq 1 "$ROUNDS"); do
  drive "gridwatch-uncached" "$url" "$WORK/gridwatch.txt" "$token" 1
  drive "gridwatch-cached" "$url" "$WORK/gridwatch.txt" "$token" 0
  if [ -n "${base_url:-}" ]; then
    drive "baseline-uncached" "$base_url" "$WORK/gridwatch.txt" "$base_token" 1
    drive "baseline-cached" "$base_url" "$WORK/gridwatch.txt" "$base_token" 0
  fi
  if [ -n "$MARTIN" ]; then
    martin_up "--cache-size 0"
    drive "martin-uncached" "$MARTIN_URL" "$WORK/martin.txt" "" 0
    martin_down
    martin_up ""
    warm "$MARTIN_URL" "$WORK/martin.txt" ""
    drive "martin-cached" "$MARTIN_URL" "$WORK/martin.txt" "" 0
    martin_down
  fi
  echo "round $round done" >&2
done

python3 - "$WORK/results.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault(f[0], []).append((float(f[2]), float(f[4]), float(f[6]), int(f[8])))
print("\n| server | runs | tiles/s (median) | p50 ms | p99 ms | errors | per run tiles/s |")
print("|---|---:|---:|---:|---:|---:|---|")
for name, rs in runs.items():
    m = lambda i: statistics.median(r[i] for r in rs)
    print(f"| {name} | {len(rs)} | {m(0):,.0f} | {m(1):.2f} | {m(2):.2f} | {sum(r[3] for r in rs)} | {', '.join(f'{r[0]:,.0f}' for r in rs)} |")
med = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
if "baseline-uncached" in med:
    print(f"\ngridwatch / baseline: uncached {med['gridwatch-uncached'] / med['baseline-uncached']:.2f}×, "
          f"cached {med['gridwatch-cached'] / med['baseline-cached']:.2f}×")
if "martin-uncached" in med:
    print(f"\ngridwatch uncached / Martin uncached: {med['gridwatch-uncached'] / med['martin-uncached']:.1f}×; "
          f"gridwatch cached / Martin cached: {med['gridwatch-cached'] / med['martin-cached']:.2f}×")
PY
