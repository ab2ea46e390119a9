# Mixed: a producer and two consumers on a Queue, wait_for with timeouts on get().
import asyncio
from vloop import log, run


async def producer(q):
    for i in range(4):
        await asyncio.sleep(0.5)
        await q.put(i)
        log(f"put {i}")
    await q.put(None)
    await q.put(None)


async def consumer(name, q, timeout):
    while True:
        try:
            item = await asyncio.wait_for(q.get(), timeout)
        except TimeoutError:
            log(f"{name} timeout")
            continue
        if item is None:
            log(f"{name} end")
            return
        log(f"{name} got {item}")
        await asyncio.sleep(0.25)


async def main():
    q = asyncio.Queue(maxsize=1)
    await asyncio.gather(producer(q), consumer("c1", q, 0.625), consumer("c2", q, 1))
    try:
        await asyncio.wait_for(asyncio.sleep(2), 1)
    except TimeoutError:
        log("wait_for timeout")
    r = await asyncio.wait_for(asyncio.sleep(0.5, "fast"), 1)
    log(f"wait_for -> {r}")
    log("main done")

run(main())
