// asyncio/tasks.hpp: Task, AnyTask, create_task, sleep, current_task, all_tasks.
// Mirrors Lib/asyncio/tasks.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/futures.hpp>

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

template <class T>
class TaskState final : public TaskCore {
public:
    using Root = std::coroutine_handle<CoroPromise<T>>;
    TaskState(EventLoop* loop, Root root) : TaskCore(loop, root) { root.promise().task = this; }
    ResultSlot<T> slot;

private:
    void complete() override {
        auto& p = Root::from_address(root_.address()).promise();
        std::exception_ptr e = std::move(p.exception);
        if constexpr (!std::is_void_v<T>) {
            if (!e) slot.set(std::move(*p.value));
        }
        finish_root(std::move(e));
    }
};

// Runs the loop until `core` is done (run_until_complete without the result).
void run_until_done(EventLoop& loop, FutureCore* core);

}  // namespace detail

/// A handle to a task of any result type: what `current_task()` and `all_tasks()` return,
/// and the base of every `Task<T>`.
///
/// Python: `asyncio.Task` (Python needs no type-erased form)
/// Differs from CPython: C++ only. Handles compare equal when they name the same task and
///   are hashable, so they can live in a `std::unordered_set`.
class AnyTask {
public:
    /// An empty handle.
    AnyTask() noexcept = default;
    AnyTask(const AnyTask& o) noexcept : core_(o.core_) {
        if (core_) core_->add_ref();
    }
    AnyTask(AnyTask&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
    AnyTask& operator=(AnyTask o) noexcept {
        std::swap(core_, o.core_);
        return *this;
    }
    /// Dropping the last handle never cancels or destroys an unfinished task: the loop keeps
    /// it. A task that failed and whose exception nobody retrieved is reported here.
    ~AnyTask() {
        if (core_) core_->release();
    }

    /// Whether this handle names a task.
    explicit operator bool() const noexcept { return core_ != nullptr; }

    /// Python: `task.get_name()` ("Task-N" unless named)
    [[nodiscard]] std::string get_name() const { return core_->name(); }
    /// Python: `task.set_name(value)`
    void set_name(std::string name) { core_->set_name(std::move(name)); }
    /// Python: `task.done()`
    [[nodiscard]] bool done() const noexcept { return core_->done(); }
    /// Python: `task.cancelled()`
    [[nodiscard]] bool cancelled() const noexcept { return core_->cancelled(); }

    /// Requests cancellation: CancelledError(msg) is thrown into the task at its current or
    /// next suspension point; an awaited task or future is cancelled too. False if done.
    ///
    /// Python: `task.cancel(msg=None)`
    bool cancel(const std::string& msg = {}) { return core_->cancel(msg); }
    /// The number of cancellation requests not yet withdrawn by `uncancel()`.
    ///
    /// Python: `task.cancelling()`
    [[nodiscard]] int cancelling() const noexcept { return static_cast<int>(core_->cancelling()); }
    /// Withdraws one cancellation request; returns the number left.
    ///
    /// Python: `task.uncancel()`
    int uncancel() noexcept { return static_cast<int>(core_->uncancel()); }

    /// Rethrows the task's exception; returns if it finished with a value.
    ///
    /// Python: `task.result()` (the value is only on `Task<T>::result()`)
    /// Throws: `InvalidStateError("Result is not set.")` while pending, `CancelledError` if
    ///   cancelled.
    void result() const { core_->check_result(); }
    /// The exception the task ended with, or null.
    ///
    /// Python: `task.exception()`
    /// Throws: `InvalidStateError` while pending, `CancelledError` if cancelled.
    [[nodiscard]] std::exception_ptr exception() const { return core_->exception(); }

    /// Schedules `f(task)` once the task is done (at once if it is).
    ///
    /// Python: `task.add_done_callback(fn)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f) {
        return detail::add_done_callback<AnyTask>(core_, std::forward<F>(f));
    }
    /// Python: `task.remove_done_callback(fn)`; returns how many were removed.
    std::size_t remove_done_callback(DoneCallbackId id) noexcept {
        return core_->remove_user_callback(static_cast<std::uintptr_t>(id));
    }
    /// Python: `task.get_loop()`
    [[nodiscard]] EventLoop& get_loop() const noexcept { return *core_->loop(); }

    /// Waits for the task; rethrows its exception.
    ///
    /// Python: `await task`
    /// Cancellation: cancelling the awaiting task cancels this one too (DESIGN §3).
    detail::FutureAwaiter<void, detail::TaskCore> operator co_await() const noexcept {
        return detail::FutureAwaiter<void, detail::TaskCore>(core_);
    }

    friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.core_ == b.core_; }

    static AnyTask from_core(detail::FutureCore* core) noexcept {
        auto* t = static_cast<detail::TaskCore*>(core);
        t->add_ref();
        return AnyTask(t);
    }

protected:
    explicit AnyTask(detail::TaskCore* core) noexcept : core_(core) {}
    detail::TaskCore* core_ = nullptr;

