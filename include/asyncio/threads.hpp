// asyncio/threads.hpp: what crosses threads: to_thread and loop.run_in_executor (Lib/asyncio/
// threads.py, base_events.py), wrap_future (futures.py) and run_coroutine_threadsafe
// (tasks.py). Which object may be touched from which thread: docs/threads.md.
#pragma once

#include <asyncio/concurrent/future.hpp>
#include <asyncio/concurrent/thread_pool.hpp>
#include <asyncio/coroutines.hpp>
#include <asyncio/detail/remote_op.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/tasks.hpp>

#include <atomic>
#include <coroutine>
#include <exception>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>

namespace asyncio {
namespace detail {

// Whether `f(args...)` wants a std::stop_token first (to_thread's extension: the token is
// stopped when the awaiting task is cancelled).
template <class F, class... A>
inline constexpr bool takes_stop_token_v = std::is_invocable_v<std::decay_t<F>&, std::stop_token, std::decay_t<A>&...>;

// `f(args...)` (or `f(token, args...)`) as one callable of a stop_token.
template <class F, class... A>
auto bind_thread_call(F&& f, A&&... args) {
    static_assert(takes_stop_token_v<F, A...> || std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>,
                  "to_thread/run_in_executor: the function must be callable with the given arguments");
    return [f = std::decay_t<F>(std::forward<F>(f)),
            args = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)](std::stop_token token) mutable -> decltype(auto) {
        if constexpr (takes_stop_token_v<F, A...>)
            return std::apply(f, std::tuple_cat(std::tuple<std::stop_token>(std::move(token)), std::move(args)));
        else
            return std::apply(f, std::move(args));
    };
}

template <class Call>
using thread_call_result_t = std::decay_t<std::invoke_result_t<Call&, std::stop_token>>;

// One call on an executor's thread for a loop: the executor runs it (run_job(), on a worker),
// then it goes home (RemoteOp) and hands its outcome to whoever waits on the loop: a task
// suspended in `co_await to_thread(...)` (waiter_), or the Future of run_in_executor
// (future_). References: the creator's, the loop's (RemoteOp), the worker's.
template <class R, class Call>
class ThreadCall final : public RemoteOp, public ExecutorJob, public PoolAllocated {
public:
    using PoolAllocated::operator new;
    using PoolAllocated::operator delete;

    ThreadCall(EventLoop& loop, Call call, bool stoppable)
        : RemoteOp(loop), call_(std::move(call)), stop_(stoppable ? std::stop_source() : std::stop_source(std::nostopstate)) {}

    // Loop thread: the waiting side gave up (its task was cancelled, its future cancelled or
    // destroyed). The call does not start if it has not; a running call is asked to stop
    // (its stop_token), and its outcome is dropped when it comes home.
    void withdraw() noexcept {
        waiter_ = nullptr;
        future_.reset();
        std::uint8_t q = queued;
        phase_.compare_exchange_strong(q, withdrawn, std::memory_order_acq_rel);
        if (stop_.stop_possible()) stop_.request_stop();
    }
    void set_waiter(TaskCore* t) noexcept { waiter_ = t; }
    // to_thread: the call runs in `context` (a copy of the caller's; null: an empty one).
    // run_in_executor's calls carry none and run in the worker thread's own, as CPython's.
    void set_context(Ref<ContextImpl> context) noexcept {
        context_ = std::move(context);
        carries_context_ = true;
    }
    void set_future(const Future<R>& f) noexcept { future_.emplace(f); }
    // Loop thread, once home: the outcome (a value, an exception, or cancelled by a
    // shutdown of the executor).
    [[nodiscard]] bool discarded() const noexcept { return phase_.load(std::memory_order_acquire) == cancelled_by_shutdown; }
    [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }
    R take() { return std::move(slot_.value); }

private:
    enum : std::uint8_t {
        queued,
        running,
        done,
        withdrawn,
        cancelled_by_shutdown
    };

    ~ThreadCall() override {
        if (has_value_) slot_.destroy();
    }

    // A worker thread.
    void run_job() noexcept override {
        std::uint8_t q = queued;
        if (phase_.compare_exchange_strong(q, running, std::memory_order_acq_rel)) {
            if (carries_context_) {
                ContextScope scope(context_.get(), std::nothrow);  // a copy: nobody else enters it
                call();
            } else {
                call();
            }
            phase_.store(done, std::memory_order_release);
            executor_job_finishing();
            post_home();  // refused only once the loop has closed, which let go of it already
        }
        release();  // the worker's reference
    }
    // The executor shut down with cancel_futures: the call never runs; the waiter gets
    // CancelledError, as CPython's chained future is cancelled.
    void cancel_job() noexcept override {
        std::uint8_t q = queued;
        if (phase_.compare_exchange_strong(q, cancelled_by_shutdown, std::memory_order_acq_rel)) post_home();
        release();
    }

