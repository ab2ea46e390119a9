# Mixed: Lock contention with sleep(0) inside the critical section, Event waiters woken
# together, a Condition notify.
import asyncio
from vloop import log, run


async def locker(name, lock, d):
    await asyncio.sleep(d)
    log(f"{name} wants")
    async with lock:
        log(f"{name} holds")
        await asyncio.sleep(0)
        await asyncio.sleep(0.25)
        log(f"{name} releases")


async def waiter(name, ev):
    await ev.wait()
    log(f"{name} saw event")


async def cond_waiter(name, cond):
    async with cond:
        await cond.wait()
        log(f"{name} notified")


async def main():
    lock = asyncio.Lock()
    await asyncio.gather(locker("l1", lock, 0), locker("l2", lock, 0), locker("l3", lock, 0.25))
    ev = asyncio.Event()
    ws = [asyncio.create_task(waiter(f"e{i}", ev)) for i in range(3)]
    await asyncio.sleep(0.5)
    asyncio.get_running_loop().call_soon(log, "soon before set")
    ev.set()
    log("set")
    await asyncio.gather(*ws)
    cond = asyncio.Condition()
    cs = [asyncio.create_task(cond_waiter(f"c{i}", cond)) for i in range(3)]
    await asyncio.sleep(0.5)
    async with cond:
        cond.notify(2)
        log("notified 2")
    await asyncio.sleep(0.5)
    async with cond:
        cond.notify_all()
    await asyncio.gather(*cs)
    log("main done")

run(main())