private:
    friend struct std::hash<AnyTask>;
    friend struct detail::FutureCoreAccess;
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
    using value_type = T;
    Task() noexcept = default;

    /// The value, or rethrows the exception.
    ///
    /// Python: `task.result()`
    /// Throws: `InvalidStateError` while pending, `CancelledError` if cancelled.
    T result() const {
        core_->check_result();
        return state()->slot.get();
    }

    /// Schedules `f(task)` once the task is done.
    ///
    /// Python: `task.add_done_callback(fn)`
    template <class F>
    DoneCallbackId add_done_callback(F&& f) {
        if constexpr (std::is_invocable_v<std::decay_t<F>&, Task>)
            return detail::add_done_callback<Task>(core_, std::forward<F>(f));
        else
            return detail::add_done_callback<AnyTask>(core_, std::forward<F>(f));
    }

    /// Waits for the task and returns its value (a copy, or the value itself if T is
    /// move-only) or rethrows its exception.
    ///
    /// Python: `await task`
    /// Cancellation: cancelling the awaiting task cancels this one too.
    detail::FutureAwaiter<T, detail::TaskState<T>> operator co_await() const noexcept {
        return detail::FutureAwaiter<T, detail::TaskState<T>>(state());
    }

    static Task from_core(detail::FutureCore* core) noexcept {
        auto* t = static_cast<detail::TaskState<T>*>(core);
        t->add_ref();
        return Task(t);
    }

private:
    friend class EventLoop;
    explicit Task(detail::TaskState<T>* s) noexcept : AnyTask(s) {}
    detail::TaskState<T>* state() const noexcept { return static_cast<detail::TaskState<T>*>(core_); }
};

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name) {
    check_open();
    if (!coro.valid()) throw RuntimeError("cannot reuse already awaited coroutine");
    auto* state = new detail::TaskState<T>(this, detail::CoroAccess::release(coro));
    if (!name.empty()) state->set_name(std::move(name));
    state->add_ref();  // the caller's handle; the loop holds the first reference until done
    return Task<T>(state);
}

/// Wraps `coro` in a Task, schedules it on the running loop and returns the handle.
///
/// Python: `asyncio.create_task(coro, *, name=None)`
/// Throws: `RuntimeError("no running event loop")` outside a loop; `RuntimeError` if the
///   Coro was already awaited.
template <class T>
Task<T> create_task(Coro<T> coro, std::string name = {}) {
    return get_running_loop().create_task(std::move(coro), std::move(name));
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
template <class T>
class SleepAwaiter final : public TimerNode, public Waiter {
    using Stored = std::conditional_t<std::is_void_v<T>, NoResult, T>;

public:
    explicit SleepAwaiter(EventLoop::duration delay, Stored result = {}) : delay_(delay), result_(std::move(result)) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (queued()) LoopAccess::timers(*task_->loop()).erase(this);
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        task_ = task_of(h);
        if (delay_ <= EventLoop::duration::zero()) {
            // sleep(0): back of the ready queue, no timer and no system call.
            task_->suspend(h, nullptr);
            task_->wake();
            return;
        }
        EventLoop& loop = *task_->loop();
        when = loop.time() + delay_;
        LoopAccess::timers(loop).push(this);
        task_->suspend(h, this);
    }
    T await_resume() {
        task_->throw_if_cancelled(cancelled_);
        if constexpr (!std::is_void_v<T>) return std::move(result_);
    }

    void fire() override { task_->wake(); }
    bool cancel_wait(const std::string&) override {
        if (!queued()) return false;
        LoopAccess::timers(*task_->loop()).erase(this);
        cancelled_ = true;
        task_->wake();
        return true;
    }

private:
    EventLoop::duration delay_;
    TaskCore* task_ = nullptr;
    bool cancelled_ = false;
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

namespace detail {
struct FutureCoreAccess {
    static FutureCore* core(const AnyTask& t) noexcept { return t.core_; }
    template <class T>
    static FutureCore* core(const Future<T>& f) noexcept {
        return f.state_;
    }
};
}  // namespace detail

template <class Aw>
auto EventLoop::run_until_complete(Aw&& aw) {
    using A = std::remove_cvref_t<Aw>;
    if constexpr (iscoroutine<A>) {
        auto task = create_task(std::move(aw));
        return run_until_complete(task);
    } else {
        static_assert(std::is_base_of_v<AnyTask, A> || isfuture<A>, "run_until_complete takes a Coro, a Task or a Future");
        A handle = aw;
        detail::run_until_done(*this, detail::FutureCoreAccess::core(handle));
        return handle.result();
    }
}

}  // namespace asyncio

template <>
struct std::hash<asyncio::AnyTask> {
    std::size_t operator()(const asyncio::AnyTask& t) const noexcept { return std::hash<const void*>()(t.core_); }
};
template <class T>
struct std::hash<asyncio::Task<T>> {
    std::size_t operator()(const asyncio::Task<T>& t) const noexcept { return std::hash<asyncio::AnyTask>()(t); }
};
