#!/usr/bin/env bash
# Three gridwatch nodes on one PostgreSQL + PostGIS database, to try several nodes (issue 20): the first
# runs `gridwatch demo` (it imports the demo city once and prints an admin token), the other two
# `gridwatch serve` on the same database. A case created through any node shows on every node's map.
# Ctrl-C stops all three.
#
#   server/scripts/demo-nodes.sh [DATABASE_URL]
#
# DATABASE_URL defaults to $GRIDWATCH_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/gridwatch_nodes
# (created if missing; the role must be allowed to create the `postgis` extension). Ports: PORT (8081),
# PORT+1 and PORT+2 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
URL=${1:-${GRIDWATCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gridwatch_nodes}}
PORT=${PORT:-8081}
cargo build --release --locked -p gridwatch --bin gridwatch >&2
name=${URL##*/}
name=${name%%\?*}
if ! psql "$URL" -qAt -c "SELECT 1" >/dev/null 2>&1; then
  psql "${URL%/*}/postgres" -qAt -c "CREATE DATABASE \"$name\"" >/dev/null
fi
WORK=$(mktemp -d)
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap stop EXIT INT TERM
target/release/gridwatch demo --database-url "$URL" --addr "127.0.0.1:$PORT" >"$WORK/1.log" &
PIDS+=($!)
for _ in $(seq 1 1200); do grep -q '^admin token: ' "$WORK/1.log" && break; sleep 0.1; done
grep -q '^admin token: ' "$WORK/1.log" || { cat "$WORK/1.log"; echo "the first node did not start" >&2; exit 1; }
for n in 2 3; do
  target/release/gridwatch serve --database-url "$URL" --addr "127.0.0.1:$((PORT + n - 1))" >"$WORK/$n.log" &
  PIDS+=($!)
done
for n in 2 3; do
  for _ in $(seq 1 600); do grep -q '^gridwatch is up at ' "$WORK/$n.log" && break; sleep 0.1; done
done
echo "three nodes on $URL:"
for n in 1 2 3; do sed -n 's/^gridwatch is up at /  node '"$n"': /p' "$WORK/$n.log"; done
sed -n 's/^admin token: /admin token (any node): /p' "$WORK/1.log"
echo "Ctrl-C stops them."
wait