    void call() noexcept {
        try {
            if constexpr (std::is_void_v<R>) {
                call_(stop_.get_token());
            } else {
                slot_.set(call_(stop_.get_token()));
            }
            has_value_ = true;
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    // The loop's thread.
    void complete() override {
        if (TaskCore* t = std::exchange(waiter_, nullptr)) {
            t->wake();
        } else if (future_) {
            Future<R> fut = std::move(*future_);
            future_.reset();
            if (fut.done()) return;  // cancelled meanwhile
            if (discarded()) {
                fut.cancel();
            } else if (error_) {
                fut.set_exception(error_);
            } else if constexpr (std::is_void_v<R>) {
                fut.set_result();
            } else {
                fut.set_result(take());
            }
        }
    }
    void let_go() noexcept override {
        waiter_ = nullptr;  // its task's frame is being destroyed
        future_.reset();
    }

    Call call_;
    std::stop_source stop_;
    std::atomic<std::uint8_t> phase_{queued};
    bool has_value_ = false;
    bool carries_context_ = false;
    std::exception_ptr error_;
    Ref<ContextImpl> context_;
    [[no_unique_address]] ResultSlot<R> slot_;
    TaskCore* waiter_ = nullptr;
    std::optional<Future<R>> future_;  // loop thread only
};

// The loop's default executor, made on first use (CPython's, with thread names asyncio_N).
// Throws: RuntimeError("Executor shutdown has been called") after shutdown_default_executor.
concurrent::Executor& default_executor(EventLoop& loop);

// Queues `op` on `executor` (null: the loop's default) with the worker's reference.
template <class Op>
void post_thread_call(EventLoop& loop, concurrent::Executor* executor, Op* op) {
    concurrent::Executor& ex = executor ? *executor : default_executor(loop);
    op->add_ref();  // the worker's
    try {
        ex.post(op);
    } catch (...) {
        op->release();
        throw;
    }
}

// `co_await to_thread(f, args...)`: what to_thread returns. Nothing runs until it is awaited
// (a coroutine in CPython); the call is then queued on the executor and the task suspends
// until it comes home.
template <class Call>
class ToThreadAwaiter final : public Waiter {
    using R = thread_call_result_t<Call>;
    using Op = ThreadCall<R, Call>;

public:
    ToThreadAwaiter(Call call, bool stoppable, concurrent::Executor* executor)
        : call_(std::move(call)), executor_(executor), stoppable_(stoppable) {}
    ToThreadAwaiter(ToThreadAwaiter&& o) noexcept
        : call_(std::move(o.call_)), executor_(o.executor_), stoppable_(o.stoppable_), op_(std::exchange(o.op_, nullptr)) {}
    ToThreadAwaiter& operator=(ToThreadAwaiter&&) = delete;
    ~ToThreadAwaiter() {
        if (op_) {
            op_->withdraw();  // the frame is destroyed (loop.close()) while the call runs
            op_->release();
        }
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h, detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
        if (op_) throw RuntimeError("to_thread: this call was awaited already");
        task_ = TaskCore::running();
        EventLoop& loop = *task_->loop();
        Ref<Op> op(new Op(loop, std::move(call_), stoppable_), adopt_ref);
        // CPython's to_thread: `ctx = contextvars.copy_context()`, then `ctx.run(func)` there.
        op->set_context(capture_context());
        post_thread_call(loop, executor_, op.get());  // on failure, `op` frees it
        op->set_waiter(task_);
        op_ = op.detach();
        task_->suspend(h, this, site);
    }
    R await_resume() {
        task_->throw_if_cancelled();
        if (op_->discarded()) throw CancelledError();
        if (std::exception_ptr e = op_->error()) std::rethrow_exception(e);
        if constexpr (!std::is_void_v<R>) return op_->take();
    }
    CancelOutcome cancel_wait(const std::string&) override {
        op_->withdraw();
        return CancelOutcome::cancelled;
    }
    [[nodiscard]] std::string describe() const override { return "a call in another thread"; }

private:
    Call call_;
    concurrent::Executor* executor_;
    bool stoppable_;
    Op* op_ = nullptr;  // one reference
    TaskCore* task_ = nullptr;
};

}  // namespace detail

/// Runs `f(args...)` on a thread of the running loop's default executor, suspending the
/// awaiting task until it returns; the value or the exception comes back to the task. If
/// `f` takes a `std::stop_token` first, `f(token, args...)` is called, and the token is
/// stopped when the awaiting task is cancelled, so that blocking work can end early. `f`
/// runs in a copy of the awaiting task's context (taken when the await begins): it sees the
/// task's variables, and what it sets stays in the copy.
///
/// Python: `await asyncio.to_thread(func, /, *args)`
/// Cancellation: the await ends at once with CancelledError; a call that has not started
///   never runs; a running one is not interrupted (only its stop_token is stopped), and its
///   result is dropped when it returns.
/// Throws: what `f` throws; `RuntimeError` if the default executor was shut down;
///   `CancelledError` if the executor was shut down with `cancel_futures` before it ran.
/// Differs from CPython: the stop_token.
template <class F, class... A>
[[nodiscard]] auto to_thread(F&& f, A&&... args) {
    using Call = decltype(detail::bind_thread_call(std::forward<F>(f), std::forward<A>(args)...));
    return detail::ToThreadAwaiter<Call>(detail::bind_thread_call(std::forward<F>(f), std::forward<A>(args)...),
                                         detail::takes_stop_token_v<F, A...>, nullptr);
}

/// `to_thread` on the executor given, not the default one.
///
/// Differs from CPython: CPython has only `loop.run_in_executor(executor, ...)` for this.
template <class F, class... A>
[[nodiscard]] auto to_thread_on(concurrent::Executor& executor, F&& f, A&&... args) {
    using Call = decltype(detail::bind_thread_call(std::forward<F>(f), std::forward<A>(args)...));
    return detail::ToThreadAwaiter<Call>(detail::bind_thread_call(std::forward<F>(f), std::forward<A>(args)...),
                                         detail::takes_stop_token_v<F, A...>, &executor);
}

template <class F, class... A>
auto EventLoop::run_in_executor(concurrent::Executor* executor, F&& f, A&&... args) {
    check_open();
    auto call = detail::bind_thread_call(std::forward<F>(f), std::forward<A>(args)...);
    using Call = decltype(call);
    using R = detail::thread_call_result_t<Call>;
    using Op = detail::ThreadCall<R, Call>;
    Future<R> fut = create_future<R>();
    detail::Ref<Op> op(new Op(*this, std::move(call), detail::takes_stop_token_v<F, A...>), detail::adopt_ref);
    op->set_future(fut);
    // CPython's _chain_future: cancelling the asyncio future cancels the call (if it has not
    // started; a running call gets its stop request).
    fut.add_done_callback([op](const Future<R>& done) {
        if (done.cancelled()) op->withdraw();
    });
    detail::post_thread_call(*this, executor, op.get());
    return fut;
}

namespace detail {

// wrap_future: the concurrent future's end, brought home to an asyncio Future.
template <class T>
class WrapOp final : public RemoteOp {
public:
    WrapOp(EventLoop& loop, concurrent::Future<T> source, Future<T> dest)
        : RemoteOp(loop), source_(std::move(source)), dest_(std::move(dest)) {}

private:
    void complete() override {
        Future<T> dest = std::move(*dest_);
        dest_.reset();
        if (dest.done()) return;  // cancelled meanwhile (which cancelled the source too)
        if (source_.cancelled()) {
            dest.cancel();
        } else if (std::exception_ptr e = source_.exception()) {
            dest.set_exception(e);
        } else if constexpr (std::is_void_v<T>) {
            dest.set_result();
        } else {
            dest.set_result(source_.result());
        }
    }
    void let_go() noexcept override { dest_.reset(); }

