// asyncio/concurrent/future.hpp: concurrent::Future, the thread-safe future that plain threads
// can block on. Mirrors Lib/concurrent/futures/_base.py's Future.
#pragma once

#include <asyncio/detail/future_core.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {
namespace concurrent {
template <class T = void>
class Future;
}

namespace detail {
struct ConcurrentAccess;

// The part of a concurrent future that does not depend on T; shared by its handles through
// std::shared_ptr (the count is atomic: handles move between threads).
class ConcurrentCore {
public:
    enum class State : std::uint8_t {
        pending,
        running,
        cancelled,
        finished
    };

    ConcurrentCore() = default;
    ConcurrentCore(const ConcurrentCore&) = delete;
    ConcurrentCore& operator=(const ConcurrentCore&) = delete;
    virtual ~ConcurrentCore() = default;

    [[nodiscard]] State state() const {
        std::lock_guard lock(mutex_);
        return state_;
    }
    bool cancel();
    bool set_running_or_notify_cancel();
    // Waits until done; false if `timeout` passed first (nullopt: no limit). Raises
    // RuntimeError instead of waiting on the thread whose loop must complete it.
    bool wait(std::optional<std::chrono::steady_clock::duration> timeout);
    // Done, or a TimeoutError after `timeout`; then CancelledError if cancelled.
    void wait_or_raise(std::optional<std::chrono::steady_clock::duration> timeout);
    [[nodiscard]] std::exception_ptr exception_after_wait() const {
        std::lock_guard lock(mutex_);
        return exception_;
    }
    void set_exception(std::exception_ptr e);
    // Runs `f` when the future is done: now, on this thread, if it is; else on the thread
    // that completes it. What `f` throws is printed and dropped, as CPython logs it.
    void add_done_callback(std::function<void()> f);
    // The loop whose thread must not block on this future (run_coroutine_threadsafe's).
    void set_completing_loop(const EventLoop* loop) noexcept { loop_ = loop; }

protected:
    // Call with the lock held, state pending or running: stores nothing, marks it finished,
    // then (lock released) wakes the waiters and runs the callbacks.
    void finish(std::unique_lock<std::mutex>& lock, State s);
    void check_can_set() const;  // InvalidStateError once done (lock held)

    mutable std::mutex mutex_;
    State state_ = State::pending;

private:
    std::condition_variable done_;
    std::exception_ptr exception_;
    std::vector<std::function<void()>> callbacks_;
    const EventLoop* loop_ = nullptr;
};

template <class T>
class ConcurrentState final : public ConcurrentCore {
public:
    ~ConcurrentState() override {
        if (has_value_) slot_.destroy();
    }
    template <class... U>
    void set_result(U&&... v) {
        std::unique_lock lock(mutex_);
        check_can_set();
        if constexpr (!std::is_void_v<T>) slot_.set(std::forward<U>(v)...);
        has_value_ = true;
        finish(lock, State::finished);
    }
    // After wait_or_raise() returned with no exception: the value, copied if it can be.
    T value() {
        std::lock_guard lock(mutex_);
        return slot_.get();
    }

private:
    [[no_unique_address]] ResultSlot<T> slot_;
    bool has_value_ = false;
};

}  // namespace detail

namespace concurrent {

/// A future that threads share: any thread may complete it, block on it with a timeout, or
/// add callbacks; `asyncio::wrap_future` awaits it on a loop without blocking.
///
/// Python: `concurrent.futures.Future`
/// Differs from CPython: a handle (copies share one state); `result()` on the thread of the
///   loop that must complete it (a `run_coroutine_threadsafe` future not yet done) raises
///   `RuntimeError` instead of deadlocking; a default-constructed or moved-from handle has no
///   state and every member raises `InvalidStateError`.
template <class T>
class Future {
public:
    /// A new pending future, for a producer to complete with `set_result` or `set_exception`.
    ///
    /// Python: `concurrent.futures.Future()`
    static Future create() { return Future(std::make_shared<detail::ConcurrentState<T>>()); }
    /// An empty handle (no state); see the class comment.
    Future() = default;

    /// Cancels the future if it has not started running; true if it is cancelled now.
    ///
    /// Python: `Future.cancel()`
    bool cancel() const { return core().cancel(); }
    /// Python: `Future.cancelled()`
    [[nodiscard]] bool cancelled() const { return core().state() == detail::ConcurrentCore::State::cancelled; }
    /// Whether the producer called `set_running_or_notify_cancel()` and it is not done.
    ///
    /// Python: `Future.running()`
    [[nodiscard]] bool running() const { return core().state() == detail::ConcurrentCore::State::running; }
    /// Python: `Future.done()`
    [[nodiscard]] bool done() const {
        auto s = core().state();
        return s == detail::ConcurrentCore::State::cancelled || s == detail::ConcurrentCore::State::finished;
    }

