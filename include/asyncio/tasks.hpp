// asyncio/tasks.hpp: Task, AnyTask, create_task, sleep, current_task, all_tasks, gather,
// Outcome, wait, FIRST_COMPLETED/FIRST_EXCEPTION/ALL_COMPLETED, wait_for, as_completed,
// shield. Mirrors Lib/asyncio/tasks.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/detail/wait_point.hpp>
#include <asyncio/detail/wait_queue.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/timeouts.hpp>

#include <deque>
#include <ranges>
#include <tuple>
#include <variant>
#include <vector>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>

namespace asyncio {

namespace detail {

// Runs the loop until `core` is done (run_until_complete without the result).
void run_until_done(EventLoop& loop, FutureCore* core);

}  // namespace detail

/// A handle to a task of any result type: what `current_task()` and `all_tasks()` return,
/// and the base of every `Task<T>`. A handle is like a pointer: `const` handles (the
/// elements of a set, say) can still cancel or name the task.
///
/// Python: `asyncio.Task` (Python needs no type-erased form)
/// Differs from CPython: C++ only. Handles compare equal when they name the same task and
///   are hashable, so they can live in a `std::unordered_set`.
class AnyTask {
public:
    /// An empty handle.
    AnyTask() noexcept = default;
    /// Dropping the last handle never cancels or destroys an unfinished task: the loop keeps
    /// it. A task that failed and whose exception nobody retrieved is reported here.
    ~AnyTask() = default;
    /// Another handle to the same task.
    AnyTask(const AnyTask&) noexcept = default;
    /// Takes over the other handle's task; the moved-from handle is empty.
    AnyTask(AnyTask&&) noexcept = default;
    /// Makes this a handle to the same task as the other.
    AnyTask& operator=(const AnyTask&) noexcept = default;
    /// Takes over the other's task; the moved-from handle is empty.
    AnyTask& operator=(AnyTask&&) noexcept = default;

    /// Whether this handle names a task.
    explicit operator bool() const noexcept { return static_cast<bool>(core_); }

    // Every member but `operator bool`, `==` and the hash throws
    // `RuntimeError("Task handle is empty ...")` on an empty handle (default-constructed or
    // moved from) instead of dereferencing null.

    /// Python: `task.get_name()` ("Task-N" unless named)
    [[nodiscard]] std::string get_name() const { return core()->name(); }
    /// Python: `task.set_name(value)`
    void set_name(std::string name) const { core()->set_name(std::move(name)); }
    /// Python: `task.done()`
    [[nodiscard]] bool done() const { return core()->done(); }
    /// Python: `task.cancelled()`
    [[nodiscard]] bool cancelled() const { return core()->cancelled(); }

    /// Requests cancellation: CancelledError(msg) is thrown into the task at its current or
    /// next suspension point; an awaited task or future is cancelled too. False if done.
    ///
    /// Python: `task.cancel(msg=None)`
    /// Differs from CPython: out of memory for the request's bookkeeping, the task is
    ///   cancelled all the same, without `msg` and uncounted by `cancelling()` (gather,
    ///   TaskGroup and the runner cancel where a std::bad_alloc would have no caller).
    bool cancel(const std::string& msg = {}) const { return core()->cancel(msg); }
    /// The number of cancellation requests not yet withdrawn by `uncancel()`.
    ///
    /// Python: `task.cancelling()`
    [[nodiscard]] int cancelling() const { return static_cast<int>(core()->cancelling()); }
    /// Withdraws one cancellation request; returns the number left.
    ///
    /// Python: `task.uncancel()`
    int uncancel() const { return static_cast<int>(core()->uncancel()); }

    /// Rethrows the task's exception; returns if it finished with a value.
    ///
    /// Python: `task.result()` (the value is only on `Task<T>::result()`)
    /// Throws: `InvalidStateError("Result is not set.")` while pending, `CancelledError` if
    ///   cancelled.
    void result() const { core()->check_result(); }
    /// The exception the task ended with, or null.
    ///
    /// Python: `task.exception()`
    /// Throws: `InvalidStateError("Exception is not set.")` while pending, `CancelledError`
    ///   if cancelled.
    [[nodiscard]] std::exception_ptr exception() const { return core()->exception(); }

    /// Schedules `f(task)` once the task is done (at once if it is), in a copy of the
    /// context current now.
    ///
    /// Python: `task.add_done_callback(fn)`
    /// Throws: `RuntimeError("Event loop is closed")` if the task is done and its loop closed
    ///   or destroyed, as CPython's call_soon raises.
    template <class F>
    DoneCallbackId add_done_callback(F&& f) const {
        return detail::add_done_callback<AnyTask>(core(), std::forward<F>(f));
    }
    /// The same, run in `context` itself.
    ///
    /// Python: `task.add_done_callback(fn, context=context)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f, const Context& context) const {
        return detail::add_done_callback<AnyTask>(core(), std::forward<F>(f), detail::ContextAccess::impl(context));
    }
    /// The context the task runs in: a copy of its creator's context taken by create_task,
    /// or the one given to it.
    ///
    /// Python: `task.get_context()` (3.12)
    /// Differs from CPython: a task created where the context was empty gets its context
    ///   object on the first `set` or `get_context()` (null until then: nothing to copy or
    ///   enter); it is the same object from then on.
    [[nodiscard]] Context get_context() const { return detail::ContextAccess::make(core()->get_context()); }
    /// Python: `task.remove_done_callback(fn)`; returns how many were removed.
    std::size_t remove_done_callback(DoneCallbackId id) const {
        return core()->remove_user_callback(static_cast<std::uint64_t>(id));
    }
    /// Python: `task.get_loop()`
    /// Throws: `RuntimeError("Event loop is closed")` once the loop was destroyed (a closed
    ///   loop that still exists is returned, as in CPython).
    [[nodiscard]] EventLoop& get_loop() const { return core()->live_loop(); }

    /// Waits for the task; rethrows its exception.
    ///
    /// Python: `await task`
    /// Throws: `RuntimeError("Task ... got Future ... attached to a different loop")` if the
    ///   task belongs to another loop than the awaiting task's (CPython raises it only for a
    ///   pending task; here also for a done one, since reading another loop's task from a
    ///   second thread would be a data race: docs/differences.md).
    /// Cancellation: cancelling the awaiting task cancels this one too.
    detail::FutureAwaiter<void, detail::TaskCore> operator co_await() const& {
        return detail::FutureAwaiter<void, detail::TaskCore>(core());
    }
    /// `co_await std::move(task)`: the same, and the handle is used up (its reference ends
    /// with the await), as Rust's `handle.await` consumes a JoinHandle: a task nobody else
    /// holds is freed as soon as its result is taken.
    detail::FutureAwaiter<void, detail::TaskCore> operator co_await() && {
        core();
        return detail::FutureAwaiter<void, detail::TaskCore>(core_.leak(), detail::adopt_ref);
    }

