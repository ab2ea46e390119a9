// asyncio/detail/task_core.hpp: the task, in one place (CPython's Task minus its coroutine
// type; its behaviour is src/task_core.cpp, the long version docs/design/tasks.md).
//
// A task is its root coroutine's frame plus this state, both from the frame pool, under the
// handles of tasks.hpp. The layers follow CPython's Future <- Task: FutureCore (the future:
// state, references, done callbacks), TaskCore (this: the root, the wait, the step,
// cancellation), TaskState<T> (coroutines.hpp, next to the promise that fills it: the value).
//
// States. FutureCore::State is pending -> finished | cancelled, once. Inside pending:
//
//     created --wake--> queued --run()--> running --suspend(h, waiter)--> suspended
//                         ^                  |                               |
//                         |                  +--root returns or throws--> done (finish_root)
//                         +--------------------------- wake() ------------------+
//
//   queued     on the ready queue, at most once at a time (the loop's FIFO of steps);
//   running    TaskCore::running() == this; the step resumes coroutines through the
//              trampoline until one suspends or the root ends (run());
//   suspended  wait_ = {the innermost coroutine, what it waits on}: the suspension
//              protocol of detail/waiter.hpp (suspend, wake, cancel_wait, resume).
//
// Flags (task_flags_, in FutureCore's padding): must_cancel (a request to deliver when the
// task resumes or next suspends: CPython's _must_cancel), wait_cancelled (the wait was
// withdrawn for a request), started (the body has begun), message_locked (the first
// request's message wins until the task runs), recheck (ask wait_again() before resuming),
// returned (the 16 wait bytes now hold the value). FutureCore's has_context: id_ points to
// a TaskContextLink.
//
// Invariants:
//   1. Touched only on its loop's thread: counts and flags are plain integers.
//   2. Steps never nest: one running task per thread, or none.
//   3. From creation until done the loop holds one reference and the task holds one slot
//      of the ready queue (ReadyQueue::reserve): a wake-up never needs memory.
//   4. Suspended, the task is woken exactly once: by what ends the wait, or by the core
//      when cancel_wait answers `cancelled` (never both: the awaiter withdrew first).
//   5. wait_ is alive while `returned` is clear, result_ once it is set.
//   6. A done task has no root frame; its state lives as long as handles do.
//   7. Every future and task is in its loop's list (prev_in_loop) until destroyed or the
//      loop goes (then loop() is null).
//
// Layout (80 bytes for every T of at most 16 bytes, pinned by tests/sizes_test.cpp): vtable
// pointer 8, FutureCore's list links 16, loop 8, references 4, state and flags 4, the
// done-callback list 8; then root_ 8, the wait or the value 16 (a union), id_ 8. A task that
// has a context (contextvars, docs/design/contextvars.md) keeps its id and the context in a
// 16-byte TaskContextLink instead, and id_'s 8 bytes point to it (has_context()).
#pragma once

#include <asyncio/detail/frame_header.hpp>
#include <asyncio/detail/future_core.hpp>
#include <asyncio/detail/visibility.hpp>
#include <asyncio/detail/waiter.hpp>

#include <asyncio/contextvars.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace asyncio::detail {

// The context of a task that has one, and the id it moved out of the task to make room
// (TaskCore::has_context()): from the frame pool, 16 bytes, made when the task is created
// under a context that holds variables (or given one), or when it first sets one.
struct TaskContextLink : PoolAllocated {
    std::uint64_t id;
    ContextImpl* context;  // one reference
};

class TaskCore : public FutureCore {
public:
    // The largest task value kept inside the task state (see result_).
    static constexpr std::size_t inline_result_size = 16;

    // A task in a copy of the current context (none, if that holds no variable), as
    // CPython's Task(context=None) does.
    TaskCore(EventLoop* loop, std::coroutine_handle<> root);
    // A task in `context` itself (CPython's context= argument): what its steps set stays there.
    TaskCore(EventLoop* loop, std::coroutine_handle<> root, ContextImpl* context);
    ~TaskCore() override {
        if (root_) root_.destroy();
        if (has_context()) drop_context();
    }

