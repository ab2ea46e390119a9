// asyncio/taskgroups.hpp: TaskGroup. Mirrors Lib/asyncio/taskgroups.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/wait_point.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/tasks.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

class TaskGroup;

namespace detail {
// What TaskGroup::run() takes: a callable of a TaskGroup& that returns a Coro.
template <class F>
concept TaskGroupBody = std::is_invocable_v<F&, TaskGroup&> && iscoroutine<std::invoke_result_t<F&, TaskGroup&>>;
}  // namespace detail

/// A scope of tasks: every task created in it has finished when the scope ends; the first
/// failure cancels the others and the body, and all failures are raised together.
///
/// Python:
///   async with asyncio.TaskGroup() as tg:
///       t1 = tg.create_task(one())
///       t2 = tg.create_task(two())
/// C++:
///   co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
///       t1 = tg.create_task(one());
///       t2 = tg.create_task(two());
///       co_return;
///   });
/// Throws: `ExceptionGroup("unhandled errors in a TaskGroup", ...)` with every error of the
///   children and the body except cancellations; `KeyboardInterrupt` alone if one occurred.
/// Cancellation: if the task running the group is cancelled, the children are cancelled and
///   awaited, then `CancelledError` (not a group) propagates. `cancel()` (3.15) ends the
///   group early without an error.
/// Differs from CPython: a scoped form (C++ has no async destructors, docs/python-to-cpp.md):
///   the body is a coroutine lambda that receives the group. The group outlives the scope
///   for as long as a task created while it was open is still pending, so that such a task
///   (a free task that captured `&tg`) gets CPython's `RuntimeError("TaskGroup is
///   finished")` instead of touching freed memory; a reference kept anywhere else (a
///   callback, a Coro not yet started) must not be used after `run()` returned. With g++ 12, a body lambda that captures
///   by value an object with a destructor must be named before the `co_await` (a compiler
///   bug destroys such temporaries twice); `[&]` captures are safe.
/// Example: examples/tutorial/07_taskgroup.cpp
class TaskGroup {
public:
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    /// Runs `body(group)` in the current task, then waits for every child; returns the
    /// body's result.
    template <class F>
        requires(detail::TaskGroupBody<F>)
    static Coro<typename std::invoke_result_t<F&, TaskGroup&>::value_type> run(F body);
    /// A body that does not return a Coro (a lambda without `-> asyncio::Coro<>`).
    template <class F>
        requires(!detail::TaskGroupBody<F>)
    static auto run(F) {
        static_assert(detail::misuse<F>,
                      "TaskGroup::run() takes a callable (TaskGroup&) -> Coro<T>: write the lambda as [](asyncio::TaskGroup& tg) -> asyncio::Coro<> { ... co_return; }");
    }

    /// Starts `coro` as a child task of the group. In debug mode the task records the place
    /// of this call (`where`) for the reports about it.
    ///
    /// Python: `tg.create_task(coro, *, name=None)`
    /// Throws: `RuntimeError` once the group is shutting down or finished.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {}, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
        try {
            check_can_create();
        } catch (...) {
            detail::CoroAccess::release(coro).destroy();  // closed quietly, as CPython's coro.close() there
            throw;
        }
        Task<T> task = loop_->create_task(std::move(coro), std::move(name), where);
        adopt(task);
        return task;
    }
    /// Starts `coro` as a child task that runs in `context` itself (what it sets is in
    /// `context` afterwards); an empty `name` gives the default one.
    ///
    /// Python: `tg.create_task(coro, name=name, context=context)`
    /// Throws: `RuntimeError` once the group is shutting down or finished.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name, Context context, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
        check_can_create();
        Task<T> task = loop_->create_task(std::move(coro), std::move(name), std::move(context), where);
        adopt(task);
        return task;
    }
    /// Starts one of the library's other awaitables (`asyncio::sleep(1)`, `q.get()`) as a
    /// child task.
    ///
    /// Python: `tg.create_task(asyncio.sleep(1))`
    template <detail::PlainAwaitable Aw>
    auto create_task(Aw aw, detail::SourceSite where = ASYNCIO_SOURCE_SITE) {
        check_can_create();
        auto task = loop_->create_task(std::move(aw), where);
        adopt(task);
        return task;
    }
    /// Runs `f(args...)` as a child task, keeping the callable and copies of the arguments
    /// alive in the task (see asyncio::create_task(f, args...)).
    ///
    /// Python: `tg.create_task(f(*args))`
    template <class F, class... A>
        requires detail::CoroutineCallable<F, A...>
    auto create_task(F&& f, A&&... args) {
        check_can_create();
        auto task = loop_->create_task(std::forward<F>(f), std::forward<A>(args)...);
        adopt(task);
        return task;
    }

    /// Cancels the children and the body; the group then ends without raising
    /// CancelledError (errors of children still raise the group).
    ///
    /// Python: `tg.cancel()` (3.15)
    void cancel();

private:
    struct Child;
    struct KeepAlive;
    // run()'s reference to the group, which lives on the heap (see Differs above).
    struct Scope {
        TaskGroup* group;
        Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;
        ~Scope();
    };
    TaskGroup();
    void release() noexcept;
    void keep_alive_for_late_tasks() noexcept;
    void enter();
    Coro<void> exit(std::exception_ptr error);
    void check_can_create() const;
    void adopt(const AnyTask& task);
    void on_task_done(Child* child);
    void abort();

    EventLoop* loop_ = nullptr;
    detail::TaskCore* parent_ = nullptr;
    std::uint64_t opened_after_ = 0;  // tasks with a higher id were created while it was open
    std::uint32_t refs_ = 1;
    Child* children_ = nullptr;  // unfinished children, an intrusive list
    std::size_t n_children_ = 0;
    std::vector<std::exception_ptr> errors_;
    std::exception_ptr base_error_;
    detail::WaitPoint on_completed_{"its TaskGroup's tasks"};
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
};

template <class F>
    requires(detail::TaskGroupBody<F>)
Coro<typename std::invoke_result_t<F&, TaskGroup&>::value_type> TaskGroup::run(F body) {
    using T = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
    Scope scope;
    TaskGroup& tg = *scope.group;
    tg.enter();
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await body(tg);
            result.emplace(true);
        } else {
            result.emplace(co_await body(tg));
        }
    } catch (...) {
        error = std::current_exception();
    }
    co_await tg.exit(std::move(error));
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

}  // namespace asyncio
