// asyncio/concurrent/thread_pool.hpp: Executor and ThreadPoolExecutor. Mirrors
// Lib/concurrent/futures/thread.py; the loop's default executor (run_in_executor, to_thread)
// is one of these.
#pragma once

#include <asyncio/concurrent/future.hpp>
#include <asyncio/exceptions.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace asyncio {
namespace detail {

// One piece of work queued on an executor: run_job() on a worker thread, or cancel_job() if it never
// will run (shutdown with cancel_futures). Either ends the executor's part in the job.
struct ExecutorJob {
    virtual void run_job() noexcept = 0;
    virtual void cancel_job() noexcept = 0;
    ExecutorJob* job_next = nullptr;  // the executor's queue

protected:
    ~ExecutorJob() = default;
};

// Called by a job on a ThreadPoolExecutor's worker when its work is done and only the hand-
// over is left (ThreadCall, before it posts home): the worker counts as idle from here, so
// that the next job submitted in answer to this one reuses it instead of starting a thread.
// A no-op on other threads.
void executor_job_finishing() noexcept;

// `f(args...)` as one callable, the arguments decayed and kept.
template <class F, class... A>
auto bind_call(F&& f, A&&... args) {
    return [f = std::decay_t<F>(std::forward<F>(f)),
            args = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable -> decltype(auto) {
        return std::apply(f, std::move(args));
    };
}

// submit(): runs the call on a worker and completes a concurrent future with its outcome.
template <class R, class Call>
class SubmittedJob final : public ExecutorJob {
public:
    SubmittedJob(Call call, std::shared_ptr<ConcurrentState<R>> state) : call_(std::move(call)), state_(std::move(state)) {}
    void run_job() noexcept override {
        if (state_->set_running_or_notify_cancel()) {
            try {
                if constexpr (std::is_void_v<R>) {
                    call_();
                    state_->set_result();
                } else {
                    state_->set_result(call_());
                }
            } catch (...) {
                state_->set_exception(std::current_exception());
            }
        }
        delete this;
    }
    void cancel_job() noexcept override {
        state_->cancel();
        delete this;
    }

private:
    Call call_;
    std::shared_ptr<ConcurrentState<R>> state_;
};

}  // namespace detail

namespace concurrent {

/// Runs callables on other threads and hands back concurrent futures.
///
/// Python: `concurrent.futures.Executor`
/// Differs from CPython: no `map()`; an executor of your own implements `post()` (the one
///   door every submission goes through) and `do_shutdown()`.
class Executor {
public:
    virtual ~Executor() = default;

    /// Schedules `f(args...)` and returns a future of its result.
    ///
    /// Python: `executor.submit(fn, /, *args)`
    /// Throws: `RuntimeError("cannot schedule new futures after shutdown")`.
    template <class F, class... A>
    auto submit(F&& f, A&&... args) {
        auto call = detail::bind_call(std::forward<F>(f), std::forward<A>(args)...);
        using R = std::decay_t<decltype(call())>;
        auto fut = Future<R>::create();
        auto* job = new detail::SubmittedJob<R, decltype(call)>(std::move(call), detail::ConcurrentAccess::shared(fut));
        try {
            post(job);
        } catch (...) {
            delete job;
            throw;
        }
        return fut;
    }

    /// Stops taking work; with `wait`, blocks until the queued work is done and the threads
    /// have ended; with `cancel_futures`, cancels the work that has not started.
    ///
    /// Python: `executor.shutdown(wait=True, *, cancel_futures=False)`
    /// Differs from CPython: an executor of your own implements it as `do_shutdown`.
    void shutdown(bool wait = true, bool cancel_futures = false) { do_shutdown(wait, cancel_futures); }

    /// Queues `job` (run_job() on a worker thread, or cancel_job() if shutdown cancels it); the job
    /// must not be touched by the caller after this returns.
    ///
    /// Differs from CPython: the library's own door, with no future in between, used by
    ///   `submit`, `run_in_executor` and `to_thread`.
    /// Throws: `RuntimeError` after `shutdown()`, with the job still the caller's.
    virtual void post(detail::ExecutorJob* job) = 0;

protected:
    /// What `shutdown(wait, cancel_futures)` does (a virtual function takes no default
    /// arguments).
    virtual void do_shutdown(bool wait, bool cancel_futures) = 0;
};

/// An executor with a pool of up to `max_workers` threads, started one by one as work comes
/// while no thread is idle; named `<prefix>_<n>` for `top` and gdb.
///
/// Python: ``concurrent.futures.ThreadPoolExecutor(max_workers=None, thread_name_prefix='')``
/// Differs from CPython: the threads block every signal, so that signals reach the thread
///   that runs the event loop (`add_signal_handler`, Ctrl-C); the destructor is the exit of
///   `with ThreadPoolExecutor() as ex:` (it shuts down and waits). Thread names are cut to
///   15 bytes, Linux's limit. No `initializer`.
class ThreadPoolExecutor final : public Executor {
public:
    /// `max_workers` 0 means CPython's default, `min(32, cores + 4)`.
    ///
    /// Throws: `ValueError("max_workers must be greater than 0")` for a negative count.
    explicit ThreadPoolExecutor(long max_workers = 0, std::string thread_name_prefix = {});
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
    /// `shutdown(wait=true)`, unless `shutdown(wait=false)` was called: then the threads
    /// finish the work queued and end on their own, and the destructor does not wait.
    ~ThreadPoolExecutor() override;

    /// Python: `executor._max_workers`
    [[nodiscard]] std::size_t max_workers() const noexcept;
    /// The threads started so far and not yet ended.
    [[nodiscard]] std::size_t thread_count() const;

    void post(detail::ExecutorJob* job) override;

    /// Like `shutdown(wait=true)`, but gives up waiting after `timeout`; true if every thread
    /// ended. The threads still running then finish their work and end on their own (they
    /// hold the pool's state, not the executor).
    ///
    /// Differs from CPython: no counterpart; CPython's bounded join is
    ///   `loop.shutdown_default_executor(timeout)` for the loop's executor only.
    bool shutdown_and_wait_for(std::chrono::steady_clock::duration timeout);

    struct Shared;  // src/thread_pool.cpp

protected:
    void do_shutdown(bool wait, bool cancel_futures) override;

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace concurrent

}  // namespace asyncio
