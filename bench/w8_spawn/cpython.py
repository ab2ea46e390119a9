"""W8 spawn (docs/design/benchmarks-method.md), CPython (or uvloop with --uvloop): N runs of /bin/true, C at a
time (C workers, each spawning and awaiting one child after another), every exit code checked."""
import asyncio
import sys
import time


async def worker(state, n):
    while state["next"] < n:
        state["next"] += 1
        p = await asyncio.create_subprocess_exec("/bin/true")
        if await p.wait() == 0:
            state["ok"] += 1


async def main(n, c):
    start = time.perf_counter_ns()
    state = {"next": 0, "ok": 0}
    await asyncio.gather(*(worker(state, n) for _ in range(c)))
    elapsed = time.perf_counter_ns() - start
    if state["ok"] != n:
        print(f"w8 python: {state['ok']} of {n} exited 0", file=sys.stderr)
        sys.exit(1)
    runtime = "uvloop" if uv else "cpython"
    print(f"RESULT workload=w8_spawn runtime={runtime} n={n} ns_per_op={elapsed / n:.2f}")


args = sys.argv[1:]
uv = "--uvloop" in args
args = [a for a in args if a != "--uvloop"]
n = int(args[0]) if args else 1000
c = int(args[1]) if len(args) > 1 else 16
if uv:
    import uvloop
    uvloop.install()
asyncio.run(main(n, c))