    /// Whether two handles name the same task (or are both empty).
    friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.core_ == b.core_; }

protected:
    // Shares `core`.
    explicit AnyTask(detail::TaskCore* core) noexcept : core_(core) {}
    // The state, or RuntimeError for an empty handle.
    detail::TaskCore* core() const {
        if (!core_) [[unlikely]]
            throw_empty();
        return core_.get();
    }
    [[noreturn]] static void throw_empty() { throw RuntimeError("Task handle is empty (default-constructed or moved from)"); }
    detail::Ref<detail::TaskCore> core_;

private:
    friend struct std::hash<AnyTask>;
    friend struct detail::FutureCoreAccess;
    static AnyTask from_core(detail::FutureCore* core) noexcept { return AnyTask(static_cast<detail::TaskCore*>(core)); }
};

/// A scheduled coroutine, run by the loop concurrently with others; a copyable handle.
///
/// Python: `asyncio.Task`
/// Cancellation: see `AnyTask::cancel`; awaiting a task from a task that gets cancelled
///   cancels the awaited task too.
/// Differs from CPython: the loop keeps the task alive until it finishes, so a task nobody
///   holds still runs to completion (CPython keeps only a weak reference).
template <class T = void>
class Task : public AnyTask {
public:
    /// The task's result type: what its coroutine returns.
    using value_type = T;
    Task() noexcept = default;

    /// The value, or rethrows the exception.
    ///
    /// Python: `task.result()`
    /// Throws: `InvalidStateError` while pending, `CancelledError` if cancelled.
    T result() const {
        core()->check_result();
        return state()->value();
    }

    /// Schedules `f(task)` once the task is done.
    ///
    /// Python: `task.add_done_callback(fn)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f) const {
        if constexpr (std::is_invocable_v<std::decay_t<F>&, Task>)
            return detail::add_done_callback<Task>(core(), std::forward<F>(f));
        else
            return detail::add_done_callback<AnyTask>(core(), std::forward<F>(f));
    }
    /// The same, run in `context` itself.
    ///
    /// Python: `task.add_done_callback(fn, context=context)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f, const Context& context) const {
        if constexpr (std::is_invocable_v<std::decay_t<F>&, Task>)
            return detail::add_done_callback<Task>(core(), std::forward<F>(f), detail::ContextAccess::impl(context));
        else
            return detail::add_done_callback<AnyTask>(core(), std::forward<F>(f), detail::ContextAccess::impl(context));
    }

    /// Waits for the task and returns its value (a copy, or the value itself if T is
    /// move-only) or rethrows its exception.
    ///
    /// Python: `await task`
    /// Cancellation: cancelling the awaiting task cancels this one too.
    detail::FutureAwaiter<T, detail::TaskState<T>> operator co_await() const& {
        core();
        return detail::FutureAwaiter<T, detail::TaskState<T>>(state());
    }
    /// `co_await std::move(task)`: the same, and the handle is used up (see AnyTask).
    detail::FutureAwaiter<T, detail::TaskState<T>> operator co_await() && {
        core();
        return detail::FutureAwaiter<T, detail::TaskState<T>>(static_cast<detail::TaskState<T>*>(core_.leak()), detail::adopt_ref);
    }

private:
    friend class EventLoop;
    friend struct detail::FutureCoreAccess;
    // Shares `s`.
    explicit Task(detail::TaskState<T>* s) noexcept : AnyTask(s) {}
    static Task from_core(detail::FutureCore* core) noexcept { return Task(static_cast<detail::TaskState<T>*>(core)); }
    detail::TaskState<T>* state() const noexcept { return static_cast<detail::TaskState<T>*>(core_.get()); }
};

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, detail::SourceSite where) {
    // One test for a closed loop and for debug mode (the site is otherwise dropped).
    if (creation_checks_) [[unlikely]]
        return create_task_checked(std::move(coro), where);
    if (!coro.valid()) throw RuntimeError("cannot reuse already awaited coroutine");
    return Task<T>(new detail::TaskState<T>(this, detail::CoroAccess::release(coro)));  // a second reference: the loop holds the first until done
}

template <class T>
Task<T> EventLoop::create_task_checked(Coro<T> coro, detail::SourceSite where) {
    check_open();
    if (!coro.valid()) throw RuntimeError("cannot reuse already awaited coroutine");
    auto* state = new detail::TaskState<T>(this, detail::CoroAccess::release(coro));
    if (debug_) state->note_origin(where);
    return Task<T>(state);
}

namespace detail {

// create_task's name.
template <class T>
void name_new_task(Task<T>& task, std::string name) {
    if (!name.empty()) {
        try {
            task.set_name(std::move(name));
        } catch (...) {
            task.cancel();  // out of memory for the name: the task has not started and never will
            throw;
        }
    }
}

}  // namespace detail

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name, detail::SourceSite where) {
    Task<T> task = create_task(std::move(coro), where);
    detail::name_new_task(task, std::move(name));
    return task;
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name, Context context, detail::SourceSite where) {
    check_open();
    if (!coro.valid()) throw RuntimeError("cannot reuse already awaited coroutine");
    auto* state = new detail::TaskState<T>(this, detail::CoroAccess::release(coro), detail::ContextAccess::impl(context));
    if (debug_) [[unlikely]]
        state->note_origin(where);
    Task<T> task(state);  // a second reference: the loop holds the first until done
    detail::name_new_task(task, std::move(name));
    return task;
}

/// Wraps `coro` in a Task, schedules it on the running loop and returns the handle. The task
/// runs in a copy of the current context: it sees the values set before this call, and
/// what it sets nobody else sees. In debug mode the task records the place of this call
/// (`where`) for the reports about it.
///
/// Python: `asyncio.create_task(coro, *, name=None)`
/// Throws: `RuntimeError("no running event loop")` outside a loop; `RuntimeError` if the
///   Coro was already awaited.
template <class T>
Task<T> create_task(Coro<T> coro, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
    return get_running_loop().create_task(std::move(coro), where);
}
/// Python: `asyncio.create_task(coro, name=name)`
template <class T>
Task<T> create_task(Coro<T> coro, std::string name, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
    return get_running_loop().create_task(std::move(coro), std::move(name), where);
}
/// A task that runs in `context` itself, not a copy: what it sets is in `context`
/// afterwards. An empty `name` gives the default name.
///
/// Python: `asyncio.create_task(coro, name=name, context=context)`
template <class T>
Task<T> create_task(Coro<T> coro, std::string name, Context context, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
    return get_running_loop().create_task(std::move(coro), std::move(name), std::move(context), where);
}

