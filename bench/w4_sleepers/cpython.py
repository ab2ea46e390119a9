"""W4 sleepers (docs/design/benchmarks-method.md), CPython asyncio; with --uvloop, the same on uvloop.

N tasks each sleep(1) once; spawn all, then await all. The figure is the overhead: wall
time minus the 1 s every task sleeps.
"""
import asyncio
import sys
import time

woken = 0


async def sleeper():
    global woken
    await asyncio.sleep(1)
    woken += 1


async def main(n):
    start = time.perf_counter_ns()

    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    for task in tasks:
        await task

    overhead = time.perf_counter_ns() - start - 1_000_000_000
    if woken != n:
        sys.exit(f"w4: {woken} woke, expected {n}")
    return overhead


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
    overhead = run(main(n), use_uvloop)
    runtime = "uvloop" if use_uvloop else "cpython"
    print(f"RESULT workload=w4_sleepers runtime={runtime} n={n} ns_per_op={overhead / n:.2f} "
          f"overhead_ms={overhead / 1e6:.3f}")
