#!/usr/bin/env bash
# Soak (issue 19, point 7): builds release, starts `gridwatch demo` on a fresh SQLite store (or, with
# DATABASE_URL, a PostgreSQL database) with a short archive window, then for DURATION seconds sends
# RATE cases a second (each cancelled FINISH seconds later, so finished cases keep ageing out) with
# `soak`, and FIXES positions a second with `load_positions` beside it. Prints `soak`'s report: one line
# a minute with create and cancel latency, the server's resident memory and the cases its world holds;
# then the drift of resident memory after the first archive window. Figures in BENCHMARKS.md ("Soak").
#
#   server/benches/soak.sh                     # 30 minutes, SQLite
#   DURATION=600 server/benches/soak.sh        # a shorter one
#
# Environment: DURATION (1800), RATE (20), FIXES (2000), FINISH (10), ARCHIVE_AFTER (120), REPORT (60),
# DATABASE_URL (unset: SQLite), SERVER_ARGS (extra arguments for `gridwatch demo`).
set -euo pipefail
# The demo's simulation (issue 22) would add its own load: off, on binaries that have it (BINS may
# name older ones that do not know the flag).
no_simulation() { "$1" demo --help 2>/dev/null | grep -- '--no-simulation' >/dev/null && echo --no-simulation; }
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-1800}
RATE=${RATE:-20}
FIXES=${FIXES:-2000}
FINISH=${FINISH:-10}
ARCHIVE_AFTER=${ARCHIVE_AFTER:-120}
REPORT=${REPORT:-60}
SERVER_ARGS=${SERVER_ARGS:-}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release --locked -p gridwatch --bin gridwatch --example soak --example load_positions >&2
WORK=$(mktemp -d)
SERVER_PID=
POSITIONS_PID=
cleanup() {
  for pid in $POSITIONS_PID $SERVER_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${DATABASE_URL:-}" ]; then store=(--database-url "$DATABASE_URL"); else store=(--data-dir "$WORK/data"); fi
# shellcheck disable=SC2086
"$TARGET/release/gridwatch" demo $(no_simulation "$TARGET/release/gridwatch") --addr 127.0.0.1:0 "${store[@]}" --archive-after-s "$ARCHIVE_AFTER" \
  $SERVER_ARGS >"$WORK/server.log" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 600); do grep -q '^admin token: ' "$WORK/server.log" && break; sleep 0.1; done
url=$(sed -n 's/^gridwatch is up at \([^ ]*\).*/\1/p' "$WORK/server.log")
token=$(sed -n 's/^admin token: //p' "$WORK/server.log")
[ -n "$token" ] || { cat "$WORK/server.err" >&2; echo "the server did not start" >&2; exit 1; }

"$TARGET/release/examples/load_positions" --url "$url" --token "$token" --clients 5 --rate "$FIXES" \
  --batch 200 --duration-s "$DURATION" --warmup-s 0 >"$WORK/positions.json" 2>"$WORK/positions.err" &
POSITIONS_PID=$!
"$TARGET/release/examples/soak" --url "$url" --token "$token" --server-pid "$SERVER_PID" --rate "$RATE" \
  --finish-after-s "$FINISH" --duration-s "$DURATION" --report-s "$REPORT" 2> >(tee "$WORK/soak.err" >&2) \
  | tee "$WORK/soak.tsv"
wait "$POSITIONS_PID" || { cat "$WORK/positions.err" >&2; echo "load_positions failed" >&2; }
POSITIONS_PID=
tail -n 20 "$WORK/positions.json" >&2 || true
# Resident memory after the first archive window (plus a minute for the first cases to age out): its
# first value, its last, and the drift between them.
awk -v from_min="$(( (ARCHIVE_AFTER + FINISH) / 60 + 2 ))" -F'\t' '
  NR > 1 && $1 >= from_min { if (first == "") first = $9; last = $9; if ($9 > max) max = $9 }
  END { if (first != "") printf "rss after the first window: first %.1f MB, last %.1f MB, max %.1f MB, drift %+.1f%%\n", first, last, max, (last - first) / first * 100 }
' "$WORK/soak.tsv"