namespace detail {

// Awaits `aw` in a coroutine of its own (what a library awaiter needs to become a task).
template <class Aw>
Coro<awaiter_result_t<Aw>> await_inline(Aw aw) {
    co_return co_await std::move(aw);
}

// Keeps the callable and its arguments in this frame while the coroutine it returns runs.
template <class F, class... A>
std::invoke_result_t<F&, A&...> call_kept(F f, A... args) {
    co_return co_await std::invoke(f, args...);
}

}  // namespace detail

template <detail::PlainAwaitable Aw>
auto EventLoop::create_task(Aw aw, detail::SourceSite where) {
    return create_task(detail::await_inline(std::move(aw)), where);
}

template <class F, class... A>
    requires detail::CoroutineCallable<F, A...>
auto EventLoop::create_task(F&& f, A&&... args) {
    // (No site: this line is not where the user created the task.)
    return create_task(detail::call_kept(std::decay_t<F>(std::forward<F>(f)), std::decay_t<A>(std::forward<A>(args))...), detail::SourceSite{});
}

/// Wraps one of the library's other awaitables in a task: `create_task(asyncio::sleep(5))`,
/// `create_task(q.get())`.
///
/// Python: `asyncio.create_task(asyncio.sleep(5))` (a coroutine there)
template <detail::PlainAwaitable Aw>
auto create_task(Aw aw, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
    return get_running_loop().create_task(std::move(aw), where);
}

/// Runs `f(args...)` as a new task, keeping the callable (a coroutine lambda and its
/// captures) and copies of the arguments alive in the task until it ends. Prefer it to
/// `create_task(lambda())` whenever the lambda has captures and is a temporary: there the
/// lambda object dies at the end of the statement and its captures dangle.
///
/// Python: `asyncio.create_task(f(*args))` (closures keep their captures alive in Python)
/// Example: `asyncio::create_task([name](int n) -> Coro<> { ... }, 3);`
template <class F, class... A>
    requires detail::CoroutineCallable<F, A...>
auto create_task(F&& f, A&&... args) {
    return get_running_loop().create_task(std::forward<F>(f), std::forward<A>(args)...);
}

/// A Task or Future is already scheduled: create_task() takes a coroutine.
///
/// Python: `asyncio.create_task(fut)` raises TypeError("a coroutine was expected")
template <class H>
    requires(detail::IsHandle<std::remove_cvref_t<H>>::value && !detail::IsCoro<std::remove_cvref_t<H>>::value)
auto create_task(H&&) {  // auto: the body, and its message, comes before any use of the result
    static_assert(detail::misuse<H>, "create_task() takes a coroutine: a Task or Future is already scheduled (CPython: TypeError)");
}

/// A callable that does not return a coroutine (a plain function): create_task() needs one
/// that does.
///
/// Python: `asyncio.create_task(f)` raises TypeError("a coroutine was expected")
template <class F, class... A>
    requires(std::is_invocable_v<F, A...> && !detail::CoroutineCallable<F, A...> && !detail::IsHandle<std::remove_cvref_t<F>>::value &&
             !detail::PlainAwaitable<std::remove_cvref_t<F>>)
auto create_task(F&&, A&&...) {
    static_assert(detail::misuse<F>, "create_task() takes a coroutine, or a callable that returns one (a Coro<T>): this callable returns something else");
}

/// A Task for a Coro or another awaitable (scheduled now), the same Task, or the same
/// Future.
///
/// Python: `asyncio.ensure_future(obj)`
template <class T>
Task<T> ensure_future(Coro<T> coro) {
    return create_task(std::move(coro));
}
/// Python: `asyncio.ensure_future(task)` returns the task itself.
template <class T>
Task<T> ensure_future(Task<T> task) {
    return task;
}
/// Python: `asyncio.ensure_future(fut)` returns the future itself.
template <class T>
Future<T> ensure_future(Future<T> fut) {
    return fut;
}
/// Python: `asyncio.ensure_future(asyncio.sleep(1))`
template <detail::PlainAwaitable Aw>
auto ensure_future(Aw aw) {
    return create_task(std::move(aw));
}

/// The task running now, or nothing when called from a plain callback.
///
/// Python: `asyncio.current_task()`
/// Throws: `RuntimeError("no running event loop")` outside a loop.
[[nodiscard]] std::optional<AnyTask> current_task();

/// Every unfinished task of the running loop.
///
/// Python: `asyncio.all_tasks()`
/// Throws: `RuntimeError("no running event loop")` outside a loop.
[[nodiscard]] std::unordered_set<AnyTask> all_tasks();

namespace detail {

struct NoResult {};

// sleep(delay[, result]): a timer in the awaiting frame, no allocation.
//
// The order of events is CPython's, where the sleep's timer is a call_later handle that runs
// from the ready queue and completes the sleep's future, whose done callback then wakes the
// task (a second hop): a callback due at the same moment runs before the task resumes, even
// one scheduled after the sleep. The first hop is a deferred ready-queue entry for the task
// (ReadyQueue::push_deferred): no node, and the task's memory is not touched until it runs.
template <class T>
class SleepAwaiter final : public TimerNode {
    using Stored = std::conditional_t<std::is_void_v<T>, NoResult, T>;

public:
    // Until it suspends, `when` holds the delay (saves a member in every sleeping frame).
    explicit SleepAwaiter(EventLoop::duration delay, Stored result = {}) : result_(std::move(result)) { when = TimePoint(delay); }
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    // Movable until awaited (to be passed as a timeout body); a queued timer never moves.
    SleepAwaiter(SleepAwaiter&& o) noexcept(std::is_nothrow_move_constructible_v<Stored>) : result_(std::move(o.result_)) { when = o.when; }
    ~SleepAwaiter() {
        if (queued()) LoopAccess::timers(*task_->loop()).erase(this);  // not disarm(): task_ is set only once queued
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        task_ = task_of(h);
        if (when.time_since_epoch() <= EventLoop::duration::zero()) {
            // sleep(0): back of the ready queue, no timer and no system call. Inlined in the
            // awaiting coroutine (W2's yield); the timer's path below is not.
            task_->suspend(h, nullptr, site);
            task_->wake();
            return;
        }
        arm(h, site);
    }
    T await_resume() {
        task_->throw_if_cancelled();
        if constexpr (!std::is_void_v<T>) return std::move(result_);
    }

