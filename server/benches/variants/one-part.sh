#!/bin/sh
# The release build with every websocket snapshot sent as one message (its chunking off): the "before"
# side of the A/B in server/benches/stalled.sh (BENCHMARKS.md, "Stalled websocket subscribers").
exec "$(dirname "$0")/../../../target/release/gridwatch" "$@" --ws-snapshot-chunk-bytes 1073741824
