# Issue 9 §5: cancelling a task that waits in gather cancels the children at once
# (cancelling() == 1 right after parent.cancel()); a cancelled child's slot in
# gather(return_exceptions=True) carries no message.
import asyncio
from vloop import log, run


async def child(name, d):
    try:
        await asyncio.sleep(d)
        log(f"{name} done")
    except asyncio.CancelledError:
        log(f"{name} cancelled")
        raise


async def parent(c1, c2):
    try:
        await asyncio.gather(c1, c2)
    except asyncio.CancelledError as e:
        log(f"parent cancelled msg={e.args[0] if e.args else ''!r}")
        raise


async def main():
    c1 = asyncio.create_task(child("c1", 10))
    c2 = asyncio.create_task(child("c2", 10))
    p = asyncio.create_task(parent(c1, c2))
    await asyncio.sleep(1)
    p.cancel("stop")
    log(f"after cancel c1.cancelling()={c1.cancelling()} c2.cancelling()={c2.cancelling()}")
    try:
        await p
    except asyncio.CancelledError:
        log(f"p cancelled={p.cancelled()} c1.cancelled()={c1.cancelled()}")

    c3 = asyncio.create_task(child("c3", 10))
    c4 = asyncio.create_task(child("c4", 1))

    async def killer():
        await asyncio.sleep(0.5)
        c3.cancel("bye")
    asyncio.create_task(killer())
    r = await asyncio.gather(c3, c4, return_exceptions=True)
    e = r[0]
    log(f"slot0 {type(e).__name__} msg={e.args[0] if e.args else ''!r} slot1={r[1]}")

    c5 = asyncio.create_task(child("c5", 10))
    c6 = asyncio.create_task(child("c6", 0.25))

    async def killer2():
        await asyncio.sleep(0.5)
        c5.cancel("bye2")
    asyncio.create_task(killer2())
    try:
        await asyncio.gather(c5, c6)
    except asyncio.CancelledError as e:
        log(f"gather raised CancelledError msg={e.args[0] if e.args else ''!r} c6.done()={c6.done()}")
    await asyncio.sleep(3)
    log("main done")

run(main())