    // Due: the task resumes two hops from now (see above).
    void fire() override {
        fired_ = true;
        EventLoop& loop = *task_->loop();
        if (!LoopAccess::closing(loop)) LoopAccess::ready(loop).push_deferred(task_);
    }
    [[nodiscard]] std::string describe() const override { return "sleep()"; }
    CancelOutcome cancel_wait(const std::string&) override {
        if (fired_) {
            // Due, and the first hop still queued: in CPython the timer handle that would
            // complete the future has not run, so cancelling the future succeeds and wakes
            // the task now. The first hop is withdrawn. (Once it ran, the task is queued to
            // resume and the cancellation waits for its next suspension, as CPython's; so
            // does a second request once the first withdrew the hop.)
            ReadyQueue& ready = LoopAccess::ready(*task_->loop());
            return ready.remove(ReadyQueue::deferred(task_)) == 0 ? CancelOutcome::too_late : CancelOutcome::cancelled;
        }
        return LoopAccess::timers(*task_->loop()).disarm(this) ? CancelOutcome::cancelled : CancelOutcome::too_late;
    }

private:
    // A delay above zero: the timer (`when` becomes the deadline), out of line.
    [[gnu::noinline]] void arm(std::coroutine_handle<> h, SourceSite site) {
        EventLoop& loop = *task_->loop();
        when = loop.time() + when.time_since_epoch();
        LoopAccess::timers(loop).push(this);
        task_->suspend(h, this, site);
    }

    bool fired_ = false;  // first: it fits in TimerNode's tail padding
    TaskCore* task_ = nullptr;
    [[no_unique_address]] Stored result_;
};

}  // namespace detail

/// Suspends the current task for `delay` (a duration or seconds as a double); a delay of
/// zero or less just yields to the loop once, without a timer or a system call.
///
/// Python: `await asyncio.sleep(delay)`
/// Throws: `ValueError` for a NaN delay.
/// Cancellation: cancel-safe; the timer is removed at once, nothing is left behind.
[[nodiscard]] inline detail::SleepAwaiter<void> sleep(Delay delay) noexcept { return detail::SleepAwaiter<void>(delay.value); }

/// Like `sleep(delay)`, then returns `result`.
///
/// Python: `await asyncio.sleep(delay, result)`
template <class T>
[[nodiscard]] detail::SleepAwaiter<std::decay_t<T>> sleep(Delay delay, T&& result) {
    return detail::SleepAwaiter<std::decay_t<T>>(delay.value, std::forward<T>(result));
}

template <class Aw>
auto EventLoop::run_until_complete(Aw&& aw) {
    using A = std::remove_cvref_t<Aw>;
    if constexpr (iscoroutine<A> || detail::PlainAwaitable<A>) {
        auto task = create_task(std::move(aw));  // NOLINT(bugprone-move-forwarding-reference): an lvalue Coro or awaiter is consumed (Runner::run() would not compile with one)
        return run_until_complete(task);
    } else {
        static_assert(std::is_base_of_v<AnyTask, A> || isfuture<A>, "run_until_complete takes a Coro, a Task, a Future or an awaitable");
        A handle = aw;  // NOLINT(performance-unnecessary-copy-initialization): its own reference, whatever the caller does with `aw` while the loop runs
        detail::run_until_done(*this, detail::FutureCoreAccess::core(handle));
        return handle.result();
    }
}

// ---------------------------------------------------------------------------------------
// gather

/// A value or the exception that took its place: one slot of
/// `gather(return_exceptions, ...)`. A `void` result is `std::monostate`.
///
/// Python: the mixed list `gather(..., return_exceptions=True)` returns
/// Differs from CPython: C++ needs a type that holds either. A cancelled child's slot holds
///   a CancelledError with no message, as CPython's does.
template <class T>
class Outcome {
public:
    /// The value held: `T`, or `std::monostate` for a `void` child.
    using value_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

    /// A slot holding a value.
    explicit Outcome(value_type v) : v_(std::in_place_index<0>, std::move(v)) {}
    /// A slot holding an exception.
    explicit Outcome(std::exception_ptr e) : v_(std::in_place_index<1>, std::move(e)) {}

