# Issue 18 case 1: a sleep ending at t=1 and a call_later callback due at t=1, scheduled
# after it: CPython moves both timers to the ready queue, the sleep's timer completes its
# future, and the task resumes one callback later, so the callback runs first.
import asyncio
from vloop import log, run


async def sleeper(name, d):
    await asyncio.sleep(d)
    log(f"{name} woke")


async def main():
    loop = asyncio.get_running_loop()
    t1 = asyncio.create_task(sleeper("s1", 1))
    await asyncio.sleep(0)                     # s1's timer is scheduled first
    loop.call_later(1, log, "cb1")
    t2 = asyncio.create_task(sleeper("s2", 1))
    await asyncio.sleep(0)
    loop.call_later(1, log, "cb2")
    await t1
    await t2
    log("main done")

run(main())
