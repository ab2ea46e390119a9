// asyncio/taskgroups.hpp: TaskGroup. Mirrors Lib/asyncio/taskgroups.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/wait_point.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/tasks.hpp>

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

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
/// Differs from CPython: a scoped form (C++ has no async destructors, DESIGN §4): the body
///   is a coroutine lambda that receives the group. With g++ 12, a body lambda that captures
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
    static Coro<typename std::invoke_result_t<F&, TaskGroup&>::value_type> run(F body);

    /// Starts `coro` as a child task of the group.
    ///
    /// Python: `tg.create_task(coro, *, name=None)`
    /// Throws: `RuntimeError` once the group is shutting down or finished.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {}) {
        check_can_create();
        Task<T> task = loop_->create_task(std::move(coro), std::move(name));
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
    TaskGroup();
    void enter();
    Coro<void> exit(std::exception_ptr error);
    void check_can_create() const;
    void adopt(const AnyTask& task);
    void on_task_done(Child* child);
    void abort();

    EventLoop* loop_ = nullptr;
    detail::TaskCore* parent_ = nullptr;
    Child* children_ = nullptr;  // unfinished children, an intrusive list
    std::size_t n_children_ = 0;
    std::vector<std::exception_ptr> errors_;
    std::exception_ptr base_error_;
    detail::WaitPoint on_completed_;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
};

template <class F>
Coro<typename std::invoke_result_t<F&, TaskGroup&>::value_type> TaskGroup::run(F body) {
    using T = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
    TaskGroup tg;
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
