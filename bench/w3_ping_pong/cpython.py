"""W3 ping-pong (docs/design/benchmarks-method.md), CPython asyncio; with --uvloop, the same on uvloop.

Two tasks pass a token through two queues of size 1; the ponger adds one on each round
trip, so the token comes back as M.
"""
import asyncio
import sys
import time


async def ping(out, inbox, m):
    token = 0
    for _ in range(m):
        await out.put(token)
        token = await inbox.get()
    return token


async def pong(inbox, out, m):
    for _ in range(m):
        token = await inbox.get()
        await out.put(token + 1)


async def main(m):
    start = time.perf_counter_ns()

    there = asyncio.Queue(maxsize=1)
    back = asyncio.Queue(maxsize=1)
    pinger = asyncio.create_task(ping(there, back, m))
    ponger = asyncio.create_task(pong(there, back, m))
    token = await pinger
    await ponger

    elapsed = time.perf_counter_ns() - start
    if token != m:
        sys.exit(f"w3: token {token}, expected {m}")
    return elapsed


def run(coro, use_uvloop):
    if use_uvloop:
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    use_uvloop = "--uvloop" in sys.argv
    m = int(args[0]) if args else 1_000_000
    elapsed = run(main(m), use_uvloop)
    runtime = "uvloop" if use_uvloop else "cpython"
    print(f"RESULT workload=w3_ping_pong runtime={runtime} n={m} ns_per_op={elapsed / m:.2f}")
