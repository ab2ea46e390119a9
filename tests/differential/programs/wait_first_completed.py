# Issue 9 §5: wait(FIRST_COMPLETED) when a second task finishes before wait's callback has
# run (CPython returns both done).
import asyncio
from vloop import log, run


async def a_body(ev):
    await asyncio.sleep(1)
    asyncio.get_running_loop().call_soon(ev.set)
    log("a done")


async def b_body(ev):
    await ev.wait()
    log("b done")


async def sleeper(name, d):
    await asyncio.sleep(d)
    log(f"{name} done")


def names(s, tasks):
    return ",".join(n for n, t in tasks if t in s) or "-"


async def main():
    ev = asyncio.Event()
    a = asyncio.create_task(a_body(ev))
    b = asyncio.create_task(b_body(ev))
    tasks = [("a", a), ("b", b)]
    done, pending = await asyncio.wait([a, b], return_when=asyncio.FIRST_COMPLETED)
    log(f"wait -> done={names(done, tasks)} pending={names(pending, tasks)}")
    c = asyncio.create_task(sleeper("c", 1))
    d = asyncio.create_task(sleeper("d", 1))
    tasks = [("c", c), ("d", d)]
    done, pending = await asyncio.wait([c, d], return_when=asyncio.FIRST_COMPLETED)
    log(f"wait -> done={names(done, tasks)} pending={names(pending, tasks)}")
    e = asyncio.create_task(sleeper("e", 1))
    f = asyncio.create_task(sleeper("f", 3))
    tasks = [("e", e), ("f", f)]
    done, pending = await asyncio.wait([e, f], timeout=2)
    log(f"wait -> done={names(done, tasks)} pending={names(pending, tasks)}")
    done, pending = await asyncio.wait([e, f])
    log(f"wait -> done={names(done, tasks)} pending={names(pending, tasks)}")
    log("main done")

run(main())