    /// Blocks until the future is done and returns its value or rethrows its exception.
    ///
    /// Python: `Future.result(timeout=None)`
    /// Throws: `CancelledError` if cancelled; `TimeoutError` after `timeout`; `RuntimeError`
    ///   (not a deadlock) on the thread of the loop that must complete it.
    T result() const { return result_after(std::nullopt); }
    /// Python: `Future.result(timeout)`
    T result(Delay timeout) const { return result_after(timeout.value); }

    /// Blocks until done and returns its exception, or null if it finished with a value.
    ///
    /// Python: `Future.exception(timeout=None)`
    /// Throws: as `result()`.
    [[nodiscard]] std::exception_ptr exception() const { return exception_after(std::nullopt); }
    /// Python: `Future.exception(timeout)`
    [[nodiscard]] std::exception_ptr exception(Delay timeout) const { return exception_after(timeout.value); }

    /// Calls `f(future)` once the future is done: at once on this thread if it is, else on the
    /// thread that completes or cancels it. An exception from `f` is printed and dropped.
    ///
    /// Python: `Future.add_done_callback(fn)`
    template <class F>
    void add_done_callback(F&& f) const {
        static_assert(std::is_invocable_v<std::decay_t<F>&, const Future&>, "the done callback must accept the future");
        // A weak link: the state holds the callback, and whoever completes the future holds
        // the state while the callbacks run.
        std::weak_ptr<detail::ConcurrentState<T>> weak = state_;
        state();  // raises on an empty handle
        core().add_done_callback([f = std::decay_t<F>(std::forward<F>(f)), weak = std::move(weak)]() mutable {
            if (auto s = weak.lock()) f(Future(std::move(s)));
        });
    }

    /// For the producer: marks the future running, or returns false if it was cancelled
    /// (then the work must not run).
    ///
    /// Python: `Future.set_running_or_notify_cancel()`
    bool set_running_or_notify_cancel() const { return core().set_running_or_notify_cancel(); }
    /// Completes the future with a value.
    ///
    /// Python: `Future.set_result(result)`
    /// Throws: `InvalidStateError` if it is done.
    template <class... U>
    void set_result(U&&... value) const {
        state().set_result(std::forward<U>(value)...);
    }
    /// Completes the future with an exception.
    ///
    /// Python: `Future.set_exception(exception)`
    /// Throws: `InvalidStateError` if it is done.
    void set_exception(std::exception_ptr e) const { core().set_exception(std::move(e)); }
    /// Convenience: `set_exception(std::make_exception_ptr(e))`.
    template <class E>
        requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
    void set_exception(E&& e) const {
        set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }

    /// Whether the handle has a state (false once moved from or default-constructed).
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    /// Whether two handles share one state.
    friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

private:
    friend struct detail::ConcurrentAccess;
    explicit Future(std::shared_ptr<detail::ConcurrentState<T>> s) noexcept : state_(std::move(s)) {}

    detail::ConcurrentState<T>& state() const {
        if (!state_) throw InvalidStateError("concurrent::Future has no state (moved from or default-constructed)");
        return *state_;
    }
    detail::ConcurrentCore& core() const { return state(); }
    T result_after(std::optional<std::chrono::steady_clock::duration> timeout) const {
        auto& s = state();
        s.wait_or_raise(timeout);
        if (std::exception_ptr e = s.exception_after_wait()) std::rethrow_exception(e);
        return s.value();
    }
    std::exception_ptr exception_after(std::optional<std::chrono::steady_clock::duration> timeout) const {
        auto& s = state();
        s.wait_or_raise(timeout);
        return s.exception_after_wait();
    }

    std::shared_ptr<detail::ConcurrentState<T>> state_;
};

}  // namespace concurrent

namespace detail {
struct ConcurrentAccess {
    template <class T>
    static ConcurrentState<T>& state(const concurrent::Future<T>& f) {
        return f.state();
    }
    template <class T>
    static std::shared_ptr<ConcurrentState<T>> shared(const concurrent::Future<T>& f) {
        return f.state_;
    }
};
}  // namespace detail

}  // namespace asyncio
