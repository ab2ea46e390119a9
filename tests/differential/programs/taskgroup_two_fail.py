# Issue 9 §5: two TaskGroup children failing in the same step: the ExceptionGroup holds both.
import asyncio
from vloop import log, run


async def fail(name, d):
    await asyncio.sleep(d)
    log(f"{name} raises")
    raise ValueError(name)


async def ok(name, d):
    try:
        await asyncio.sleep(d)
        log(f"{name} done")
    except asyncio.CancelledError:
        log(f"{name} cancelled")
        raise


async def main():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail("a", 1))
            tg.create_task(fail("b", 1))
            tg.create_task(ok("c", 2))
            await asyncio.sleep(5)
    except* ValueError as eg:
        log("group: " + " ".join(str(e) for e in eg.exceptions))
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(ok("d", 1))
            tg.create_task(ok("e", 1))
        log("after group")
    except Exception as e:
        log(f"unexpected {e!r}")
    log("main done")

run(main())
