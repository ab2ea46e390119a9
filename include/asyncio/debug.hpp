// asyncio/debug.hpp: asyncio::debug, what the library tells about a loop's tasks that do not
// run. No CPython module (CPython 3.14's asyncio.tools and `python -m asyncio pstree` are
// the nearest): docs/debugging.md shows each on a real hang.
#pragma once

#include <asyncio/events.hpp>

#include <cstdio>
#include <string>

namespace asyncio::debug {

/// Each pending task of `loop` and what it waits on, one line each, in the order the tasks
/// were created: `Task-1 waits on Task-2`, `Task-2 waits on Event.wait()`,
/// `Task-3 waits on Lock.acquire() (held by Task-2)`; a task that is ready to run says so.
/// Call it on the loop's thread (from a task or a callback of the loop, or while the loop
/// is not running). The text DeadlockError carries, on demand.
///
/// Python: none (CPython 3.14's `asyncio.format_call_graph` shows one task's awaiters).
[[nodiscard]] std::string waiting_tasks(EventLoop& loop);

/// Prints `waiting_tasks(loop)` of the running loop to `out` (stderr by default) each time
/// signal `sig` arrives, under a line `asyncio: tasks of the loop (signal N):` — `kill -USR1
/// <pid>` on a program that seems stuck shows what each task waits on. It is the loop's
/// signal handler (`loop.add_signal_handler`), so it runs when the loop turns: a loop stuck
/// inside one step (a blocking call in a coroutine) prints nothing until it returns.
/// `remove_signal_handler(sig)` ends it.
///
/// Python: none (CPython 3.14's `python -m asyncio pstree PID` reads another process).
/// Throws: `RuntimeError` without a running loop; what `add_signal_handler` throws.
void dump_on_signal(int sig, std::FILE* out = stderr);

}  // namespace asyncio::debug
