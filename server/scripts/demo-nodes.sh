#!/usr/bin/env bash
# Three gridwatch nodes on one PostgreSQL + PostGIS database, to try several nodes (issue 20): the first
# runs `gridwatch demo` (it imports the demo city once and prints an admin token), the other two
# `gridwatch serve` on the same database. A case created through any node shows on every node's map,
# and so does a position, through NATS. Ctrl-C stops all three.
#
#   server/scripts/demo-nodes.sh [DATABASE_URL]
#
# NATS_URL defaults to nats://127.0.0.1:4222; when nothing listens there and `nats-server` is installed,
# the script starts one of its own on a free port.
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
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
nats_host=${NATS_URL#nats://}
if ! (exec 3<>"/dev/tcp/${nats_host%:*}/${nats_host##*:}") 2>/dev/null; then
  nats=$(command -v nats-server || echo /usr/sbin/nats-server)
  [ -x "$nats" ] || { echo "no NATS at $NATS_URL and no nats-server to start (apt-get install nats-server)" >&2; exit 1; }
  nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$nats" -a 127.0.0.1 -p "$nats_port" >"$WORK/nats.log" 2>&1 &
  PIDS+=($!)
  NATS_URL="nats://127.0.0.1:$nats_port"
fi
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap stop EXIT INT TERM
target/release/gridwatch demo --database-url "$URL" --addr "127.0.0.1:$PORT" \
  --nats-url "$NATS_URL" --node-id node-1 >"$WORK/1.log" &
PIDS+=($!)
for _ in $(seq 1 1200); do grep -q '^admin token: ' "$WORK/1.log" && break; sleep 0.1; done
grep -q '^admin token: ' "$WORK/1.log" || { cat "$WORK/1.log"; echo "the first node did not start" >&2; exit 1; }
for n in 2 3; do
  target/release/gridwatch serve --database-url "$URL" --addr "127.0.0.1:$((PORT + n - 1))" \
    --nats-url "$NATS_URL" --node-id "node-$n" >"$WORK/$n.log" &
  PIDS+=($!)
done
for n in 2 3; do
  for _ in $(seq 1 600); do grep -q '^gridwatch is up at ' "$WORK/$n.log" && break; sleep 0.1; done
done
echo "three nodes on $URL, positions through $NATS_URL:"
for n in 1 2 3; do sed -n 's/^gridwatch is up at /  node '"$n"': /p' "$WORK/$n.log"; done
sed -n 's/^admin token: /admin token (any node): /p' "$WORK/1.log"
echo "Ctrl-C stops them."
wait
