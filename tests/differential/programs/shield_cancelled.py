# Issue 9 §5: shield of a task that ended cancelled raises CancelledError with no message;
# shield's completion reaches the waiter through a callback (one hop more than await).
import asyncio
from vloop import log, run


async def inner(d, v):
    await asyncio.sleep(d)
    log(f"inner {v} done")
    return v


async def via_shield(t, name):
    try:
        r = await asyncio.shield(t)
        log(f"{name} got {r}")
    except asyncio.CancelledError as e:
        log(f"{name} CancelledError msg={e.args[0] if e.args else ''!r}")


async def direct(t, name):
    r = await t
    log(f"{name} got {r}")


async def main():
    t = asyncio.create_task(inner(10, 1))
    w = asyncio.create_task(via_shield(t, "shielder"))
    await asyncio.sleep(1)
    t.cancel("bye")
    await w
    u = asyncio.create_task(inner(1, 2))
    w1 = asyncio.create_task(via_shield(u, "shielder"))
    w2 = asyncio.create_task(direct(u, "direct"))
    await w1
    await w2
    v = asyncio.create_task(inner(1, 3))
    w3 = asyncio.create_task(via_shield(v, "shielder"))
    await asyncio.sleep(0.5)
    w3.cancel()
    await asyncio.sleep(0)
    log(f"w3.done()={w3.done()} v.done()={v.done()}")
    await v
    log("main done")

run(main())
