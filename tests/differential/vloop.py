# tests/differential/vloop.py: CPython's own event loop on a virtual clock, for the
# differential test. The loop is asyncio's SelectorEventLoop unchanged except for its clock
# and its selector: time() reads a counter that starts at zero, and select(timeout) — called
# by _run_once only when nothing is ready — moves the counter to the next timer instead of
# sleeping. Every ordering decision (ready queue, timers, call_soon hops) is CPython's.
import asyncio
import heapq
import itertools
import selectors
import sys


class _VirtualSelector(selectors.BaseSelector):
    def __init__(self, loop):
        self._loop = loop
        self._keys = {}

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys.pop(fd)

    def select(self, timeout=None):
        # Nothing is ready: jump to the earliest timer (the one _run_once's timeout is for).
        loop = self._loop
        if timeout is None and not loop._ready and not loop._scheduled and not loop._stopping:
            raise RuntimeError("virtual loop: nothing ready and no timer (deadlock)")
        if timeout is not None and timeout > 0 and loop._scheduled:
            loop._vtime = max(loop._vtime, loop._scheduled[0].when())
        return []

    def get_map(self):
        return self._keys

    def close(self):
        self._keys.clear()


class _StableTimerHandle(asyncio.TimerHandle):
    # Ties at the same deadline in scheduling order (the library's documented order).
    _seq = itertools.count()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._order = next(self._seq)

    def __lt__(self, other):
        return (self._when, self._order) < (other._when, other._order)


class VirtualLoop(asyncio.SelectorEventLoop):
    # stable_ties: timers due at the same moment leave the heap in scheduling order, as the
    # library's do, instead of in heapq's order (for generated programs; see interp.py).
    def __init__(self, stable_ties=False):
        self._vtime = 0.0
        self._stable_ties = stable_ties
        super().__init__(selector=_VirtualSelector(self))
        self._selector._loop = self
        self._clock_resolution = 1e-9

    def time(self):
        return self._vtime

    def call_at(self, when, callback, *args, context=None):
        if not self._stable_ties:
            return super().call_at(when, callback, *args, context=context)
        self._check_closed()
        timer = _StableTimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer


def log(msg):
    print(f"t={asyncio.get_running_loop().time():.3f} {msg}", flush=True)


def run(main):
    with asyncio.Runner(loop_factory=VirtualLoop) as runner:
        runner.run(main)


# CPython 3.11 (Debian's python3, what CI has) runs wait_for in a task of its own; 3.12, which
# the library follows, awaits the inner awaitable in the caller under a timeout. On 3.11 the
# 3.12 function is used, written here from its documented behaviour.
if sys.version_info < (3, 12):

    async def _wait_for_312(fut, timeout):
        if timeout is not None and timeout <= 0:
            fut = asyncio.ensure_future(fut)
            if fut.done():
                return fut.result()
            fut.cancel()
            waiter = asyncio.get_running_loop().create_future()
            fut.add_done_callback(lambda _: waiter.done() or waiter.set_result(None))
            try:
                await waiter
            except asyncio.CancelledError:
                fut.remove_done_callback(waiter)
                raise
            try:
                return fut.result()
            except asyncio.CancelledError as exc:
                raise TimeoutError from exc
        async with asyncio.timeout(timeout):
            return await fut

    asyncio.wait_for = _wait_for_312
    asyncio.tasks.wait_for = _wait_for_312
