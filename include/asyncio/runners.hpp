// asyncio/runners.hpp: run, Runner. Mirrors Lib/asyncio/runners.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/tasks.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace asyncio {

/// Runs coroutines on one loop it owns, then cancels what is left and closes the loop.
///
/// Python: `asyncio.Runner(*, debug=None, loop_factory=None)` (3.11)
/// Differs from CPython: the destructor plays the part of `with Runner() as r:`'s exit; no
///   `debug` flag; contextvars are not copied (C++ has none).
class Runner {
public:
    using LoopFactory = std::function<std::unique_ptr<EventLoop>()>;

    /// A runner whose loop comes from `loop_factory` (default: `new_event_loop`), made on
    /// first use.
    explicit Runner(LoopFactory loop_factory = {});
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;
    /// Closes the runner (see `close()`).
    ~Runner();

    /// Runs `coro` as the main task until it completes and returns its result. Ctrl-C
    /// (SIGINT, when this is the main thread and SIGINT has its default action) cancels the
    /// main task; the run then ends with KeyboardInterrupt. A second Ctrl-C ends the process.
    ///
    /// Python: `runner.run(coro)`
    /// Throws: whatever `coro` throws; `RuntimeError` when called from a running loop or
    ///   after `close()`; `KeyboardInterrupt` after Ctrl-C.
    template <class T>
    T run(Coro<T> coro) {
        Task<T> task = begin_run<T>(std::move(coro));
        RunGuard guard(*this, task);
        try {
            return get_loop().run_until_complete(task);
        } catch (const CancelledError&) {
            guard.rethrow_as_interrupt_if_needed();
            throw;
        }
    }

    /// Cancels every task left, lets them finish, and closes the loop. Idempotent.
    ///
    /// Python: `runner.close()`
    void close() noexcept;

    /// The runner's loop, made if needed.
    ///
    /// Python: `runner.get_loop()`
    /// Throws: `RuntimeError` after `close()`.
    EventLoop& get_loop();

private:
    class RunGuard {
    public:
        RunGuard(Runner& r, AnyTask main);
        RunGuard(const RunGuard&) = delete;
        RunGuard& operator=(const RunGuard&) = delete;
        ~RunGuard();
        void rethrow_as_interrupt_if_needed();

    private:
        Runner& runner_;
        AnyTask main_;
        bool installed_ = false;
    };

    template <class T>
    Task<T> begin_run(Coro<T> coro) {
        check_can_run();
        return get_loop().create_task(std::move(coro));
    }
    void check_can_run();

    LoopFactory loop_factory_;
    std::unique_ptr<EventLoop> loop_;
    bool closed_ = false;
    int interrupt_count_ = 0;
};

/// Runs `main` on a fresh loop until it completes, cancels and finishes the tasks left,
/// closes the loop, and returns `main`'s result or rethrows its exception.
///
/// Python: `asyncio.run(main, *, debug=None, loop_factory=None)` (3.12)
/// Throws: `RuntimeError("asyncio.run() cannot be called from a running event loop")`;
///   `KeyboardInterrupt` after Ctrl-C.
template <class T>
T run(Coro<T> main, Runner::LoopFactory loop_factory = {}) {
    if (detail::running_loop()) throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(std::move(loop_factory));
    return runner.run(std::move(main));
}

}  // namespace asyncio
