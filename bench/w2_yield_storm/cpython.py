"""W2 yield storm (docs/design/benchmarks-method.md), CPython asyncio; with --uvloop, the same on uvloop.

T tasks each yield to the loop (asyncio.sleep(0)) Y times.
"""
import asyncio
import sys
import time

count = 0


async def yielder(yields):
    global count
    for _ in range(yields):
        await asyncio.sleep(0)
        count += 1


async def main(n_tasks, yields):
    start = time.perf_counter_ns()

    tasks = [asyncio.create_task(yielder(yields)) for _ in range(n_tasks)]
    for task in tasks:
        await task

    elapsed = time.perf_counter_ns() - start
    if count != n_tasks * yields:
        sys.exit(f"w2: {count} yields, expected {n_tasks * yields}")
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
    n_tasks = int(args[0]) if len(args) > 0 else 1_000
    yields = int(args[1]) if len(args) > 1 else 1_000
    elapsed = run(main(n_tasks, yields), use_uvloop)
    runtime = "uvloop" if use_uvloop else "cpython"
    total = n_tasks * yields
    print(f"RESULT workload=w2_yield_storm runtime={runtime} n={total} ns_per_op={elapsed / total:.2f}")
