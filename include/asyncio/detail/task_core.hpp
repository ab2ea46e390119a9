// asyncio/detail/task_core.hpp: the untyped part of a task (CPython's Task minus its
// coroutine type): the step function with its resumption trampoline, and cancellation.
#pragma once

#include <asyncio/detail/future_core.hpp>
#include <asyncio/detail/visibility.hpp>
#include <asyncio/detail/waiter.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace asyncio::detail {

class TaskCore : public FutureCore {
public:
    // The largest task value kept inside the task state (see result_).
    static constexpr std::size_t inline_result_size = 16;

    TaskCore(EventLoop* loop, std::coroutine_handle<> root);
    ~TaskCore() override {
        if (root_) root_.destroy();
    }

    // Task.cancel(msg): counts the request, then interrupts the wait or marks the next step.
    bool cancel(const std::string& msg) override;

    // The loop runs one step: resume the innermost suspended coroutine and keep resuming
    // whatever it transfers to (a child Coro starting, or a parent after its child
    // finished) from this loop, never by nested calls, so a million synchronous awaits do
    // not grow the stack at -O0 or under ASan (g++ 12 has no tail call there, docs/design/toolchain.md).
    void run() override;

    // Puts the task on the ready queue for its next step. A no-op while the loop tears down.
    void wake() {
        if (!LoopAccess::closing(*loop_)) LoopAccess::ready(*loop_).push(this);
    }

    // The innermost coroutine `h` suspends, waiting on `w` (null: nothing to interrupt, as
    // for sleep(0)). A cancellation requested while the task ran is delivered now.
    void suspend(std::coroutine_handle<> h, Waiter* w) {
        wait_.resume_point = h.address();
        wait_.waiter = w;
        if (must_cancel() && w && w->cancel_wait(cancel_message())) set_flag(must_cancel_bit, false);
    }

    // Like suspend(), and before resuming, the step asks `w->wait_again()` (see Waiter).
    void suspend_rechecking(std::coroutine_handle<> h, Waiter* w) {
        set_flag(recheck_bit, true);
        suspend(h, w);
    }
    // Makes the next cancel() allocate nothing (it needs the extras): for cancellations that
    // come from the loop, as a Timeout's alarm does, where a std::bad_alloc has no caller.
    void reserve_cancel() { (void)extras(); }
    // A cancellation requested while the wait could not be interrupted, not yet delivered.
    [[nodiscard]] bool must_cancel() const noexcept { return flag(must_cancel_bit); }

    // Called by every awaiter as it resumes: throws CancelledError if the wait was cancelled
    // or a cancellation is pending (CPython throws it into the coroutine in __step).
    void throw_if_cancelled(bool wait_cancelled) {
        if (wait_cancelled || must_cancel()) {
            set_flag(must_cancel_bit, false);
            throw CancelledError(cancel_message());
        }
    }

    // Consumes a pending cancellation request (for waits that handle it themselves).
    bool take_must_cancel() noexcept {
        bool was = must_cancel();
        set_flag(must_cancel_bit, false);
        return was;
    }

    // The trampoline's register: set by an awaiter that transfers control (to a child Coro
    // starting, or back to a parent when a child finishes). One per thread, not per task:
    // only the running task's step reads it, and steps never nest.
    static void transfer_to(std::coroutine_handle<> h) noexcept { t_next = h; }
    // The task whose step is running on this thread (null between steps). Coroutines find
    // their task here instead of carrying a pointer in every frame.
    static TaskCore* running() noexcept { return t_running; }

    // The root coroutine ended with an exception: kept until the step ends and the task
    // completes with it (the state is still pending, so nobody can see it early).
    void set_root_exception(std::exception_ptr e) { store_exception(std::move(e)); }

    // The count lives with the extras: most tasks are never cancelled.
    [[nodiscard]] std::uint32_t cancelling() const { return has_extras() ? find_extras()->cancels : 0; }
    std::uint32_t uncancel() {
        if (!has_extras()) return 0;
        std::uint32_t& n = find_extras()->cancels;
        if (n > 0 && --n == 0) set_flag(must_cancel_bit, false);
        return n;
    }
    [[nodiscard]] std::string name() const;
    void set_name(std::string name) {
        if (name.empty()) name = "Task-" + std::to_string(id_);  // keep "named" distinct from "default"
        extras().name = std::move(name);
    }
    [[nodiscard]] std::string report_name() const override { return name(); }
    // The task's number ("Task-<id>"); ids grow on each thread and are never reused in the
    // process (Lock ownership relies on it).
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    // The id of the last task created on this thread (0: none yet).
    static std::uint64_t last_id() noexcept;

    // Loop teardown: destroy the frame without running it further and mark the task
    // cancelled; its done callbacks are discarded.
    void destroy_pending() noexcept;

protected:
    // Ends the task with the root frame's outcome (null: success).
    void finish_root(std::exception_ptr e) noexcept;
    // The root returned a value, which goes into result_ (TaskState): wait_ is dead from here.
    void mark_returned() noexcept { set_flag(returned_bit, true); }
    // Destroys the value the root returned (a task cancelled right before it stopped).
    virtual void discard_value() noexcept {}

    std::coroutine_handle<> root_;
    // While the task waits: the innermost suspended coroutine and what it waits on (null:
    // nothing to interrupt). Once the root returns, the same 16 bytes hold the task's value
    // (TaskState<T>, for a T that fits): a task needs the one or the other, never both.
    struct Wait {
        void* resume_point;  // a coroutine_handle's address
        Waiter* waiter;
    };
    union {
        Wait wait_;
        alignas(8) unsigned char result_[inline_result_size];
    };

private:
    ASYNCIO_SHARED_STATE static inline thread_local std::coroutine_handle<> t_next;
    ASYNCIO_SHARED_STATE static inline thread_local TaskCore* t_running = nullptr;

    // In FutureCore::task_flags_: a cancellation to deliver at the next suspension or
    // resumption; the first step has run; the cancel message is kept from the first request
    // until the task next runs, so that cancel("a"); cancel("b") delivers "a", as CPython's
    // future-carried message does.
    // recheck_bit: see suspend_rechecking(); returned_bit: see mark_returned().
    enum : std::uint8_t { must_cancel_bit = 1, started_bit = 2, message_locked_bit = 4, recheck_bit = 8, returned_bit = 16 };
    [[nodiscard]] bool flag(std::uint8_t bit) const noexcept { return (task_flags_ & bit) != 0; }
    void set_flag(std::uint8_t bit, bool on) noexcept {
        task_flags_ = static_cast<std::uint8_t>(on ? task_flags_ | bit : task_flags_ & ~bit);
    }

    std::uint64_t id_;
};

// Common base of every promise in the library (a tag: what a coroutine needs to know of its
// task is which task is running, TaskCore::running()).
struct PromiseBase {};

template <class P>
concept LibraryPromise = std::is_base_of_v<PromiseBase, P>;

// Helper for leaf awaiters: the task of the awaiting coroutine, which is the task running
// (a coroutine only runs inside its task's step, on its loop's thread).
template <class P>
TaskCore* task_of(std::coroutine_handle<P>) noexcept {
    static_assert(LibraryPromise<P>, "asyncio awaitables can only be awaited inside an asyncio::Coro");
    return TaskCore::running();
}

}  // namespace asyncio::detail