    /// Whether the slot holds a value.
    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    /// The same as `has_value()`.
    explicit operator bool() const noexcept { return has_value(); }
    /// The value; rethrows the exception if there is one.
    value_type& value() & {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    /// The value; rethrows the exception if there is one.
    const value_type& value() const& {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    /// The same as `value()`.
    value_type& operator*() & { return value(); }
    /// The same as `value()`.
    const value_type& operator*() const& { return value(); }
    /// A pointer to the value; rethrows the exception if there is one.
    value_type* operator->() { return &value(); }
    /// The exception, or null if the slot holds a value.
    [[nodiscard]] std::exception_ptr exception() const noexcept { return has_value() ? nullptr : std::get<1>(v_); }

private:
    std::variant<value_type, std::exception_ptr> v_;
};

/// Tag for `gather`: return each child's value or exception instead of raising the first.
///
/// Python: `gather(..., return_exceptions=True)`
struct ReturnExceptions {
    explicit ReturnExceptions() = default;
};
/// The tag itself, first argument of `gather`: `gather(asyncio::return_exceptions, a, b)`.
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

template <class A>
struct AwaitableTraits {
    static constexpr bool task_like = false;
};
template <class T>
struct AwaitableTraits<Coro<T>> {
    static constexpr bool task_like = true;
    using result = T;
};
template <class T>
struct AwaitableTraits<Task<T>> {
    static constexpr bool task_like = true;
    using result = T;
};
template <class T>
struct AwaitableTraits<Future<T>> {
    static constexpr bool task_like = true;
    using result = T;
};
template <class A>
    requires PlainAwaitable<A>
struct AwaitableTraits<A> {
    static constexpr bool task_like = true;
    using result = awaiter_result_t<A>;
};

// A Coro, a Task, a Future or another awaitable: what gather, wait_for and shield accept
// (CPython's ensure_future).
template <class A>
concept TaskLike = AwaitableTraits<std::remove_cvref_t<A>>::task_like;
template <class A>
using result_of_t = typename AwaitableTraits<std::remove_cvref_t<A>>::result;
// The handle ensure_future gives for A: a Task, or the Future itself.
template <class A>
using future_of_t = decltype(asyncio::ensure_future(std::declval<std::remove_cvref_t<A>>()));
template <class A>
using gather_value_t = std::conditional_t<std::is_void_v<result_of_t<A>>, std::monostate, result_of_t<A>>;

// Whether gather makes the task for an argument of type A itself (a Coro or another
// awaitable), rather than being given a Task or Future, which stays the caller's.
template <class A>
inline constexpr bool gather_starts_v = !std::is_same_v<std::remove_cvref_t<A>, future_of_t<A>>;

// Until gather waits for them, the tasks it started have not run: if anything fails before
// (out of memory for the next task, the list of them or the wait, say), they are cancelled,
// so that they never run and none outlives the call (see gather's comment). Cancelling
// a task that is done, as every child is once gather_wait returns or throws, does nothing.
template <class A, class H>
void cancel_if_started(const H& h) {
    if constexpr (gather_starts_v<A>)
        if (!h.done()) h.cancel();
}
template <class... Aw, class Tuple, std::size_t... I>
void cancel_started(const Tuple& handles, std::index_sequence<I...>) {
    (cancel_if_started<std::tuple_element_t<I, std::tuple<Aw...>>>(std::get<I>(handles)), ...);
}
// ensure_future for each argument, in order; if one fails, the tasks already started are
// cancelled (see cancel_if_started).
template <class... Aw>
std::tuple<future_of_t<Aw>...> start_children(Aw&&... aws) {
    FutureCore* started[sizeof...(Aw)] = {};
    std::size_t n = 0;
    auto start = [&]<class A>(A&& a) {
        auto h = asyncio::ensure_future(std::forward<A>(a));
        if constexpr (gather_starts_v<A>) started[n++] = FutureCoreAccess::core(h);
        return h;
    };
    try {
        return std::tuple<future_of_t<Aw>...>{start(std::move(aws))...};
    } catch (...) {
        for (std::size_t i = 0; i < n; ++i) started[i]->cancel({});
        throw;
    }
}

template <class H>
auto gather_value(const H& t) {
    using T = typename H::value_type;
    if constexpr (std::is_void_v<T>) {
        t.result();
        return std::monostate{};
    } else {
        return t.result();
    }
}
template <class H>
Outcome<typename H::value_type> gather_outcome(const H& t) {
    using T = typename H::value_type;
    // No message, as CPython's slot: it is built from the child future's own cancel message,
    // which a task that ended by raising CancelledError does not set.
    if (t.cancelled()) return Outcome<T>(std::make_exception_ptr(CancelledError()));
    if (std::exception_ptr e = t.exception()) return Outcome<T>(e);
    return Outcome<T>(gather_value(t));
}

// Waits for every child. Without return_exceptions, the first error (a cancelled child
// counts as CancelledError) cancels the others, and is raised once all have finished. A
// cancellation of the waiting task cancels every child, waits for all, and raises
// CancelledError. Either way no child outlives the call (docs/design/cancellation.md).
Coro<void> gather_wait(std::vector<FutureCore*> children, bool return_exceptions);

template <class Tuple>
std::vector<FutureCore*> cores_of(const Tuple& tasks) {
    return std::apply([](const auto&... t) { return std::vector<FutureCore*>{FutureCoreAccess::core(t)...}; }, tasks);
}

template <class R>
using range_element_t = std::remove_cvref_t<std::ranges::range_value_t<R>>;

}  // namespace detail

/// Runs the awaitables (Coros and the library's awaiters are wrapped in tasks, Tasks and
/// Futures are used as they are)
/// concurrently and returns their results as a tuple, in argument order (a `void` one gives
/// `std::monostate`). `gather()` of nothing returns an empty tuple at once.
///
/// Python: `await asyncio.gather(*aws)`
/// Throws: the first error of a child, after cancelling the other children and waiting for
///   them to finish.
/// Cancellation: cancelling the awaiting task cancels every child at once, inside `cancel()`
///   (each child's `cancelling()` is 1 when it returns, as in CPython); CancelledError is
///   raised once all have finished.
/// Differs from CPython: on an error CPython leaves the other children running; here they
///   are cancelled and awaited, because a running child may point into a frame that is gone
///   (docs/design/cancellation.md, docs/differences.md). The children start when the gather is awaited
///   (CPython: when gather() is called).
/// Example: examples/tutorial/10_gather_basic.cpp
// clang-format 14 would read the fold's `&&` as a reference and glue it: `Aw>&&...`.
// clang-format off
template <class... Aw>
    requires(detail::TaskLike<Aw> && ...)
// clang-format on
Coro<std::tuple<detail::gather_value_t<Aw>...>> gather(Aw... aws) {
    if constexpr (sizeof...(Aw) == 0) {
        co_return std::tuple<>{};
    } else {
        std::tuple<detail::future_of_t<Aw>...> tasks = detail::start_children(std::move(aws)...);
        try {
            std::vector<detail::FutureCore*> cores = detail::cores_of(tasks);
            co_await detail::gather_wait(std::move(cores), false);
        } catch (...) {
            detail::cancel_started<Aw...>(tasks, std::index_sequence_for<Aw...>{});
            throw;
        }
        co_return std::apply([](const auto&... t) { return std::tuple<detail::gather_value_t<Aw>...>(detail::gather_value(t)...); }, tasks);
    }
}

/// Like `gather(aws...)`, but never raises a child's error: each slot is an `Outcome` with
/// the value or the exception (a cancelled child gives CancelledError).
///
/// Python: `await asyncio.gather(*aws, return_exceptions=True)`
/// Cancellation: cancelling the awaiting task still cancels the children and raises.
// clang-format 14 would read the fold's `&&` as a reference and glue it: `Aw>&&...`.
// clang-format off
template <class... Aw>
    requires(detail::TaskLike<Aw> && ...)
// clang-format on
Coro<std::tuple<Outcome<detail::result_of_t<Aw>>...>> gather(ReturnExceptions, Aw... aws) {
    if constexpr (sizeof...(Aw) == 0) {
        co_return std::tuple<>{};
    } else {
        std::tuple<detail::future_of_t<Aw>...> tasks = detail::start_children(std::move(aws)...);
        try {
            std::vector<detail::FutureCore*> cores = detail::cores_of(tasks);
            co_await detail::gather_wait(std::move(cores), true);
        } catch (...) {
            detail::cancel_started<Aw...>(tasks, std::index_sequence_for<Aw...>{});
            throw;
        }
        co_return std::apply([](const auto&... t) { return std::tuple<Outcome<detail::result_of_t<Aw>>...>(detail::gather_outcome(t)...); }, tasks);
    }
}

namespace detail {

// The two range forms of gather: starts a task for each element (a task that cannot be
// recorded is cancelled before it runs), waits for all, then collects a value or an Outcome
// per element. If anything fails before the wait, the tasks started are cancelled.
template <bool Outcomes, class R>
using gather_range_result_t = std::conditional_t<Outcomes, std::vector<Outcome<result_of_t<range_element_t<R>>>>, std::vector<gather_value_t<range_element_t<R>>>>;

template <bool Outcomes, class R>
Coro<gather_range_result_t<Outcomes, R>> gather_range(R aws) {
    using E = range_element_t<R>;
    std::vector<future_of_t<E>> tasks;
    std::vector<FutureCore*> cores;
    try {
        for (auto&& a : aws) {
            auto h = asyncio::ensure_future(std::move(a));
            try {
                tasks.push_back(h);
            } catch (...) {
                cancel_if_started<E>(h);
                throw;
            }
            cores.push_back(FutureCoreAccess::core(tasks.back()));
        }
        if (!tasks.empty()) co_await gather_wait(std::move(cores), Outcomes);
    } catch (...) {
        for (const auto& t : tasks) cancel_if_started<E>(t);
        throw;
    }
    gather_range_result_t<Outcomes, R> out;
    out.reserve(tasks.size());
    for (const auto& t : tasks) {
        if constexpr (Outcomes)
            out.push_back(gather_outcome(t));
        else
            out.push_back(gather_value(t));
    }
    co_return out;
}

}  // namespace detail

/// `gather` over a range of Coros (pass it with std::move) or Tasks of one type; returns a
/// vector of results in range order.
///
/// Python: `await asyncio.gather(*list_of_aws)`
template <std::ranges::input_range R>
    requires(detail::TaskLike<detail::range_element_t<R>>)
Coro<std::vector<detail::gather_value_t<detail::range_element_t<R>>>> gather(R aws) {
    return detail::gather_range<false>(std::move(aws));
}

/// `gather(return_exceptions, range)`: a vector of Outcomes.
///
/// Python: `await asyncio.gather(*list_of_aws, return_exceptions=True)`
template <std::ranges::input_range R>
    requires(detail::TaskLike<detail::range_element_t<R>>)
Coro<std::vector<Outcome<detail::result_of_t<detail::range_element_t<R>>>>> gather(ReturnExceptions, R aws) {
    return detail::gather_range<true>(std::move(aws));
}

/// The tag after the awaitables: it goes first.
template <class First, class... Rest>
    requires(sizeof...(Rest) > 0 && (std::is_same_v<std::remove_cvref_t<Rest>, ReturnExceptions> || ...))
auto gather(First&&, Rest&&...) {
    static_assert(detail::misuse<First>, "gather(): return_exceptions goes first, as in gather(asyncio::return_exceptions, tasks) or gather(asyncio::return_exceptions, a, b)");
}

// ---------------------------------------------------------------------------------------
// wait

/// When `wait()` returns.
///
/// Python: `asyncio.FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`
enum class ReturnWhen {
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    ALL_COMPLETED
};
/// `wait()` returns once any task is done.
///
/// Python: `asyncio.FIRST_COMPLETED`
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
/// `wait()` returns once any task fails, or when all are done.
///
/// Python: `asyncio.FIRST_EXCEPTION`
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
/// `wait()` returns once every task is done (the default).
///
/// Python: `asyncio.ALL_COMPLETED`
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// The `(done, pending)` pair `wait()` returns.
template <class TaskT>
using WaitResult = std::pair<std::unordered_set<TaskT>, std::unordered_set<TaskT>>;

namespace detail {

Coro<void> wait_core(std::vector<FutureCore*> children, std::optional<EventLoop::time_point> deadline, ReturnWhen when);

template <class R>
Coro<WaitResult<range_element_t<R>>> wait_impl(R tasks, std::optional<EventLoop::time_point> deadline, ReturnWhen when) {
    using E = range_element_t<R>;
    static_assert(!iscoroutine<E>, "asyncio::wait() takes tasks, not coroutines: wrap them with create_task() (CPython 3.11 forbids coroutines too)");
    static_assert(std::is_base_of_v<AnyTask, E>, "asyncio::wait() takes a range of Task<T> or AnyTask");
    std::vector<E> unique;
    std::unordered_set<E> seen;
    for (const auto& t : tasks)
        if (seen.insert(t).second) unique.push_back(t);
    if (unique.empty()) throw ValueError("Set of Tasks/Futures is empty.");
    std::vector<FutureCore*> cores;
    cores.reserve(unique.size());
    for (const E& t : unique) cores.push_back(FutureCoreAccess::core(t));
    co_await wait_core(std::move(cores), deadline, when);
    WaitResult<E> out;
    for (const E& t : unique) (t.done() ? out.first : out.second).insert(t);
    co_return out;
}

}  // namespace detail

/// Waits until `return_when` holds for the tasks and returns the sets `(done, pending)`;
/// the pending tasks are not cancelled.
///
/// Python: `done, pending = await asyncio.wait(tasks, return_when=ALL_COMPLETED)`
/// Throws: `ValueError` for an empty range. Coroutines are rejected at compile time.
/// Cancellation: cancel-safe; the tasks are left running.
/// Example: examples/tutorial/16_wait.cpp
template <std::ranges::input_range R>
    requires(!iscoroutine<detail::range_element_t<R>>)
Coro<WaitResult<detail::range_element_t<R>>> wait(R tasks, ReturnWhen return_when = ALL_COMPLETED) {
    return detail::wait_impl(std::move(tasks), std::nullopt, return_when);
}

/// Like `wait(tasks, return_when)`, returning after `timeout` at the latest (without
/// cancelling anything: the tasks not done are in `pending`).
///
/// Python: `await asyncio.wait(tasks, timeout=t, return_when=...)`
template <std::ranges::input_range R>
    requires(!iscoroutine<detail::range_element_t<R>>)
Coro<WaitResult<detail::range_element_t<R>>> wait(R tasks, Delay timeout, ReturnWhen return_when = ALL_COMPLETED) {
    return detail::wait_impl(std::move(tasks), get_running_loop().time() + timeout.value, return_when);
}

/// A range of coroutines: wait() takes tasks (wrap each with create_task()).
template <std::ranges::input_range R, class... Rest>
    requires iscoroutine<detail::range_element_t<R>>
auto wait(R&&, Rest&&...) {
    static_assert(detail::misuse<R>, "asyncio::wait() takes tasks, not coroutines: wrap them with create_task() (CPython 3.11 forbids coroutines too)");
}

namespace detail {

// The element type of wait(a, b, ...): the tasks' own type if they all share it, else AnyTask.
template <class First, class... Rest>
struct CommonTask {
    using type = std::conditional_t<(std::is_same_v<std::remove_cvref_t<First>, std::remove_cvref_t<Rest>> && ...), std::remove_cvref_t<First>, AnyTask>;
};
template <class... Ts>
using common_task_t = typename CommonTask<Ts...>::type;

template <class E, class... Ts>
std::vector<E> task_vector(const Ts&... tasks) {
    std::vector<E> v;  // filled one by one: g++ 12 cannot keep a braced list in a coroutine
    v.reserve(sizeof...(Ts));
    (v.push_back(tasks), ...);
    return v;
}

}  // namespace detail

/// `wait(a, b, ...)`: the tasks as arguments instead of a range, so that no braced
/// temporary appears in the `co_await` (g++ 12 rejects `co_await wait(std::vector{a, b})`
/// and `co_await wait({a, b})` with "array used as initializer": docs/differences.md).
///
/// Python: `await asyncio.wait([a, b])`
template <class... Ts>
    requires(sizeof...(Ts) > 0 && (std::is_base_of_v<AnyTask, std::remove_cvref_t<Ts>> && ...))
Coro<WaitResult<detail::common_task_t<Ts...>>> wait(const Ts&... tasks) {
    return detail::wait_impl(detail::task_vector<detail::common_task_t<Ts...>>(tasks...), std::nullopt, ALL_COMPLETED);
}

/// `wait(return_when, a, b, ...)`.
///
/// Python: `await asyncio.wait([a, b], return_when=return_when)`
template <class... Ts>
    requires(sizeof...(Ts) > 0 && (std::is_base_of_v<AnyTask, std::remove_cvref_t<Ts>> && ...))
Coro<WaitResult<detail::common_task_t<Ts...>>> wait(ReturnWhen return_when, const Ts&... tasks) {
    return detail::wait_impl(detail::task_vector<detail::common_task_t<Ts...>>(tasks...), std::nullopt, return_when);
}

// ---------------------------------------------------------------------------------------
// wait_for, shield

namespace detail {

// Waits until `t` is done without cancelling it when the waiting task is cancelled
// (CPython's _cancel_and_wait waiter).
Coro<void> wait_done(FutureCore* t);

template <class T>
Coro<T> await_task(Task<T> t) {
    co_return co_await t;
}

}  // namespace detail

/// Waits for `aw` for at most `timeout`; at the deadline cancels it, waits for it to
/// finish, and raises TimeoutError. A Coro runs inline in the waiting task, as 3.12 awaits a
/// coroutine directly; a Task is awaited. `std::nullopt`: no limit.
///
/// Python: `await asyncio.wait_for(aw, timeout)` (3.12)
/// Throws: `TimeoutError`; a `timeout <= 0` cancels at once unless `aw` is already done
///   (a Coro is then never started).
/// Cancellation: cancelling the waiting task cancels `aw` too.
template <class Aw>
    requires(detail::TaskLike<Aw>)
Coro<detail::result_of_t<Aw>> wait_for(Aw aw, std::optional<Delay> timeout) {
    if (timeout && timeout->value <= EventLoop::duration::zero()) {
        auto t = asyncio::ensure_future(std::move(aw));
        if (!t.done()) {
            t.cancel();
            co_await detail::wait_done(detail::FutureCoreAccess::core(t));
        }
        if (t.cancelled()) throw TimeoutError();
        co_return t.result();
    }
    if constexpr (std::is_base_of_v<AnyTask, Aw>)
        co_return co_await asyncio::timeout(timeout, detail::await_task(std::move(aw)));
    else  // a Coro or another awaitable runs inline; a Future is awaited (and cancelled)
        co_return co_await asyncio::timeout(timeout, std::move(aw));
}

namespace detail {

// shield(): like awaiting the task, but a cancellation of the waiting task only stops the
// waiting; the task goes on. The end of the task reaches the waiter as in CPython: the
// task's done callback (one hop) completes shield's outer future, which wakes the waiter
// (a second hop).
template <class T, class H = Task<T>>
class ShieldAwaiter final : public DoneNode, public Waiter, public FrameRunnable {
public:
    explicit ShieldAwaiter(H t) noexcept : task_handle_(std::move(t)), target_(FutureCoreAccess::core(task_handle_)) {}
    ShieldAwaiter(const ShieldAwaiter&) = delete;
    ShieldAwaiter& operator=(const ShieldAwaiter&) = delete;
    ~ShieldAwaiter() {
        target_->remove_node(this);
        release_slot(target_->loop());
    }

