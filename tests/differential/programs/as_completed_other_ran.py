# Issue 18 case 2: as_completed hands a completion to its item through a done callback and
# a queue: another task awaiting the same task runs first.
import asyncio
from vloop import log, run


async def value(d, v):
    await asyncio.sleep(d)
    return v


async def other(x):
    await x
    log("other x ran")


async def main():
    x = asyncio.create_task(value(0.5, 1))
    o = asyncio.create_task(other(x))   # awaits x after as_completed registered
    for aw in asyncio.as_completed([x]):
        r = await aw
        log(f"as_completed -> {r}")
    await o
    done = asyncio.create_task(value(0, 2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)        # done is finished before as_completed starts
    later = asyncio.create_task(value(0, 3))
    for aw in asyncio.as_completed([done]):
        log("awaiting an item already done")
        r = await aw
        log(f"as_completed -> {r} later.done()={later.done()}")
    await later
    log("main done")

run(main())
