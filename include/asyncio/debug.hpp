// asyncio/debug.hpp: asyncio::debug, what the library tells about a loop's tasks that do not
// run. No CPython module (CPython 3.14's asyncio.tools and `python -m asyncio pstree` are
// the nearest): docs/debugging.md shows each on a real hang.
#pragma once

#include <asyncio/detail/source_site.hpp>
#include <asyncio/events.hpp>

#include <cstdio>
#include <string>

namespace asyncio::debug {

/// Each pending task of `loop` and what it waits on, one line each, in the order the tasks
/// were created, with the coroutine and the place (file name and line) of the `co_await`:
/// `Task-1 waits on Task-2 in amain() at main.cpp:12`, `Task-2 waits on Event.wait() in
/// consumer(asyncio::Event&) at main.cpp:5`, `Task-3 waits on Lock.acquire() (held by Task-2)
/// ...`; a task that is ready to run says so.
/// Call it on the loop's thread (from a task or a callback of the loop, or while the loop
/// is not running). The text DeadlockError carries, on demand.
///
/// Python: none (CPython 3.14's `asyncio.format_call_graph` shows one task's awaiters).
[[nodiscard]] std::string waiting_tasks(EventLoop& loop);

/// The await graph of every pending task of `loop`, from the tasks nobody awaits (`main`)
/// down to what each one awaits: each task as `format_call_graph` writes it (`* Task(...)`,
/// `+ Call stack:` innermost first, `+ Waits on:`), then `+ Awaits:` and the tasks and futures
/// it waits for, indented. A task awaited by several (a child shared by two gathers) is
/// written out once and named with `(shown above)` after that: the text grows linearly with
/// the tasks and edges. Tasks that await each other in a circle are printed too, and a last
/// line says `the await graph contains a cycle: Task-2 -> Task-3 -> Task-2`. Call it on the
/// loop's thread.
///
/// Python: none in asyncio; CPython 3.14's `python -m asyncio pstree PID` prints this tree
/// from outside (and grows with the paths, not the tasks).
[[nodiscard]] std::string format_loop_graph(EventLoop& loop, detail::SourceSite site = ASYNCIO_SOURCE_SITE);

/// Prints `format_loop_graph(loop)` of the running loop to `out` (stderr by default) each time
/// signal `sig` arrives, under a line `asyncio: await graph of the loop (signal N):` — `kill
/// -USR1 <pid>` on a program that seems stuck shows what each task waits on, and where. It is the loop's
/// signal handler (`loop.add_signal_handler`), so it runs when the loop turns: a loop stuck
/// inside one step (a blocking call in a coroutine) prints nothing until it returns.
/// `remove_signal_handler(sig)` ends it.
///
/// Python: none (CPython 3.14's `python -m asyncio pstree PID` reads another process).
/// Throws: `RuntimeError` without a running loop; what `add_signal_handler` throws.
void dump_on_signal(int sig, std::FILE* out = stderr);

}  // namespace asyncio::debug