    bool await_ready() const noexcept { return target_->done(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        waiter_ = task_of(h);
        hold_slot(target_->live_loop());  // the task's end queues this node (FrameRunnable)
        target_->add_node(this);
        waiter_->suspend(h, this, site);
    }
    T await_resume() {
        if (waiter_) {
            waiter_->throw_if_cancelled();
            // CPython's outer future is cancelled with no message (task.result() keeps it).
            if (target_->cancelled()) throw CancelledError();
        }
        return task_handle_.result();
    }
    void on_done(FutureCore& f) override { schedule(*f.loop()); }
    void run_scheduled() override { waiter_->wake(); }
    CancelOutcome cancel_wait(const std::string&) override {
        // Still waiting for the task, or for the callback that saw it end: CPython's outer
        // future is not done yet and its cancel() succeeds.
        if (!linked && !scheduled()) return CancelOutcome::too_late;
        target_->remove_node(this);
        unschedule();
        return CancelOutcome::cancelled;
    }
    [[nodiscard]] std::string describe() const override { return "shield(" + describe_awaited(*target_) + ")"; }
    [[nodiscard]] const FutureCore* awaiter() const noexcept override { return waiter_; }

private:
    H task_handle_;
    FutureCore* target_;
    TaskCore* waiter_ = nullptr;
};

}  // namespace detail

/// Awaits `aw` (a Task, or a Coro run as a new task) so that cancelling the waiting task
/// does not cancel it: the waiter gets CancelledError, the task runs on and its result stays
/// retrievable through its handle.
///
/// Python: `await asyncio.shield(aw)`
/// Cancellation: the waiter is cancelled, the shielded task is not.
/// Differs from CPython: a shielded Coro becomes a free task (as create_task would make);
///   keep a Task handle if you need its result after a cancellation.
template <class Aw>
    requires detail::TaskLike<Aw>
[[nodiscard]] detail::ShieldAwaiter<detail::result_of_t<Aw>, detail::future_of_t<Aw>> shield(Aw aw) {
    return detail::ShieldAwaiter<detail::result_of_t<Aw>, detail::future_of_t<Aw>>(asyncio::ensure_future(std::move(aw)));
}

// ---------------------------------------------------------------------------------------
// as_completed

/// The tasks in the order they complete: iterate it and `co_await` each item to get the
/// next result (or its exception). A task given twice counts once.
///
/// Python: `for aw in asyncio.as_completed(tasks, timeout=t): result = await aw`
/// Throws: once the timeout passed, the items left raise `TimeoutError` (the tasks are not
///   cancelled, as in CPython).
/// Cancellation: cancel-safe; the tasks are left running, and a completion a cancelled item
///   was woken for goes to the next item awaited.
/// Differs from CPython: takes tasks (wrap coroutines with create_task), so that nothing
///   it started could outlive it.
template <class T>
class AsCompleted {
    struct State;  // declared before the iterator names it (clang 14 requires it)

public:
    /// Python: `asyncio.as_completed(tasks, timeout=None)`
    template <std::ranges::input_range R>
    // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): AsCompleted is no input_range
    explicit AsCompleted(R&& tasks, std::optional<Delay> timeout = std::nullopt) : state_(std::make_shared<State>()) {
        std::unordered_set<Task<T>> seen;
        for (const auto& t : tasks)
            if (seen.insert(t).second) state_->tasks.push_back(t);
        state_->start(timeout);
    }