    concurrent::Future<T> source_;   // a thread-safe handle
    std::optional<Future<T>> dest_;  // loop thread only
};

}  // namespace detail

/// An asyncio Future of the running loop that completes as `source` does, without blocking
/// the loop; cancelling it cancels `source`.
///
/// Python: `asyncio.wrap_future(future)`
/// Throws: `RuntimeError("no running event loop")`.
/// Differs from CPython: no `loop=` argument (the running loop); given an asyncio Future,
///   use it directly.
template <class T>
Future<T> wrap_future(concurrent::Future<T> source) {
    EventLoop& loop = get_running_loop();
    Future<T> dest = loop.create_future<T>();
    auto* op = new detail::WrapOp<T>(loop, source, dest);
    detail::Ref<detail::RemoteOp> hold(op, detail::adopt_ref);
    dest.add_done_callback([source](const Future<T>& d) {
        if (d.cancelled()) source.cancel();
    });
    // On the completing thread: send the op home. The callback's reference is atomic and
    // goes with the callback (run, or dropped with a source that never completes).
    source.add_done_callback([op = detail::Ref<detail::RemoteOp>(op)](const concurrent::Future<T>&) { op->post_home(); });
    return dest;
}

namespace detail {

// run_coroutine_threadsafe's first step, on the target loop: make the task and chain it to
// the concurrent future. If the loop closes before this runs, the future fails with
// RuntimeError instead of never completing (a hang in CPython).
template <class T>
class ScheduleCoro final : public HandleCore {
public:
    // CPython's call_soon_threadsafe copies the calling thread's context, and the task made in
    // the callback copies that: the coroutine sees the caller's variables.
    ScheduleCoro(EventLoop* loop, Coro<T> coro, concurrent::Future<T> cf)
        : HandleCore(loop), coro_(std::move(coro)), cf_(std::move(cf)), context_(capture_context()) {}
    ~ScheduleCoro() override {
        if (!ran_ && cf_.set_running_or_notify_cancel()) cf_.set_exception(RuntimeError("Event loop is closed"));
    }

private:
    void invoke() override;

