// asyncio/futures.hpp: Future<T>, DoneCallbackId, and the awaiter shared with Task.
// Mirrors Lib/asyncio/futures.py.
#pragma once

#include <asyncio/detail/future_core.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace asyncio {

/// Identifies a done callback for `remove_done_callback`. Ids are never reused on a thread:
/// a stale id (its callback removed or run) removes nothing.
///
/// Differs from CPython: C++ callables cannot be compared, so `add_done_callback` returns
///   this id and `remove_done_callback` takes it.
enum class DoneCallbackId : std::uint64_t {
};

namespace detail {

template <class T>
class FutureState final : public FutureCore {
public:
    using FutureCore::FutureCore;
    FutureState(const FutureState&) = delete;
    FutureState& operator=(const FutureState&) = delete;
    ~FutureState() override {
        if (has_value()) slot.destroy();
    }
    template <class U>
    void set_value(U&& v) {
        slot.set(std::forward<U>(v));
    }
    T value() { return slot.get(); }
    [[no_unique_address]] ResultSlot<T> slot;
};

// Awaiting a Future or a Task from a task: register in its done-callback list (no
// allocation: this node lives in the awaiting frame) and sleep until it completes.

template <class T, class State>
class FutureAwaiter final : public DoneNode, public Waiter {
public:
    explicit FutureAwaiter(State* s) noexcept : state_(s) {}
    // Takes over a reference the caller gave up (`co_await std::move(task)`).
    FutureAwaiter(State* s, AdoptRef) noexcept : state_(s, adopt_ref) {}
    FutureAwaiter(const FutureAwaiter&) = delete;
    FutureAwaiter& operator=(const FutureAwaiter&) = delete;
    ~FutureAwaiter() { state_->remove_node(this); }  // then state_ lets its reference go

    // Awaited from another loop's task: not ready, so that await_suspend raises (without
    // reading the other loop's state, which may belong to another thread).
    bool await_ready() const noexcept {
        TaskCore* t = TaskCore::running();
        return (!t || t->loop() == state_->loop()) && state_->done();
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        task_ = task_of(h);
        if (state_->loop() != task_->loop()) [[unlikely]]
            throw_different_loop(*task_, *state_.get());
        if (static_cast<FutureCore*>(state_.get()) == static_cast<FutureCore*>(task_))
            throw RuntimeError("Task cannot await on itself: " + task_->name());
        state_->add_node(this);
        task_->suspend(h, this, site);
    }
    T await_resume() {
        if (task_) task_->throw_if_cancelled();
        state_->check_result();
        if constexpr (!std::is_void_v<T>) return state_->value();
    }

    void on_done(FutureCore&) override { task_->wake(); }
    // Cancelling the awaiting task cancels what it awaits (CPython's fut_waiter.cancel()).
    // Unless the awaited task is the one whose cancellation is on its way round a cycle of
    // tasks awaiting each other (a awaits b, b awaits a): then this wait lets go, so the
    // task wakes with CancelledError and the cycle unwinds from here (CPython recurses into
    // RecursionError; tests/graph_test.cpp).
    CancelOutcome cancel_wait(const std::string& msg) override {
        if (state_->is_task() && static_cast<const TaskCore*>(static_cast<const FutureCore*>(state_.get()))->cancel_in_progress()) [[unlikely]] {
            state_->remove_node(this);
            return CancelOutcome::cancelled;
        }
        return state_->cancel(msg) ? CancelOutcome::deferred : CancelOutcome::too_late;
    }
    [[nodiscard]] std::string describe() const override { return describe_awaited(*state_); }
    [[nodiscard]] const FutureCore* awaiter() const noexcept override { return task_; }

private:
    Ref<State> state_;
    TaskCore* task_ = nullptr;
};

[[noreturn]] void throw_different_loop(const TaskCore& task, const FutureCore& fut);

// `context` null: a copy of the current one (CPython's context=None).
template <class H, class F>
DoneCallbackId add_done_callback(FutureCore* core, F&& f, ContextImpl* context = nullptr) {
    static_assert(std::is_invocable_v<std::decay_t<F>&, H>, "the done callback must accept the future (or task) handle");
    CallbackNode<H, std::decay_t<F>>* node = new_callback_node<H, std::decay_t<F>>(core, std::forward<F>(f), context);
    auto id = static_cast<DoneCallbackId>(node->callback_id());
    if (core->done())
        node->on_done(*core);  // CPython: a callback added to a done future is scheduled at once
    else
        core->add_node(node);
    return id;
}

}  // namespace detail

/// A low-level awaitable result that some code sets later with `set_result` or
/// `set_exception`.
///
/// Python: `asyncio.Future`
/// Cancellation: a task awaiting a Future that gets cancelled receives CancelledError;
///   cancelling the awaiting task cancels the Future (use shield() to prevent that).
/// Differs from CPython: copies of a Future are handles to one shared state;
///   `add_done_callback` returns a DoneCallbackId; an exception is a `std::exception_ptr`.
template <class T = void>
class Future {
public:
    /// The shared state the handles point to (the library's internals).
    using State = detail::FutureState<T>;
    /// The future's result type.
    using value_type = T;

    /// A pending Future on the running loop.
    ///
    /// Python: `asyncio.Future()` / `loop.create_future()`
    /// Throws: `RuntimeError("no running event loop")`.
    Future() : Future(&get_running_loop()) {}
    /// A pending Future on `loop`.
    explicit Future(EventLoop* loop) : core_(new State(loop), detail::adopt_ref) {}