    /// The next result in completion order.
    [[nodiscard]] Coro<T> next() { return next_of(state_); }

    /// Goes through the items for a range-for: each `*it` is the next result in completion
    /// order, whatever the iterator's place; there are as many items as tasks.
    class iterator {
    public:
        /// An item: a Coro to await for the next result.
        using value_type = Coro<T>;
        /// For `std::input_iterator`.
        using difference_type = std::ptrdiff_t;
        /// The next result in completion order, as `next()`.
        Coro<T> operator*() const { return next_of(state_); }
        /// On to the next item.
        iterator& operator++() {
            ++i_;
            return *this;
        }
        /// On to the next item.
        void operator++(int) { ++i_; }
        /// Whether two iterators are at the same item.
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

    private:
        friend class AsCompleted;
        iterator(std::shared_ptr<State> s, std::size_t i) : state_(std::move(s)), i_(i) {}
        std::shared_ptr<State> state_;
        std::size_t i_;
    };
    /// The first item.
    iterator begin() const { return iterator(state_, 0); }
    /// Past the last item.
    iterator end() const { return iterator(state_, state_->tasks.size()); }
    /// How many items: the tasks given, each counted once.
    [[nodiscard]] std::size_t size() const noexcept { return state_->tasks.size(); }

private:
    struct State final : detail::ChildObserver, detail::AlarmListener {
        std::vector<Task<T>> tasks;
        std::deque<std::size_t> done;
        detail::WaitQueue waiters;  // items being awaited, first come first served
        std::unique_ptr<detail::ChildWatch> watch;
        std::unique_ptr<detail::Alarm> alarm;
        bool timed_out = false;

