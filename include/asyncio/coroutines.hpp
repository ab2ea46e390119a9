// asyncio/coroutines.hpp: Coro<T>, the return type of a coroutine function (`async def`).
// Mirrors Lib/asyncio/coroutines.py.
#pragma once

#include <asyncio/detail/frame_header.hpp>
#include <asyncio/detail/frame_pool.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/detail/visibility.hpp>
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
template <class T>
struct CoroPromise;

template <class T>
struct CoroLink : CoroLinkBase {
    std::exception_ptr exception;
    std::optional<T> value;
};
template <>
struct CoroLink<void> : CoroLinkBase {
    std::exception_ptr exception;
};

// A teardown in progress on this thread (destroy_suspended_frames): a destructor that throws
// while a suspended frame is destroyed sends the frame to unhandled_exception and then to its
// final suspend point, alive; the teardown destroys it again from there and reports the error.
struct FrameTeardown {
    std::coroutine_handle<> landed;  // the frame that stopped at its final suspend point
    std::exception_ptr error;
};
ASYNCIO_SHARED_STATE inline thread_local FrameTeardown* t_frame_teardown = nullptr;

// At the end of a Coro, hand control back to the awaiting coroutine through the task's
// trampoline; the root Coro of a task has no continuation, which ends the step.
struct CoroFinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        P& p = h.promise();
        if (p.link) {
            TaskCore::note_running_frame(p.link->continuation.address());
            TaskCore::transfer_to(p.link->continuation);
        } else {
            TaskCore::transfer_to({});  // the root: the step ends
        }
    }
    void await_resume() noexcept {}
};

// Frames come from the per-thread pool (detail/frame_pool.hpp).
template <class T>
struct CoroPromiseCommon : CoroFrameHeader, PromiseBase, PoolAllocated {
    CoroLink<T>* typed_link() const noexcept { return static_cast<CoroLink<T>*>(link); }

    // (No site argument here: g++ keeps the temporaries of the initial suspend's expression
    // in the frame, 24 bytes more in every frame; get_return_object takes it instead.)
    std::suspend_always initial_suspend() noexcept { return {}; }
    CoroFinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept {
        if (FrameTeardown* teardown = t_frame_teardown) [[unlikely]] {
            // A local's destructor threw while the teardown destroyed this suspended frame.
            teardown->landed = std::coroutine_handle<CoroPromise<T>>::from_promise(static_cast<CoroPromise<T>&>(*this));
            teardown->error = std::current_exception();
        } else if (link) {
            typed_link()->exception = std::current_exception();
        } else {
            TaskCore::running()->set_root_exception(std::current_exception());
        }
    }
};

template <class T>
struct CoroPromise : CoroPromiseCommon<T> {
    // Notes the coroutine's own place (its default argument's, which g++ gives as the
    // function and its closing brace) as where the frame stands until its first suspension.
    Coro<T> get_return_object(SourceSite site = ASYNCIO_SOURCE_SITE) noexcept;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) {
        if (this->link)
            this->typed_link()->value.emplace(std::forward<U>(v));
        else
            static_cast<TaskState<T>*>(TaskCore::running())->set_value(std::forward<U>(v));
    }
};

template <>
struct CoroPromise<void> : CoroPromiseCommon<void> {
    Coro<void> get_return_object(SourceSite site = ASYNCIO_SOURCE_SITE) noexcept;
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
        return sizeof(T) <= TaskCore::inline_result_size && alignof(T) <= 8;  // NOLINT(misc-redundant-expression): clang-tidy 14 compares the two results of an instantiation, both true
}

template <class T>
class TaskState final : public TaskCore {
    static constexpr bool value_inside = fits_in_task<T>();

public:
    using Root = std::coroutine_handle<CoroPromise<T>>;
    TaskState(EventLoop* loop, Root root) : TaskCore(loop, root) {}
    TaskState(EventLoop* loop, Root root, ContextImpl* context) : TaskCore(loop, root, context) {}
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
    explicit CoroAwaiter(Handle h) noexcept { link_.frame = h; }
    CoroAwaiter(const CoroAwaiter&) = delete;
    CoroAwaiter& operator=(const CoroAwaiter&) = delete;
    ~CoroAwaiter() {
        // Frees the frame and its arguments as soon as the await ends. (A task's teardown
        // destroys the frame itself and clears link_.frame first: no recursion.)
        if (link_.frame) link_.frame.destroy();
    }

