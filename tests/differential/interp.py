# tests/differential/interp.py: runs a generated program (random/gen.py's little language)
# on CPython, printing the same trace as `differential_programs --interpret FILE`.
#
#     python3 interp.py FILE
#
# Timers due together run in scheduling order here (vloop.VirtualLoop(stable_ties=True)):
# CPython's heapq does not keep that order for more than a few ties, and the library
# documents that it does (docs/differences.md); random programs tie often.
import asyncio
import sys

from vloop import VirtualLoop, log


def parse(text):
    bodies = {}
    stack = []
    for raw in text.splitlines():
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "body":
            cur = []
            bodies[int(words[1])] = cur
            stack = [cur]
        elif words[0] == "end":
            stack.pop()
        elif words[0] in ("timeout", "lock"):
            block = []
            stack[-1].append((words[0], words[1:], block))
            stack.append(block)
        else:
            stack[-1].append((words[0], words[1:], None))
    return bodies


class World:
    def __init__(self, bodies):
        self.bodies = bodies
        self.tasks = {}
        self.events = {}
        self.queues = {}
        self.locks = {}
        self.callbacks = 0

    def event(self, k):
        return self.events.setdefault(k, asyncio.Event())

    def queue(self, k):
        return self.queues.setdefault(k, asyncio.Queue())

    def lock(self, k):
        return self.locks.setdefault(k, asyncio.Lock())


def outcome(f):
    try:
        return str(f.result())
    except asyncio.CancelledError:
        return "cancelled"
    except ValueError as e:
        return f"error {e}"


async def run_ops(w, name, ops, spawned):
    loop = asyncio.get_running_loop()
    for kind, args, block in ops:
        if kind == "sleep":
            await asyncio.sleep(float(args[0]))
            log(f"{name} slept {args[0]}")
        elif kind == "spawn":
            k = int(args[0])
            w.tasks[k] = asyncio.create_task(body(w, k))
            spawned.append(k)
            log(f"{name} spawned T{k}")
        elif kind == "call_later":
            w.callbacks += 1
            loop.call_later(float(args[0]), log, f"cb{w.callbacks} from {name}")
        elif kind == "call_soon":
            w.callbacks += 1
            loop.call_soon(log, f"cb{w.callbacks} from {name}")
        elif kind == "await":
            k = int(args[0])
            try:
                r = await w.tasks[k]
                log(f"{name} await T{k} -> {r}")
            except asyncio.CancelledError:
                log(f"{name} await T{k} -> cancelled")
            except ValueError as e:
                log(f"{name} await T{k} -> error {e}")
        elif kind == "gather":
            ks = [int(a) for a in args]
            rs = await asyncio.gather(*[w.tasks[k] for k in ks], return_exceptions=True)
            parts = []
            for r in rs:
                if isinstance(r, asyncio.CancelledError):
                    parts.append("cancelled")
                elif isinstance(r, BaseException):
                    parts.append(f"error {r}")
                else:
                    parts.append(str(r))
            log(f"{name} gather -> " + ", ".join(parts))
        elif kind == "wait_first":
            ks = [int(a) for a in args]
            done, _ = await asyncio.wait([w.tasks[k] for k in ks], return_when=asyncio.FIRST_COMPLETED)
            log(f"{name} wait_first -> " + " ".join(f"T{k}" for k in ks if w.tasks[k] in done))
        elif kind == "wait_for":
            k = int(args[0])
            try:
                r = await asyncio.wait_for(w.tasks[k], float(args[1]))
                log(f"{name} wait_for T{k} -> {r}")
            except TimeoutError:
                log(f"{name} wait_for T{k} -> timeout")
            except asyncio.CancelledError:
                log(f"{name} wait_for T{k} -> cancelled")
            except ValueError as e:
                log(f"{name} wait_for T{k} -> error {e}")
        elif kind == "shield":
            k = int(args[0])
            try:
                r = await asyncio.shield(w.tasks[k])
                log(f"{name} shield T{k} -> {r}")
            except asyncio.CancelledError:
                log(f"{name} shield T{k} -> cancelled")
            except ValueError as e:
                log(f"{name} shield T{k} -> error {e}")
        elif kind == "cancel":
            k = int(args[0])
            r = w.tasks[k].cancel()
            log(f"{name} cancel T{k} -> {r}")
        elif kind == "set":
            w.event(int(args[0])).set()
            log(f"{name} set E{args[0]}")
        elif kind == "wait_event":
            try:
                async with asyncio.timeout(float(args[1])):
                    await w.event(int(args[0])).wait()
                log(f"{name} saw E{args[0]}")
            except TimeoutError:
                log(f"{name} wait E{args[0]} timed out")
        elif kind == "put":
            w.queue(int(args[0])).put_nowait(int(args[1]))
            log(f"{name} put {args[1]} in Q{args[0]}")
        elif kind == "get":
            try:
                async with asyncio.timeout(float(args[1])):
                    v = await w.queue(int(args[0])).get()
                log(f"{name} got {v} from Q{args[0]}")
            except TimeoutError:
                log(f"{name} get Q{args[0]} timed out")
        elif kind == "raise":
            raise ValueError(args[0])
        elif kind == "timeout":
            try:
                async with asyncio.timeout(float(args[0])):
                    await run_ops(w, name, block, spawned)
                log(f"{name} timeout block done")
            except TimeoutError:
                log(f"{name} timeout block timed out")
        elif kind == "lock":
            async with w.lock(int(args[0])):
                log(f"{name} holds L{args[0]}")
                await run_ops(w, name, block, spawned)
            log(f"{name} released L{args[0]}")
        else:
            raise SystemExit(f"unknown op {kind}")


async def body(w, i):
    name = f"T{i}"
    spawned = []
    failure = None
    try:
        await run_ops(w, name, w.bodies[i], spawned)
        log(f"{name} end")
    except asyncio.CancelledError as e:
        log(f"{name} cancelled")
        failure = e
    except ValueError as e:
        log(f"{name} raised {e}")
        failure = e
    # No child outlives its parent (asyncio.run would cancel leftovers in set order).
    for k in spawned:
        try:
            await w.tasks[k]
        except (asyncio.CancelledError, ValueError):
            pass
    if failure is not None:
        raise failure
    return i


async def main(bodies):
    w = World(bodies)
    try:
        await body(w, 0)
    except (asyncio.CancelledError, ValueError):
        pass
    await asyncio.sleep(100)  # every call_later has run
    log("main done")


if __name__ == "__main__":
    bodies = parse(open(sys.argv[1]).read())
    with asyncio.Runner(loop_factory=lambda: VirtualLoop(stable_ties=True)) as runner:
        runner.run(main(bodies))
