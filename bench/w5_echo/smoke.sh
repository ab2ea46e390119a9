#!/bin/sh
# bench/w5_echo/smoke.sh: a W5 server's smoke test (ctest --preset bench -L bench): starts SERVER on any free
# port, waits for its `READY port=N`, runs LOADGEN against it for 0.1 s + 0.2 s (10 connections, 64 bytes, every
# echo checked), then kills the server. Prints the load generator's RESULT line; exits non-zero if anything failed.
# With `w7`, CLIENT is W7's idle client instead: it opens 100 connections, each echoing one message, holds them and
# checks the server closed none (bench/w7_idle/idlegen.c).
#     smoke.sh SERVER CLIENT RUNTIME [w7]
set -eu
server=$1 loadgen=$2 runtime=$3 mode=${4:-w5}
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
if [ "$mode" = w7 ]; then
    "$loadgen" 127.0.0.1 "$port" 100 64 "$runtime" </dev/null
else
    "$loadgen" 127.0.0.1 "$port" 10 64 0.1 0.2 "$pid" "$runtime" w5_echo_64
fi
