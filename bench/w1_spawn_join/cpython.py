"""W1 spawn-join (docs/design/benchmarks-method.md), CPython asyncio; with --uvloop, the same on uvloop.

Create N tasks that each return their index at once, keep them, then await each in order
and sum the results.
"""
import asyncio
import sys
import time


async def value(i):
    return i


async def main(n):
    start = time.perf_counter_ns()

    tasks = [asyncio.create_task(value(i)) for i in range(n)]
    total = 0
    for task in tasks:
        total += await task

    elapsed = time.perf_counter_ns() - start
    if total != n * (n - 1) // 2:
        sys.exit(f"w1: wrong sum {total}")
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
    n = int(args[0]) if args else 1_000_000
    elapsed = run(main(n), use_uvloop)
    runtime = "uvloop" if use_uvloop else "cpython"
    print(f"RESULT workload=w1_spawn_join runtime={runtime} n={n} ns_per_op={elapsed / n:.2f}")