    Coro<T> coro_;
    concurrent::Future<T> cf_;
    Ref<ContextImpl> context_;  // null: the caller's context held nothing
    bool ran_ = false;
};

// Brings a cancellation of the concurrent future home to the task; lets go of the task
// once the task is done.
template <class T>
class CancelTaskOp final : public RemoteOp {
public:
    CancelTaskOp(EventLoop& loop, Task<T> task) : RemoteOp(loop), task_(std::move(task)) {}
    void task_done() noexcept {
        task_ = {};
        let_go_early();  // nothing left to bring home: out of the loop's list now
    }

private:
    void complete() override {
        if (task_ && !task_.done()) task_.cancel();
        task_ = {};
    }
    void let_go() noexcept override { task_ = {}; }
    Task<T> task_;  // loop thread only
};

template <class T>
void ScheduleCoro<T>::invoke() {
    ran_ = true;
    EventLoop& loop = *this->loop();
    concurrent::Future<T> cf = cf_;
    Task<T> task = [&] {
        try {
            if (context_) return loop.create_task(std::move(coro_), {}, ContextAccess::make(context_));
            return loop.create_task(std::move(coro_));
        } catch (...) {
            if (cf.set_running_or_notify_cancel()) cf.set_exception(std::current_exception());
            throw;
        }
    }();
    auto* canceller = new CancelTaskOp<T>(loop, task);
    Ref<RemoteOp> hold(canceller, adopt_ref);
    task.add_done_callback([cf, canceller_ref = Ref<RemoteOp>(canceller)](const Task<T>& t) {
        static_cast<CancelTaskOp<T>*>(canceller_ref.get())->task_done();
        if (t.cancelled()) {  // CPython's _set_concurrent_future_state
            cf.cancel();
            return;
        }
        if (!cf.set_running_or_notify_cancel()) return;  // cancelled from outside
        if (std::exception_ptr e = t.exception()) {
            cf.set_exception(e);
        } else if constexpr (std::is_void_v<T>) {
            cf.set_result();
        } else {
            cf.set_result(t.result());
        }
    });
    // The concurrent future's callback holds the op (an atomic count), run or not.
    cf.add_done_callback([canceller = Ref<RemoteOp>(canceller)](const concurrent::Future<T>& f) {
        if (f.cancelled()) canceller->post_home();
    });
}

}  // namespace detail

/// Submits `coro` to `loop` from any thread and returns a concurrent future of its result:
/// the coroutine runs as a task of `loop`; cancelling the future cancels the task.
///
/// Python: `asyncio.run_coroutine_threadsafe(coro, loop)`
/// Throws: `RuntimeError("Event loop is closed")` at once if `loop` is closed.
/// Differs from CPython: `result()` of the future on `loop`'s own thread raises
///   `RuntimeError` instead of deadlocking; if `loop` closes before the task is made, the
///   future fails with `RuntimeError` instead of never completing.
template <class T>
concurrent::Future<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    auto cf = concurrent::Future<T>::create();
    detail::ConcurrentAccess::state(cf).set_completing_loop(&loop);
    detail::Ref<detail::HandleCore> h(new detail::ScheduleCoro<T>(&loop, std::move(coro), cf), detail::adopt_ref);
    detail::LoopAccess::enqueue_threadsafe(loop, h.get());
    return cf;
}

}  // namespace asyncio
