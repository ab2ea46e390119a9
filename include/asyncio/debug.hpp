// asyncio/debug.hpp: asyncio::debug, what the library tells about a loop's tasks that do not
// run. No CPython module (CPython 3.14's asyncio.tools and `python -m asyncio pstree` are
// the nearest): docs/debugging.md shows each on a real hang.
#pragma once

#include <asyncio/detail/source_site.hpp>
#include <asyncio/events.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace asyncio::detail {
struct StallDetectorState;  // src/stall_detector.cpp
}

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

/// A watchdog for a loop stuck in one step — a blocking call (`std::this_thread::sleep_for`,
/// a blocking read, a long computation) inside a coroutine or a callback. A thread of its own
/// looks once per `threshold`; when the loop has been running the same step for a whole
/// period (not waiting for I/O), the loop's thread is interrupted with a signal and writes
/// at once, to `fd`: the task running (`Task-<id>`), its coroutines innermost first, each at
/// the `co_await` it last passed, and a native backtrace of the loop thread (function names
/// need the program linked with `-rdynamic`). When the step ends, the loop writes one more
/// line with the task's name and how long the step ran past the report. At most
/// `max_reports_per_minute` (5) reports a minute; the next one says how many were left out.
/// Cost while it watches: one relaxed store per step and one wake-up of its thread per
/// threshold (Seastar's reactor stall detector is the model); none once destroyed.
///
/// Python: none (CPython's debug mode only reports a slow step after it ended; see
/// `EventLoop::set_debug`).
/// Throws: `RuntimeError` without a running loop (the first constructor), or if the loop
///   has a detector already; `OSError` if the thread or the signal cannot be set up.
/// Differs from other runtimes: Tokio and asio have none; the report is written from the
///   signal handler, so it names the task by its number only (a name given to the task is
///   in the line written when the step ends).
class StallDetector {
public:
    /// What the detector does: the period, where it writes, how often, with which signal.
    struct Options {
        /// How long one step may run before it is reported.
        std::chrono::milliseconds threshold{25};
        /// Where the reports go (standard error by default).
        int fd = 2;
        /// At most this many reports in any minute.
        int max_reports_per_minute = 5;
        /// The signal that interrupts the loop's thread (0: SIGRTMAX - 1).
        int signal = 0;
    };
    /// Watches the running loop, reporting steps longer than `threshold`. Make it on the
    /// loop's thread (from a task or callback of the loop).
    explicit StallDetector(std::chrono::milliseconds threshold = std::chrono::milliseconds(25));
    /// Watches `loop`, which runs on the calling thread, with `options`.
    StallDetector(EventLoop& loop, Options options);
    StallDetector(const StallDetector&) = delete;
    StallDetector& operator=(const StallDetector&) = delete;
    /// Stops the watchdog thread and detaches from the loop.
    ~StallDetector();

    /// How many stalls were reported so far.
    [[nodiscard]] std::uint64_t reports() const noexcept;
    /// How many stalls were left out by the rate limit so far.
    [[nodiscard]] std::uint64_t suppressed() const noexcept;

private:
    std::unique_ptr<asyncio::detail::StallDetectorState> state_;
};

}  // namespace asyncio::debug
