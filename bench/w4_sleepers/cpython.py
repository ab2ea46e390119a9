"""W4 sleepers (docs/design/benchmarks-method.md), CPython asyncio; with --uvloop, the same on uvloop.

N tasks each sleep(1) once; spawn all, then await all. The figure is the overhead: wall
time minus the 1 s every task sleeps. With a second argument J > 0, W4j: each sleep
lengthened by 0 to J-1 µs from the shared generator (bench/w4_sleepers/asyncio.cpp), the
overhead the wall time minus the longest sleep.
"""
import asyncio
import sys
import time

woken = 0


async def sleeper(delay):
    global woken
    await asyncio.sleep(delay)
    woken += 1


def jitters_us(n, j):
    """The shared generator: a 32-bit LCG from seed 12345, its bits 8-31 modulo j."""
    x = 12345
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        yield (x >> 8) % j if j > 0 else 0


async def main(n, j):
    start = time.perf_counter_ns()

    tasks = []
    longest_us = 0
    for jitter in jitters_us(n, j):
        longest_us = max(longest_us, 1_000_000 + jitter)
        tasks.append(asyncio.create_task(sleeper(1 + jitter / 1e6)))
    for task in tasks:
        await task

    overhead = time.perf_counter_ns() - start - longest_us * 1000
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
    j = int(args[1]) if len(args) > 1 else 0
    overhead = run(main(n, j), use_uvloop)
    runtime = "uvloop" if use_uvloop else "cpython"
    workload = "w4j_jitter" if j > 0 else "w4_sleepers"
    print(f"RESULT workload={workload} runtime={runtime} n={n} ns_per_op={overhead / n:.2f} "
          f"overhead_ms={overhead / 1e6:.3f}")