    /// Python: `fut.done()`
    [[nodiscard]] bool done() const { return state()->done(); }
    /// Python: `fut.cancelled()`
    [[nodiscard]] bool cancelled() const { return state()->cancelled(); }
    /// Cancels a pending future and schedules its callbacks; false if already done.
    ///
    /// Python: `fut.cancel(msg=None)`
    bool cancel(const std::string& msg = {}) const { return state()->cancel(msg); }

    /// The value, or rethrows the exception set.
    ///
    /// Python: `fut.result()`
    /// Throws: `InvalidStateError` while pending, `CancelledError` if cancelled.
    T result() const {
        state()->check_result();
        return state()->value();
    }
    /// The exception set, or null.
    ///
    /// Python: `fut.exception()`
    /// Throws: `InvalidStateError` while pending, `CancelledError` if cancelled.
    [[nodiscard]] std::exception_ptr exception() const { return state()->exception(); }

    /// Marks the future done with `value` and schedules its callbacks.
    ///
    /// Python: `fut.set_result(result)`
    /// Throws: `InvalidStateError` if already done; `RuntimeError("Event loop is closed")` if
    ///   callbacks are registered and the loop is closed or destroyed (the future is done all
    ///   the same and the callbacks are dropped, as in CPython). The same for
    ///   `set_exception` and `cancel`.
    template <class U = T>
        requires(!std::is_void_v<T> && std::is_convertible_v<U&&, T>)
    void set_result(U&& value) const {
        state()->check_pending("set_result");
        state()->set_value(std::forward<U>(value));
        state()->finish_ok();
    }
    /// Python: `fut.set_result(None)`
    void set_result() const
        requires std::is_void_v<T> {
        state()->check_pending("set_result");
        state()->finish_ok();
    }
    /// Marks the future done with an exception.
    ///
    /// Python: `fut.set_exception(exception)`
    /// Throws: `InvalidStateError` if already done.
    void set_exception(std::exception_ptr e) const {
        state()->check_pending("set_exception");
        state()->finish_with_exception(std::move(e));
    }
    /// Convenience: `set_exception(std::make_exception_ptr(e))`.
    template <class E>
        requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
    void set_exception(E&& e) const {
        set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }

    /// Schedules `f(future)` with call_soon once the future is done (at once if it is), in a
    /// copy of the context current now.
    ///
    /// Python: `fut.add_done_callback(fn)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f) const {
        return detail::add_done_callback<Future>(state(), std::forward<F>(f));
    }
    /// The same, run in `context` itself.
    ///
    /// Python: `fut.add_done_callback(fn, context=context)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f, const Context& context) const {
        return detail::add_done_callback<Future>(state(), std::forward<F>(f), detail::ContextAccess::impl(context));
    }
    /// Removes a callback not yet scheduled; returns how many were removed (0 or 1).
    ///
    /// Python: `fut.remove_done_callback(fn)`
    std::size_t remove_done_callback(DoneCallbackId id) const {
        return state()->remove_user_callback(static_cast<std::uint64_t>(id));
    }
    /// Python: `fut.get_loop()`
    /// Throws: `RuntimeError("Event loop is closed")` once the loop was destroyed.
    [[nodiscard]] EventLoop& get_loop() const { return state()->live_loop(); }

    /// Waits for the future; returns its value or rethrows its exception.
    ///
    /// Python: `await fut`
    /// Throws: `RuntimeError(... attached to a different loop)` when awaited from a task of
    ///   another loop.
    /// Cancellation: cancelling the awaiting task cancels the future.
    detail::FutureAwaiter<T, State> operator co_await() const { return detail::FutureAwaiter<T, State>(state()); }

    /// Whether two handles share one future.
    friend bool operator==(const Future& a, const Future& b) noexcept { return a.core_ == b.core_; }

private:
    friend struct std::hash<Future>;
    friend struct detail::FutureCoreAccess;
    // Shares `s`.
    Future(State* s, int) noexcept : core_(s) {}
    static Future from_core(detail::FutureCore* core) noexcept { return Future(static_cast<State*>(core), 0); }
    // The state, or RuntimeError for a moved-from handle.
    State* state() const {
        if (!core_) [[unlikely]]
            throw RuntimeError("Future handle is empty (moved from)");
        return core_.get();
    }
    detail::Ref<State> core_;
};

template <class T>
Future<T> EventLoop::create_future(detail::SourceSite where) {
    Future<T> fut(this);
    if (debug_) [[unlikely]]
        detail::FutureCoreAccess::core(fut)->note_origin(where);
    return fut;
}

/// True for `Future<T>`.
///
/// Python: `asyncio.isfuture(obj)` (a compile-time trait here)
template <class T>
inline constexpr bool isfuture = false;
/// A `Future<T>` is a future.
template <class T>
inline constexpr bool isfuture<Future<T>> = true;

}  // namespace asyncio

/// Hashes a Future by the state its handles share, so that futures can be the keys of
/// unordered containers.
///
/// Python: `hash(fut)`
template <class T>
struct std::hash<asyncio::Future<T>> {
    /// The hash of the shared state's address.
    std::size_t operator()(const asyncio::Future<T>& f) const noexcept { return std::hash<const void*>()(f.core_.get()); }
};
