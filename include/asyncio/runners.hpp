// asyncio/runners.hpp: run, Runner. Mirrors Lib/asyncio/runners.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/debug.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/tasks.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asyncio {

class Runner;

namespace detail {
struct RunnerAccess;
}

/// Runs coroutines on one loop it owns, then cancels what is left and closes the loop.
///
/// Python: `asyncio.Runner(*, debug=None, loop_factory=None)` (3.11)
/// Differs from CPython: the destructor plays the part of `with Runner() as r:`'s exit.
class Runner {
public:
    /// Makes the runner's loop: `new_event_loop` by default, `testing::new_event_loop` for the
    /// virtual clock.
    ///
    /// Python: the `loop_factory` argument
    using LoopFactory = std::function<std::unique_ptr<EventLoop>()>;

    /// How a runner makes its loop: CPython's keyword arguments.
    struct Options {
        /// Debug mode for the loop (`loop.set_debug`); unset: the loop's own default (on with
        /// `ASYNCIO_DEBUG=1` in the environment).
        ///
        /// Python: the `debug` argument
        std::optional<bool> debug{};
        /// Makes the loop (`new_event_loop` when empty).
        ///
        /// Python: the `loop_factory` argument
        LoopFactory loop_factory{};
        /// Watches the loop with a `debug::StallDetector` made with these options when the
        /// loop is made, destroyed before it is closed: `run(main, {.stall_detector =
        /// asyncio::debug::StallDetector::Options{.threshold = 50ms}})`. Unset: none.
        ///
        /// Python: none (no CPython counterpart)
        std::optional<debug::StallDetector::Options> stall_detector{};
    };

    /// A runner whose loop comes from `loop_factory` (default: `new_event_loop`), made on
    /// first use.
    explicit Runner(LoopFactory loop_factory = {});
    /// A runner with `options`: `Runner r({.debug = true});`.
    ///
    /// Python: `asyncio.Runner(debug=True, loop_factory=...)`
    explicit Runner(Options options);
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;
    /// Closes the runner (see `close()`).
    ///
    /// Differs from CPython: a destructor cannot raise, so a Ctrl-C while it finishes the
    ///   tasks left ends the process as an unhandled SIGINT does, once the loop is closed and
    ///   the tasks' frames are destroyed. Call `close()` to get `KeyboardInterrupt` instead.
    ~Runner();

    /// Runs `coro` as the main task until it completes and returns its result. Ctrl-C
    /// (SIGINT, when this is the main thread and SIGINT has its default action) cancels the
    /// main task; the run then ends with KeyboardInterrupt. A second Ctrl-C raises
    /// KeyboardInterrupt at once, out of the loop, as CPython's handler does. The main task
    /// runs in the runner's context: a copy of the context current when the runner made its
    /// loop, the same for every run, so what one run sets the next one sees.
    ///
    /// Python: `runner.run(coro)`
    /// Throws: whatever `coro` throws; `RuntimeError` when called from a running loop or
    ///   after `close()`; `KeyboardInterrupt` after Ctrl-C.
    /// Differs from CPython: the handler can only act when the loop gets control; a Ctrl-C
    ///   that comes while the one before has not been picked up yet (a callback or a task
    ///   step that does not return) ends the process as an unhandled SIGINT does.
    template <class T>
    T run(Coro<T> coro) {
        return run_main(begin_run<T>(std::move(coro), nullptr), true);
    }
    /// The same, with the main task in `context` itself instead of the runner's.
    ///
    /// Python: `runner.run(coro, context=context)`
    template <class T>
    T run(Coro<T> coro, const Context& context) {
        return run_main(begin_run<T>(std::move(coro), &context), false);
    }

    /// Cancels every task left, lets them finish, and closes the loop. Idempotent. While the
    /// tasks finish, Ctrl-C (handled as in `run()`) stops the waiting: the loop is closed all
    /// the same, destroying the frames of the tasks still pending, and then
    /// `KeyboardInterrupt` is raised.
    ///
    /// Python: `runner.close()`
    /// Throws: `KeyboardInterrupt` after Ctrl-C.
    void close();

    /// The runner's loop, made if needed.
    ///
    /// Python: `runner.get_loop()`
    /// Throws: `RuntimeError` after `close()`.
    EventLoop& get_loop();

private:
    friend struct detail::RunnerAccess;

