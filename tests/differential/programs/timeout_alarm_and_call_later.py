# Issue 18 case 1, with a timeout: its alarm (a call_at handle) and a call_later callback
# due at the same moment. The alarm runs from the ready queue, cancels the body's sleep, and
# the body resumes one callback later: after the call_later callback.
import asyncio
from vloop import log, run


async def body():
    try:
        async with asyncio.timeout(1):
            asyncio.get_running_loop().call_later(1, log, "cb")
            await asyncio.sleep(5)
    except TimeoutError:
        log("body timed out")


async def main():
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(body())
    await asyncio.sleep(0)
    loop.call_later(1, log, "cb after")
    await t
    log("main done")

run(main())
