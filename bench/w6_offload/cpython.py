"""W6 offload (docs/design/benchmarks-method.md), CPython (or uvloop with --uvloop): N `await asyncio.to_thread(f)`
round trips, one after another, of a trivial function."""
import asyncio
import sys
import time


def f(v):
    return v + 1


async def main(n):
    start = time.perf_counter_ns()
    total = 0
    for i in range(n):
        total += await asyncio.to_thread(f, i)
    elapsed = time.perf_counter_ns() - start
    if total != n * (n + 1) // 2:
        print(f"w6 python: sum {total}", file=sys.stderr)
        sys.exit(1)
    runtime = "uvloop" if uv else "cpython"
    print(f"RESULT workload=w6_offload runtime={runtime} n={n} ns_per_op={elapsed / n:.2f}")


args = sys.argv[1:]
uv = "--uvloop" in args
args = [a for a in args if a != "--uvloop"]
n = int(args[0]) if args else 100_000
if uv:
    import uvloop
    uvloop.install()
asyncio.run(main(n))
