# tests/differential/vloop.py: CPython's own event loop on a virtual clock, for the
# differential test. The loop is asyncio's SelectorEventLoop unchanged except for its clock
# and its selector: time() reads a counter that starts at zero, and select(timeout) — called
# by _run_once only when nothing is ready — moves the counter to the next timer instead of
# sleeping. Every ordering decision (ready queue, timers, call_soon hops) is CPython's.
import asyncio
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
        if timeout is not None and timeout > 0 and loop._scheduled:
            loop._vtime = max(loop._vtime, loop._scheduled[0].when())
        return []

    def get_map(self):
        return self._keys

    def close(self):
        self._keys.clear()


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vtime = 0.0
        super().__init__(selector=_VirtualSelector(self))
        self._selector._loop = self
        self._clock_resolution = 1e-9

    def time(self):
        return self._vtime


def log(msg):
    print(f"t={asyncio.get_running_loop().time():.3f} {msg}", flush=True)


def run(main):
    with asyncio.Runner(loop_factory=VirtualLoop) as runner:
        runner.run(main)
