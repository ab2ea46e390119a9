// asyncio/coroutines.hpp: Coro<T>, the return type of a coroutine function (`async def`).
// Mirrors Lib/asyncio/coroutines.py.
#pragma once

#include <asyncio/detail/frame_pool.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/exceptions.hpp>

#include <coroutine>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace asyncio {

template <class T = void>
class Coro;

namespace detail {

struct CoroAccess;

template <class T>
class TaskState;

// Where an inline-awaited Coro leaves its outcome and whom it resumes: part of the awaiting
// frame's CoroAwaiter, so the child frame carries only two pointers of bookkeeping (the
// frame of `Coro<int> f(int i) { co_return i; }` is 48 bytes). A task's root has no link:
// its outcome goes straight into the running task.
template <class T>
struct CoroLink {
    std::coroutine_handle<> continuation;
    std::exception_ptr exception;
    std::optional<T> value;
};
template <>
struct CoroLink<void> {
    std::coroutine_handle<> continuation;
    std::exception_ptr exception;
};

// At the end of a Coro, hand control back to the awaiting coroutine through the task's
// trampoline; the root Coro of a task has no continuation, which ends the step.
struct CoroFinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        P& p = h.promise();
        TaskCore::transfer_to(p.link ? p.link->continuation : std::coroutine_handle<>());
    }
    void await_resume() noexcept {}
};

// Frames come from the per-thread pool (detail/frame_pool.hpp).
template <class T>
struct CoroPromiseCommon : PromiseBase, PoolAllocated {
    CoroLink<T>* link = nullptr;  // null: the root of a task (or not started yet)

    std::suspend_always initial_suspend() noexcept { return {}; }
    CoroFinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept {
        if (link)
            link->exception = std::current_exception();
        else
            TaskCore::running()->set_root_exception(std::current_exception());
    }
};

template <class T>
struct CoroPromise : CoroPromiseCommon<T> {
    Coro<T> get_return_object() noexcept;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) {
        if (this->link)
            this->link->value.emplace(std::forward<U>(v));
        else
            static_cast<TaskState<T>*>(TaskCore::running())->set_value(std::forward<U>(v));
    }
};

template <>
struct CoroPromise<void> : CoroPromiseCommon<void> {
    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
};

// The state of a task whose root coroutine returns T: the untyped TaskCore and the value,
// which lives in TaskCore's 16 bytes that hold the wait while the task runs if it fits there
// (most results do: numbers, pointers, handles, a std::unique_ptr), else beside them.
template <class T>
constexpr bool fits_in_task() {
    if constexpr (std::is_void_v<T>)
        return true;
    else
        return sizeof(T) <= TaskCore::inline_result_size && alignof(T) <= 8;
}

template <class T>
class TaskState final : public TaskCore {
    static constexpr bool value_inside = fits_in_task<T>();

public:
    using Root = std::coroutine_handle<CoroPromise<T>>;
    TaskState(EventLoop* loop, Root root) : TaskCore(loop, root) {}
    TaskState(const TaskState&) = delete;
    TaskState& operator=(const TaskState&) = delete;
    ~TaskState() override {
        if constexpr (!std::is_void_v<T>)
            if (has_value()) std::destroy_at(value_ptr());
    }

    // The root's `co_return v`.
    template <class U>
    void set_value(U&& v) {
        mark_returned();
        if constexpr (value_inside)
            std::construct_at(reinterpret_cast<T*>(result_), std::forward<U>(v));
        else
            slot_.set(std::forward<U>(v));
    }
    // Precondition: has_value() (see copy_or_move).
    T value() {
        if constexpr (!std::is_void_v<T>) return copy_or_move(*value_ptr());
    }

private:
    void discard_value() noexcept override {
        if constexpr (!std::is_void_v<T>) std::destroy_at(value_ptr());
    }
    T* value_ptr() noexcept {
        if constexpr (value_inside)
            return std::launder(reinterpret_cast<T*>(result_));
        else
            return &slot_.value;
    }
    struct Nothing {};
    [[no_unique_address]] std::conditional_t<value_inside, Nothing, ResultSlot<T>> slot_;
};

// Awaiting a Coro: start it inline in the awaiting task, through the trampoline.
template <class T>
class CoroAwaiter {
public:
    using Handle = std::coroutine_handle<CoroPromise<T>>;
    explicit CoroAwaiter(Handle h) noexcept : h_(h) {}
    CoroAwaiter(const CoroAwaiter&) = delete;
    CoroAwaiter& operator=(const CoroAwaiter&) = delete;
    ~CoroAwaiter() {
        if (h_) h_.destroy();  // frees the frame and its arguments as soon as the await ends
    }

    bool await_ready() const {
        if (!h_) throw RuntimeError("cannot reuse already awaited coroutine");
        return false;
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> parent) noexcept {
        static_assert(LibraryPromise<P>, "a Coro can only be awaited inside another asyncio::Coro");
        h_.promise().link = &link_;
        link_.continuation = parent;
        TaskCore::transfer_to(h_);
    }
    T await_resume() {
        if (link_.exception) std::rethrow_exception(std::move(link_.exception));
        if constexpr (!std::is_void_v<T>) return std::move(*link_.value);
    }

private:
    Handle h_;
    CoroLink<T> link_;
};

}  // namespace detail

/// The result of calling a coroutine function: a lazy, move-only coroutine that runs when
/// it is awaited (inline, in the awaiting task) or wrapped in a task.
///
/// Python: a coroutine object, what `async def f()` returns when called.
/// Throws: awaiting it a second time (or after `create_task` took it) raises
///   `RuntimeError("cannot reuse already awaited coroutine")`, as CPython does.
/// Cancellation: a cancelled awaiting task cancels whatever the Coro awaits; the frame and
///   its arguments are destroyed when the await ends, however it ends.
/// Differs from CPython: `[[nodiscard]]` makes a forgotten await a compiler warning instead
///   of a "never awaited" RuntimeWarning (docs/differences.md).
template <class T>
class [[nodiscard]] Coro {
public:
    using promise_type = detail::CoroPromise<T>;
    using value_type = T;

    /// An empty Coro; awaiting it raises RuntimeError.
    Coro() noexcept = default;
    Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            if (h_) h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~Coro() {
        if (h_) h_.destroy();
    }

    /// Whether the Coro still holds a coroutine that has not been awaited or scheduled.
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(h_); }

    detail::CoroAwaiter<T> operator co_await() && noexcept { return detail::CoroAwaiter<T>(std::exchange(h_, {})); }
    detail::CoroAwaiter<T> operator co_await() & noexcept { return detail::CoroAwaiter<T>(std::exchange(h_, {})); }

private:
    friend struct detail::CoroPromise<T>;
    friend struct detail::CoroAccess;
    explicit Coro(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}

    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
Coro<T> CoroPromise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<CoroPromise<void>>::from_promise(*this));
}

struct CoroAccess {
    template <class T>
    static std::coroutine_handle<CoroPromise<T>> release(Coro<T>& c) noexcept {
        return std::exchange(c.h_, {});
    }
};

}  // namespace detail

/// True for `Coro<T>`.
///
/// Python: `asyncio.iscoroutine(obj)` (a compile-time trait here)
template <class T>
inline constexpr bool iscoroutine = false;
template <class T>
inline constexpr bool iscoroutine<Coro<T>> = true;

}  // namespace asyncio
