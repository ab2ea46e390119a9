// asyncio/testing.hpp: asyncio::testing: the virtual clock and what tests need to look
// inside a loop. No CPython module: trio.testing and tokio's paused time are the models.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/events.hpp>
#include <asyncio/runners.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace asyncio::testing {

/// A loop on the virtual clock: its time starts at zero and, whenever nothing is ready and
/// no file descriptor is registered, jumps straight to the next timer instead of sleeping,
/// so a test of a 3 s timeout runs in microseconds and can assert exact times. With fds
/// registered it polls them without blocking first and jumps only if none is ready.
///
/// Python: none (CPython's tests use a private TestLoop; trio has MockClock(autojump)).
[[nodiscard]] std::unique_ptr<EventLoop> new_event_loop();

/// `asyncio::run(main)` on a virtual-clock loop.
template <class T>
T run(Coro<T> main) {
    return asyncio::run(std::move(main), &testing::new_event_loop);
}

/// Lets every other task and callback run until none can make progress without time passing
/// or I/O arriving, then resumes the caller: the state a test asserts on after "everything
/// that was going to happen now has happened". Virtual time does not move (a timer due now
/// still runs first). Use it instead of counting `sleep(0)`s.
///
/// Python: none (trio.testing.wait_all_tasks_blocked is the model).
/// Cancellation: cancel-safe, as `sleep(0)`.
[[nodiscard]] Coro<void> run_until_idle();

/// How many timers (sleeps, call_later handles, timeouts) the loop holds; a cancelled
/// sleep leaves none behind.
[[nodiscard]] std::size_t scheduled_timers(EventLoop& loop) noexcept;

/// How many file descriptors the loop's reactor watches for user readers and writers.
[[nodiscard]] std::size_t registered_fds(EventLoop& loop) noexcept;

/// How many system calls the loop's reactor has made (epoll and eventfd), for tests that
/// prove a path makes none.
[[nodiscard]] std::size_t reactor_syscalls(EventLoop& loop) noexcept;

/// Makes every later spawn watch its child with a thread of its own, as where the system
/// refuses pidfd_open (old kernels, seccomp filters); false: pidfd again where it works.
/// Process-wide, for tests of that path.
void set_pidfd_refused(bool refused) noexcept;

/// Makes every later spawn use glibc's posix_spawn, as where the kernel refuses the library's
/// own clone3 fast path (before Linux 5.9, seccomp filters, valgrind, CPUs other than
/// x86-64); false: the fast path again where it works. Process-wide, for tests of that path.
void set_fast_spawn_refused(bool refused) noexcept;

/// How many children the clone3 fast path has started in this process (docs/design/subprocesses.md).
[[nodiscard]] std::size_t fast_spawns() noexcept;

/// Children of this process that are not reaped yet, whose loop closed before they exited:
/// reaped by the next spawn or loop close (docs/design/subprocesses.md).
[[nodiscard]] std::size_t orphaned_children() noexcept;

}  // namespace asyncio::testing