    bool await_ready() const {
        if (!link_.frame) throw RuntimeError("cannot reuse already awaited coroutine");
        return false;
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> parent, SourceSite site = ASYNCIO_SOURCE_SITE) noexcept {
        static_assert(LibraryPromise<P>, "a Coro can only be awaited inside another asyncio::Coro");
        parent.promise().where = site;
        Handle h = Handle::from_address(link_.frame.address());
        h.promise().link = &link_;
        link_.continuation = parent;
        TaskCore::note_running_frame(h.address());
        TaskCore::transfer_to(h);
    }
    T await_resume() {
        if (link_.exception) std::rethrow_exception(std::move(link_.exception));
        if constexpr (!std::is_void_v<T>) return std::move(*link_.value);
    }

private:
    CoroLink<T> link_;
};

// Debug mode's "coroutine ... was never awaited" for a Coro destroyed before it ran: through
// the running loop's exception handler if the loop is in debug mode, else nothing
// (src/debug_mode.cpp).
void report_never_awaited(void* frame) noexcept;

// frame_header() (detail/frame_header.hpp) finds the header at the promise's offset in any Coro frame.
static_assert(alignof(CoroPromise<void>) == alignof(CoroFrameHeader) && alignof(CoroPromise<int>) == alignof(CoroFrameHeader));

// Destroys a task's suspended chain of Coro frames, innermost first: `innermost` is where
// the task would resume, and each frame's link names the frame awaiting it, up to the root
// (no link). Each parent's awaiter is told first that its child is gone, so no destructor
// destroys another frame: a chain a million deep is torn down without recursion. The order
// is the one a recursive destruction would have (a frame's pending await is the first thing
// its destruction ends). An exception thrown by a destructor in a frame goes to
// `on_error(std::exception_ptr)` and the teardown goes on.
template <class OnError>
void destroy_suspended_frames(void* innermost, OnError&& on_error) noexcept {
    FrameTeardown teardown;
    FrameTeardown* outer = std::exchange(t_frame_teardown, &teardown);
    for (void* frame = innermost; frame;) {
        void* parent = nullptr;
        if (CoroLinkBase* link = frame_header(frame).link) {
            parent = link->continuation.address();
            link->frame = {};
        }
        std::coroutine_handle<> h = std::coroutine_handle<>::from_address(frame);
        for (int pass = 0; pass < 2 && h; ++pass) {
            try {
                h.destroy();
            } catch (...) {  // from a destructor run after the final suspend point (an argument's)
                on_error(std::current_exception());
            }
            h = std::exchange(teardown.landed, {});
            if (teardown.error) on_error(std::exchange(teardown.error, {}));
        }
        frame = parent;
    }
    TaskCore::transfer_to({});  // a frame that reached its final suspend point set it
    t_frame_teardown = outer;
}

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
    /// What makes a function returning `Coro<T>` a coroutine (the compiler uses it; not for
    /// direct use).
    using promise_type = detail::CoroPromise<T>;
    /// What awaiting the Coro gives: the coroutine's `co_return` value.
    using value_type = T;

    /// An empty Coro; awaiting it raises RuntimeError.
    Coro() noexcept = default;
    /// Takes over `o`'s coroutine; `o` is left empty. A Coro is not copied: it runs once.
    Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    /// Destroys the coroutine held, if any, without running it, and takes over `o`'s.
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            if (h_) [[unlikely]]
                destroy_unawaited();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    /// Destroys the coroutine if it was never awaited nor scheduled; in debug mode
    /// (`loop.set_debug`) the running loop reports it: `coroutine 'f(int)' (main.cpp:12)
    /// was never awaited`.
    ~Coro() {
        if (h_) [[unlikely]]
            destroy_unawaited();
    }

    /// Whether the Coro still holds a coroutine that has not been awaited or scheduled.
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(h_); }

    /// Runs the coroutine in the awaiting task until it returns; gives its value or rethrows
    /// its exception.
    ///
    /// Python: `await coro`
    detail::CoroAwaiter<T> operator co_await() && noexcept { return detail::CoroAwaiter<T>(std::exchange(h_, {})); }
    /// The same for a named Coro (`co_await c;`), which is left empty.
    detail::CoroAwaiter<T> operator co_await() & noexcept { return detail::CoroAwaiter<T>(std::exchange(h_, {})); }

private:
    friend struct detail::CoroPromise<T>;
    friend struct detail::CoroAccess;
    explicit Coro(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    void destroy_unawaited() noexcept {
        detail::report_never_awaited(h_.address());
        h_.destroy();
    }

    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
Coro<T> CoroPromise<T>::get_return_object(SourceSite site) noexcept {
    this->where = site;
    return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object(SourceSite site) noexcept {
    this->where = site;
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
/// A `Coro<T>` is a coroutine.
template <class T>
inline constexpr bool iscoroutine<Coro<T>> = true;

}  // namespace asyncio
