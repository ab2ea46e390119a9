#!/bin/sh
# bench/w5_echo/smoke.sh: a W5 server's smoke test (ctest --preset bench -L bench): starts SERVER on any free
# port, waits for its `READY port=N`, runs LOADGEN against it for 0.1 s + 0.2 s (10 connections, 64 bytes, every
# echo checked), then kills the server. Prints the load generator's RESULT line; exits non-zero if anything failed.
#     smoke.sh SERVER LOADGEN RUNTIME
set -eu
server=$1 loadgen=$2 runtime=$3
out=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
"$server" 0 >"$out" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^READY port=\([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "smoke.sh: $server exited before READY" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "smoke.sh: no READY line from $server" >&2; exit 1; }
"$loadgen" 127.0.0.1 "$port" 10 64 0.1 0.2 "$pid" "$runtime" w5_echo_64
