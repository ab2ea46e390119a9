// asyncio/timeouts.hpp: Timeout, timeout, timeout_at. Mirrors Lib/asyncio/timeouts.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/awaitable.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/detail/wait_point.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace asyncio {

namespace detail {
struct TimeoutAccess;
}

/// The deadline of a `timeout()` scope: it can be read, moved and asked whether it expired.
///
/// Python: `asyncio.Timeout` (the object `async with asyncio.timeout(...) as cm` binds)
/// Differs from CPython: made by `timeout()`/`timeout_at()` and handed to the body; it
///   cannot be entered twice. Deadlines are loop time points; `std::nullopt` is "never".
class Timeout {
public:
    /// A point in loop time (`EventLoop::time_point`).
    using time_point = EventLoop::time_point;

    /// Python: `cm.when()`
    [[nodiscard]] std::optional<time_point> when() const noexcept { return when_; }
    /// Moves the deadline (`std::nullopt`: none); a deadline already past cancels the body
    /// at its next suspension.
    ///
    /// Python: `cm.reschedule(when)`
    /// Throws: `RuntimeError` before the scope is entered or after it ended.
    void reschedule(std::optional<time_point> when);
    /// Whether the deadline passed and the body was cancelled for it.
    ///
    /// Python: `cm.expired()`
    [[nodiscard]] bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;

private:
    // The scope's plumbing, for timeout_at() (through detail::TimeoutAccess).
    friend struct detail::TimeoutAccess;
    explicit Timeout(std::optional<time_point> when) noexcept : when_(when), alarm_(this) {}
    void enter();
    void exit(std::exception_ptr& error) noexcept;

    enum class State {
        created,
        entered,
        expiring,
        expired,
        exited
    };
    // CPython's call_at handle: at the deadline it is queued on the ready queue and cancels
    // the task from there, so a callback due at the same moment and scheduled earlier runs
    // first; leaving the scope (or rescheduling) before it ran withdraws it.
    class Alarm final : public detail::TimerNode, public detail::FrameRunnable {
    public:
        explicit Alarm(Timeout* owner) noexcept : owner_(owner) {}
        Alarm(const Alarm&) = delete;
        Alarm& operator=(const Alarm&) = delete;
        ~Alarm();
        void fire() override { schedule(*loop); }
        void run_scheduled() override { owner_->on_timeout(); }
        // Out of the timers and out of the ready queue.
        void withdraw() noexcept;
        EventLoop* loop = nullptr;

    private:
        Timeout* owner_;
    };
    void on_timeout();

    std::optional<time_point> when_;
    State state_ = State::created;
    detail::TaskCore* task_ = nullptr;
    std::uint32_t cancelling_ = 0;
    Alarm alarm_;
};

namespace detail {

// timeout_at()'s way in to Timeout's plumbing, kept out of its public surface.
struct TimeoutAccess {
    static Timeout make(std::optional<EventLoop::time_point> when) noexcept { return Timeout(when); }
    static void enter(Timeout& t) { t.enter(); }
    static void exit(Timeout& t, std::exception_ptr& error) noexcept { t.exit(error); }
};

// The body of a timeout: a Coro, a callable taking Timeout& and returning a Coro, or any
// other awaitable (asyncio::sleep(10s), a Task).
template <class F>
struct BodyResult {
    using type = awaiter_result_t<F>;  // detail/awaitable.hpp
};
template <class F>
    requires std::is_invocable_v<F&, Timeout&>
struct BodyResult<F> {
    using type = typename std::invoke_result_t<F&, Timeout&>::value_type;
};
template <class T>
struct BodyResult<Coro<T>> {
    using type = T;
};

}  // namespace detail

/// Runs `body` (a `Coro<T>`, a callable taking `Timeout&` and returning one, or any other
/// awaitable such as `asyncio::sleep(10s)` or a Task) in the current task with a deadline at
/// loop time `when`; returns its result.
///
/// Python: `async with asyncio.timeout_at(when) as cm: ...`
/// Throws: `TimeoutError` if the deadline passed and the body ended by the cancellation it
///   caused; an outside `cancel()` stays `CancelledError`, even in the same loop step.
/// Cancellation: at the deadline the current task is cancelled (the body sees
///   CancelledError at its suspension point and may clean up); nested timeouts each convert
///   only their own cancellation.
/// Example: examples/tutorial/15_timeout.cpp
template <class F>
Coro<typename detail::BodyResult<F>::type> timeout_at(std::optional<EventLoop::time_point> when, F body) {
    using T = typename detail::BodyResult<F>::type;
    Timeout cm = detail::TimeoutAccess::make(when);
    detail::TimeoutAccess::enter(cm);
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        if constexpr (std::is_void_v<T>) {
            if constexpr (std::is_invocable_v<F&, Timeout&>)
                co_await body(cm);
            else
                co_await body;
            result.emplace(true);
        } else {
            if constexpr (std::is_invocable_v<F&, Timeout&>)
                result.emplace(co_await body(cm));
            else
                result.emplace(co_await body);
        }
    } catch (...) {
        error = std::current_exception();
    }
    detail::TimeoutAccess::exit(cm, error);
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

/// Like `timeout_at`, with the deadline `delay` from now (`std::nullopt`: no deadline).
///
/// Python: `async with asyncio.timeout(delay) as cm: ...`
/// Example: `co_await asyncio::timeout(3s, my_coroutine());`
template <class F>
Coro<typename detail::BodyResult<F>::type> timeout(std::optional<Delay> delay, F body) {
    std::optional<EventLoop::time_point> when;
    if (delay) when = get_running_loop().time() + delay->value;
    return timeout_at(when, std::move(body));
}

}  // namespace asyncio