        void start(std::optional<Delay> timeout) {
            EventLoop& loop = get_running_loop();
            if (timeout) {
                alarm = std::make_unique<detail::Alarm>(loop, *this);
                alarm->arm(loop.time() + timeout->value);
            }
            watch = std::make_unique<detail::ChildWatch>(this, tasks.size());
            for (std::size_t i = 0; i < tasks.size(); ++i) watch->watch(i, detail::FutureCoreAccess::core(tasks[i]));
        }
        void child_done(std::size_t i) override {
            if (timed_out) return;  // after the timeout only TimeoutError is left
            done.push_back(i);
            waiters.grant_first();
        }
        void alarm_rang() override {
            timed_out = true;
            waiters.grant_all();
        }
    };

    static Coro<T> next_of(std::shared_ptr<State> s) {
        // What completed before the timeout comes first, then TimeoutError (CPython's order).
        while (s->done.empty()) {
            if (s->timed_out) throw TimeoutError();
            detail::WaitOn w(s->waiters, "as_completed()");
            co_await w;
            if (w.cancelled()) {
                if (w.granted()) s->waiters.grant_first();  // pass the completion on
                throw CancelledError(w.cancel_message());
            }
        }
        std::size_t i = s->done.front();
        s->done.pop_front();
        co_return s->tasks[i].result();
    }

    std::shared_ptr<State> state_;
};

/// `AsCompleted` over a range of `Task<T>`.
///
/// Python: `asyncio.as_completed(tasks, *, timeout=None)`
template <std::ranges::input_range R>
[[nodiscard]] AsCompleted<typename detail::range_element_t<R>::value_type> as_completed(R&& tasks, std::optional<Delay> timeout = std::nullopt) {
    using E = detail::range_element_t<R>;
    static_assert(!iscoroutine<E>, "asyncio::as_completed() takes tasks: wrap coroutines with create_task()");
    return AsCompleted<typename E::value_type>(std::forward<R>(tasks), timeout);
}

}  // namespace asyncio

/// Hashes a task handle by the task it names, so that tasks can live in a
/// `std::unordered_set`, as `background_tasks` does in Python.
///
/// Python: `hash(task)`
template <>
struct std::hash<asyncio::AnyTask> {
    /// The hash of the task's address.
    std::size_t operator()(const asyncio::AnyTask& t) const noexcept { return std::hash<const void*>()(t.core_.get()); }
};
/// Hashes a `Task<T>` as the `AnyTask` it is.
template <class T>
struct std::hash<asyncio::Task<T>> {
    /// The hash of the task's address.
    std::size_t operator()(const asyncio::Task<T>& t) const noexcept { return std::hash<asyncio::AnyTask>()(t); }
};