    // Task.cancel(msg): counts the request, then interrupts the wait or marks the next step.
    bool cancel(const std::string& msg) override;

    // The loop runs one step: resume the innermost suspended coroutine and keep resuming
    // whatever it transfers to (a child Coro starting, or a parent after its child
    // finished) from this loop, never by nested calls, so a million synchronous awaits do
    // not grow the stack at -O0 or under ASan (g++ 12 has no tail call there, docs/design/toolchain.md).
    // A task with a context runs the step with it entered (run_in_context); one without
    // runs it as it is, in the null context the loop keeps between steps.
    void run() override;
    [[nodiscard]] TaskCore* as_task() noexcept override { return this; }

    // The task's context, or null: it has none yet, and runs in an empty one.
    [[nodiscard]] ContextImpl* context() const noexcept { return has_context() ? link_->context : nullptr; }
    // Task.get_context(): the task's context, made now (empty) if it has none; if the task
    // is running, it is entered as its step's context would have been.
    Ref<ContextImpl> get_context();
    // Makes `c` the context of this task, which has none (one more reference).
    void adopt_context(ContextImpl* c);

    // Puts the task on the ready queue for its next step. A no-op while the loop tears down.
    void wake() {
        if (!LoopAccess::closing(*loop_)) LoopAccess::ready(*loop_).push(this);
    }

    // Step 1 of the suspension protocol (detail/waiter.hpp): the innermost coroutine `h`
    // suspends, waiting on `w` (null: nothing to interrupt, as for sleep(0)), in the co_await
    // at `site` (the awaiter's await_suspend default argument, for the await graph). A
    // cancellation requested while the task ran is offered to the wait now.
    void suspend(std::coroutine_handle<> h, Waiter* w, SourceSite site) {
        frame_header(h.address()).where = site;
        wait_.resume_point = h.address();
        wait_.waiter = w;
        if (must_cancel() && w) [[unlikely]]
            offer_pending_cancel(*w);
    }

    // Like suspend(), and before resuming, the step asks `w->wait_again()` (see Waiter).
    void suspend_rechecking(std::coroutine_handle<> h, Waiter* w, SourceSite site) {
        set_flag(recheck_bit, true);
        suspend(h, w, site);
    }
    // Makes the next cancel() allocate nothing (it needs the extras): for cancellations that
    // come from the loop, as a Timeout's alarm does, where a std::bad_alloc has no caller.
    void reserve_cancel() { (void)extras(); }
    // What the task waits on while it is suspended (null: nothing to interrupt, or not
    // suspended), for reports.
    [[nodiscard]] const Waiter* waiting_on() const noexcept { return flag(returned_bit) ? nullptr : wait_.waiter; }
    // A cancel() of this task is offering itself to the task's wait right now: a request
    // that reaches the task again from there went round a cycle of awaiting tasks.
    [[nodiscard]] bool cancel_in_progress() const noexcept { return flag(offering_bit); }
    // The first step has run (the root coroutine began).
    [[nodiscard]] bool started() const noexcept { return flag(started_bit); }
    // A cancellation requested while the wait could not be interrupted, not yet delivered.
    [[nodiscard]] bool must_cancel() const noexcept { return flag(must_cancel_bit); }
    // The wait was cancelled, or a request is pending: what the next resumption delivers.
    [[nodiscard]] bool cancel_pending() const noexcept { return flag(cancel_bits); }

    // Step 4, for awaiters that handle the cancellation themselves: true if the wait was
    // cancelled or a request is pending, which is then delivered (consumed).
    bool consume_cancel() noexcept {
        const bool was = cancel_pending();
        set_flag(cancel_bits, false);
        return was;
    }
    // Step 4: every other awaiter calls this first as it resumes. Throws: CancelledError with
    // the request's message if consume_cancel() (CPython throws it into the coroutine in
    // __step).
    void throw_if_cancelled() {
        if (cancel_pending()) [[unlikely]]
            throw_cancelled();
    }

