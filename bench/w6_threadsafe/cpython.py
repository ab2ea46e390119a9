"""W6 call_soon_threadsafe throughput (docs/design/benchmarks-method.md), CPython (or uvloop with --uvloop): 4
threads each post M callbacks to the running loop; the loop runs them all. ns per callback."""
import asyncio
import sys
import threading
import time


async def main(per_thread):
    threads = 4
    total = per_thread * threads
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    count = 0

    def tick():
        nonlocal count
        count += 1
        if count == total:
            done.set_result(None)

    def post():
        for _ in range(per_thread):
            loop.call_soon_threadsafe(tick)

    start = time.perf_counter_ns()
    posters = [threading.Thread(target=post) for _ in range(threads)]
    for p in posters:
        p.start()
    await done
    elapsed = time.perf_counter_ns() - start
    for p in posters:
        p.join()
    runtime = "uvloop" if uv else "cpython"
    print(f"RESULT workload=w6_threadsafe runtime={runtime} n={total} ns_per_op={elapsed / total:.2f}")


args = sys.argv[1:]
uv = "--uvloop" in args
args = [a for a in args if a != "--uvloop"]
per = int(args[0]) if args else 250_000
if uv:
    import uvloop
    uvloop.install()
asyncio.run(main(per))
