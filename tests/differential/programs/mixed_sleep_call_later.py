# Mixed: sleeps, sleep(0), call_soon and call_later ties, tasks created from callbacks.
# (CPython orders timers due together by heapq, which does not keep their scheduling order
# once more than a few tie; the library keeps it. The ties here are ones heapq keeps.)
import asyncio
from vloop import log, run


async def worker(name, steps):
    for i, d in enumerate(steps):
        await asyncio.sleep(d)
        log(f"{name} step {i}")
    return name


async def main():
    loop = asyncio.get_running_loop()
    loop.call_soon(log, "soon 1")
    t1 = asyncio.create_task(worker("w1", [0, 0.25, 0, 0.5]))
    loop.call_later(0.5, log, "later 0.5 a")
    t2 = asyncio.create_task(worker("w2", [0.5, 0, 0.5]))
    loop.call_later(0.5, log, "later 0.5 b")
    loop.call_soon(log, "soon 2")
    loop.call_later(1, lambda: asyncio.ensure_future(worker("w3", [0, 0])))
    h = loop.call_later(1, log, "never")
    h.cancel()
    await asyncio.sleep(0)
    log("main after sleep(0)")
    r = await asyncio.gather(t1, t2)
    log(f"gather -> {r}")
    await asyncio.sleep(1)
    log("main done")

run(main())