    // The trampoline's register: set by an awaiter that transfers control (to a child Coro
    // starting, or back to a parent when a child finishes). One per thread, not per task:
    // only the running task's step reads it, and steps never nest.
    static void transfer_to(std::coroutine_handle<> h) noexcept { t_next = h; }
    // The task whose step is running on this thread (null between steps). Coroutines find
    // their task here instead of carrying a pointer in every frame.
    static TaskCore* running() noexcept { return t_running; }
    // The running task's innermost frame is now `frame` (a child Coro starting, or a parent
    // resuming after its child ended). Not in run()'s loop: a store to the task right before
    // each resumption made W2's yield 20% slower in wall time.
    static void note_running_frame(void* frame) noexcept {
        if (TaskCore* t = t_running) t->wait_.resume_point = frame;
    }
    // Where the task's chain of coroutines stands: the innermost frame (the one that would
    // resume, or, while the task's step runs, the one running: a Coro starting or ending
    // inside the step notes the frame it hands control to, note_running_frame); the root's
    // frame for a task not started; null once the root returned. For reports.
    [[nodiscard]] void* innermost_frame() const noexcept {
        if (!root_ || flag(returned_bit)) return nullptr;
        return flag(started_bit) ? wait_.resume_point : root_.address();
    }

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
        if (name.empty()) name = "Task-" + std::to_string(id());  // keep "named" distinct from "default"
        extras().name = std::move(name);
    }
    [[nodiscard]] std::string report_name() const override { return name(); }
    // The task's number ("Task-<id>"); ids grow on each thread and are never reused in the
    // process (Lock ownership relies on it).
    [[nodiscard]] std::uint64_t id() const noexcept { return has_context() ? link_->id : id_; }
    // The id of the last task created on this thread (0: none yet).
    static std::uint64_t last_id() noexcept;

    // Loop teardown: destroy the frame without running it further and mark the task
    // cancelled; its done callbacks are discarded.
    void destroy_pending() noexcept;

protected:
    // Step 3 (detail/waiter.hpp): offers a cancellation to what the task waits on; true if
    // the wait took it (cancelled now, or passed on), false if it came too late.
    bool offer_cancel(Waiter& w, const std::string& msg) {
        switch (w.cancel_wait(msg)) {
            case CancelOutcome::cancelled:
                set_flag(wait_cancelled_bit, true);
                wake();
                return true;
            case CancelOutcome::deferred:
                return true;
            case CancelOutcome::too_late:
                break;
        }
        return false;
    }
    // suspend() with a cancellation pending: offered to the new wait, out of line.
    [[gnu::noinline]] void offer_pending_cancel(Waiter& w) {
        if (offer_cancel(w, cancel_message())) set_flag(must_cancel_bit, false);
    }
    [[noreturn]] void throw_cancelled();
    bool begin_first_step();
    // The step itself (run() without the context): true if the root stopped, and end_step()
    // is next.
    bool step();
    [[gnu::noinline]] void run_in_context();
    [[nodiscard]] bool has_context() const noexcept { return (future_flags_ & has_context_bit) != 0; }
    [[gnu::noinline]] void inherit_context();
    void drop_context() noexcept;
    // The root coroutine stopped during the step: the task ends with its outcome.
    [[gnu::noinline]] void end_step();
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
    // wait_cancelled_bit: the waiter answered `cancelled` (step 3), delivered on resumption.
    // offering_bit: see cancel_in_progress().
    enum : std::uint8_t {
        must_cancel_bit = 1,
        started_bit = 2,
        message_locked_bit = 4,
        recheck_bit = 8,
        returned_bit = 16,
        wait_cancelled_bit = 32,
        offering_bit = 64,
        cancel_bits = must_cancel_bit | wait_cancelled_bit
    };
    [[nodiscard]] bool flag(std::uint8_t bit) const noexcept { return (task_flags_ & bit) != 0; }
    void set_flag(std::uint8_t bit, bool on) noexcept {
        task_flags_ = static_cast<std::uint8_t>(on ? task_flags_ | bit : task_flags_ & ~bit);
    }

    // The task's number, or, once the task has a context, where the number went with it.
    union {
        std::uint64_t id_;
        TaskContextLink* link_;
    };
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
