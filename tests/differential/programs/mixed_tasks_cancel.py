# Mixed: awaiting tasks, cancellation through an await chain, done callbacks and
# TaskGroup children finishing in order.
import asyncio
from vloop import log, run


async def leaf(name, d):
    try:
        await asyncio.sleep(d)
        log(f"{name} done")
        return name
    except asyncio.CancelledError:
        log(f"{name} cancelled")
        raise


async def middle(name, d):
    t = asyncio.create_task(leaf(name + ".leaf", d))
    r = await t
    log(f"{name} got {r}")
    return r


async def main():
    m = asyncio.create_task(middle("m", 2))
    m.add_done_callback(lambda t: log(f"m callback cancelled={t.cancelled()}"))
    await asyncio.sleep(1)
    m.cancel()
    try:
        await m
    except asyncio.CancelledError:
        log("main saw m cancelled")
    async with asyncio.TaskGroup() as tg:
        for i, d in enumerate([0.5, 0.25, 0.5, 0]):
            t = tg.create_task(leaf(f"g{i}", d))
            t.add_done_callback(lambda t, i=i: log(f"g{i} callback"))
        log("body done")
    log("after group")
    x = asyncio.create_task(leaf("x", 0.5))
    y = asyncio.create_task(middle("y", 0.5))
    r = await asyncio.gather(x, y, leaf("z", 0.5))
    log(f"gather -> {r}")
    log("main done")

run(main())
