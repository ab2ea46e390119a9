# as_completed with a timeout: what completed first comes out, then TimeoutError; the
# timeout is a call_later callback, so a callback due at the same moment runs first.
import asyncio
from vloop import log, run


async def value(d, v):
    await asyncio.sleep(d)
    log(f"value {v} ready")
    return v


async def main():
    loop = asyncio.get_running_loop()
    a = asyncio.create_task(value(0.5, 1))
    b = asyncio.create_task(value(2, 2))
    await asyncio.sleep(0)
    it = asyncio.as_completed([a, b], timeout=1)
    loop.call_later(1, log, "cb at the deadline")
    for aw in it:
        try:
            r = await aw
            log(f"as_completed -> {r}")
        except TimeoutError:
            log("as_completed -> TimeoutError")
    await b
    log("main done")

run(main())