    // Our SIGINT handler, installed by the outermost scope (see run()), restored by it.
    // Precondition: the loop exists.
    class SigintScope {
    public:
        explicit SigintScope(Runner& r);
        SigintScope(const SigintScope&) = delete;
        SigintScope& operator=(const SigintScope&) = delete;
        ~SigintScope();

    private:
        Runner& runner_;
    };

    class RunGuard {
    public:
        // `keeps_context`: the main task runs in the runner's context, which, if the runner
        // had none yet (nothing to copy), is the one the task made, if it set a variable.
        RunGuard(Runner& r, AnyTask main, bool keeps_context);
        RunGuard(const RunGuard&) = delete;
        RunGuard& operator=(const RunGuard&) = delete;
        ~RunGuard();
        void rethrow_as_interrupt_if_needed();

    private:
        Runner& runner_;
        AnyTask main_;
        SigintScope sigint_;
        bool keeps_context_;
    };

    template <class T>
    Task<T> begin_run(Coro<T> coro, const Context* context) {
        check_can_run();
        EventLoop& loop = get_loop();
        if (context) return loop.create_task(std::move(coro), {}, *context);
        if (context_) return loop.create_task(std::move(coro), {}, detail::ContextAccess::make(context_));
        // The runner's context is empty so far: the task gets none (see RunGuard).
        detail::ContextScope empty(nullptr, std::nothrow);
        return loop.create_task(std::move(coro));
    }
    template <class T>
    T run_main(Task<T> task, bool keeps_context) {
        RunGuard guard(*this, task, keeps_context);
        try {
            return get_loop().run_until_complete(task);
        } catch (const CancelledError&) {
            guard.rethrow_as_interrupt_if_needed();
            throw;
        }
    }
    void check_can_run();
    void close_loop();

    // asyncio::run: run(), then close(), with the handler installed from the start of the
    // one to the end of the other.
    template <class T>
    T run_then_close(Coro<T> coro) {
        get_loop();
        SigintScope sigint(*this);
        try {
            if constexpr (std::is_void_v<T>) {
                run(std::move(coro));
                close();
            } else {
                T value = run(std::move(coro));
                close();
                return value;
            }
        } catch (...) {
            close();  // a no-op after the close() above; may replace the error by KeyboardInterrupt
            throw;
        }
    }

    LoopFactory loop_factory_;
    std::optional<bool> debug_;
    std::optional<debug::StallDetector::Options> stall_options_;
    std::unique_ptr<EventLoop> loop_;
    std::unique_ptr<debug::StallDetector> stall_detector_;  // watches loop_; goes first
    // CPython's Runner._context: a copy of the context current when the loop was made (null
    // while it holds nothing).
    detail::Ref<detail::ContextImpl> context_;
    bool closed_ = false;
    int interrupt_count_ = 0;
    int sigint_scopes_ = 0;
    bool sigint_installed_ = false;
};

namespace detail {
struct RunnerAccess {
    template <class T>
    static T run_then_close(Runner& r, Coro<T> coro) {
        return r.run_then_close(std::move(coro));
    }
};
}  // namespace detail

/// Runs `main` on a fresh loop until it completes, cancels and finishes the tasks left,
/// closes the loop, and returns `main`'s result or rethrows its exception. The SIGINT
/// handler of `Runner::run` stays installed until the loop is closed: a Ctrl-C while the
/// tasks left finish ends the waiting, the loop is closed (their frames destroyed) and
/// `KeyboardInterrupt` is raised, whatever `main` returned or threw.
///
/// Python: `asyncio.run(main, *, debug=None, loop_factory=None)` (3.12)
/// Throws: `RuntimeError("asyncio.run() cannot be called from a running event loop")`;
///   `KeyboardInterrupt` after Ctrl-C.
template <class T>
T run(Coro<T> main, Runner::LoopFactory loop_factory = {}) {
    if (detail::running_loop()) throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(std::move(loop_factory));
    return detail::RunnerAccess::run_then_close(runner, std::move(main));
}

/// `run(main)` with the runner's options: `asyncio::run(amain(), {.debug = true})`.
///
/// Python: `asyncio.run(main, debug=True, loop_factory=...)`
template <class T>
T run(Coro<T> main, Runner::Options options) {
    if (detail::running_loop()) throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(std::move(options));
    return detail::RunnerAccess::run_then_close(runner, std::move(main));
}

}  // namespace asyncio
