#!/usr/bin/env bash
# Tile serving throughput: starts `gridwatch demo` on a fresh SQLite store, lists every tile of the `grids`
# layer at zooms 12–16 over the city's extent (from its TileJSON `bounds`), and drives the list round-robin
# with wrk: first uncached (`Cache-Control: no-cache` on the request makes the server draw every tile from
# the world and skip the cache), then cached (one warm-up pass first). Prints tiles/s for each.
#
#   server/benches/tiles.sh                       # builds release; DURATION=30s by default
#   GRIDWATCH_BIN=target/debug/gridwatch DURATION=5s server/benches/tiles.sh   # a quick smoke run
#
# Environment: GRIDWATCH_BIN (skip the build and use this binary), DURATION (wrk -d, 30s), THREADS (2),
# CONNECTIONS (16), LAYER (grids), ZOOMS ("12 16"), SERVER_ARGS (extra `gridwatch demo` arguments, e.g.
# "--tile-cache-mib 0"). Needs wrk (Debian: apt-get install wrk) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-30s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
LAYER=${LAYER:-grids}
read -r ZMIN ZMAX <<<"${ZOOMS:-12 16}"
SERVER_ARGS=${SERVER_ARGS:-}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
if [ -z "${GRIDWATCH_BIN:-}" ]; then
  cargo build --release --locked -p gridwatch --bin gridwatch >&2
  GRIDWATCH_BIN=${CARGO_TARGET_DIR:-target}/release/gridwatch
fi
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log=$WORK/server.log
# shellcheck disable=SC2086
"$GRIDWATCH_BIN" demo --addr 127.0.0.1:0 --data-dir "$WORK/data" $SERVER_ARGS >"$log" 2>"$log.err" &
SERVER_PID=$!
for _ in $(seq 1 600); do grep -q '^admin token: ' "$log" && break; sleep 0.1; done
url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$log"); url=${url%/}
token=$(sed -n 's/^admin token: //p' "$log")
[ -n "$token" ] || { cat "$log.err" >&2; echo "the server did not start" >&2; exit 1; }

curl -sf -H "Authorization: Bearer $token" "$url/tiles/$LAYER.json" >"$WORK/tilejson.json"
python3 - "$WORK/tilejson.json" "$LAYER" "$ZMIN" "$ZMAX" >"$WORK/tiles.txt" <<'PY'
import json, math, sys
bounds = json.load(open(sys.argv[1]))["bounds"]
layer, zmin, zmax = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def tile(lon, lat, z):
    n = 2 ** z
    s = math.sin(math.radians(lat))
    return int((lon + 180) / 360 * n), int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
for z in range(zmin, zmax + 1):
    x0, y0 = tile(bounds[0], bounds[3], z)
    x1, y1 = tile(bounds[2], bounds[1], z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            print(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
PY
count=$(wc -l <"$WORK/tiles.txt")
cat >"$WORK/tiles.lua" <<'LUA'
local tiles = {}
for line in io.lines(os.getenv("TILES")) do tiles[#tiles + 1] = line end
local i = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Accept-Encoding"] = "gzip"
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

run() {
  TILES=$WORK/tiles.txt TOKEN=$token UNCACHED=$1 wrk -t "$THREADS" -c "$CONNECTIONS" -d "$2" -s "$WORK/tiles.lua" "$url" |
    sed -n 's/^TILES_PER_S/&/p'
}
echo "layer $LAYER, zooms $ZMIN–$ZMAX: $count tiles; wrk -t $THREADS -c $CONNECTIONS -d $DURATION"
echo "uncached: $(run 1 "$DURATION")"
# Warm the cache: each tile at least once.
while read -r path; do curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Accept-Encoding: gzip' "$url$path"; done <"$WORK/tiles.txt"
echo "cached:   $(run 0 "$DURATION")"
