// src/task_core.cpp: the task state's behaviour (include/asyncio/detail/task_core.hpp has
// the state machine): numbering, cancel(), the step and its trampoline, the end of a task,
// and its teardown with the loop (Lib/asyncio/tasks.py's Task.__step, cancel, uncancel).
#include <asyncio/coroutines.hpp>  // destroy_suspended_frames
#include <asyncio/detail/task_core.hpp>
#include <asyncio/exceptions.hpp>

#include "loop_internal.hpp"

#include <atomic>
#include <exception>
#include <new>
#include <string>

namespace asyncio {
namespace detail {
namespace {

// Task names count across all loops, as CPython's module-level counter does. Each thread
// takes numbers in blocks, so that creating a task costs no atomic operation: one loop's
// tasks are numbered 1, 2, 3... as in CPython; a second thread's start at the next block.
std::atomic<std::uint64_t> g_task_counter{0};
constexpr std::uint64_t id_block = 1024;
thread_local std::uint64_t t_next_id = 0;
thread_local std::uint64_t t_id_end = 0;

std::uint64_t next_task_id() noexcept {
    if (t_next_id == t_id_end) [[unlikely]] {
        t_next_id = g_task_counter.fetch_add(id_block, std::memory_order_relaxed) + 1;
        t_id_end = t_next_id + id_block;
    }
    return t_next_id++;
}

}  // namespace

TaskCore::TaskCore(EventLoop* loop, std::coroutine_handle<> root)
    : FutureCore(loop), root_(root), wait_{root.address(), nullptr}, id_(next_task_id()) {
    future_flags_ |= is_task_bit;
    // The task's slot in the ready queue, held until it ends: whatever wakes it later (a
    // lock released, a future completed, a timer) cannot fail for want of memory.
    try {
        // CPython's copy_context() at creation: one pointer compared with null when
        // contextvars are not used (out of line, so that the common path keeps few registers).
        if (t_context) [[unlikely]]
            inherit_context();
        LoopAccess::ready(*loop).reserve();
    } catch (...) {
        if (has_context()) drop_context();
        root_.destroy();  // the task owns the coroutine from here: nothing else will free it
        root_ = {};
        throw;
    }
    wake();
}

TaskCore::TaskCore(EventLoop* loop, std::coroutine_handle<> root, ContextImpl* context)
    : FutureCore(loop), root_(root), wait_{root.address(), nullptr}, id_(next_task_id()) {
    future_flags_ |= is_task_bit;
    try {
        adopt_context(context);
        LoopAccess::ready(*loop).reserve();
    } catch (...) {
        if (has_context()) drop_context();
        root_.destroy();
        root_ = {};
        throw;
    }
    wake();
}

// A task created where the context holds nothing has none (a copy would be one more empty
// context, and null stands for that).
void TaskCore::inherit_context() {
    if (!t_context->vars) return;
    adopt_context(Ref<ContextImpl>(copy_context_slow(*t_context), adopt_ref).get());
}

void TaskCore::adopt_context(ContextImpl* c) {
    auto* link = new TaskContextLink{{}, id_, c};
    c->add_ref();
    link_ = link;
    future_flags_ |= has_context_bit;
}

void TaskCore::drop_context() noexcept {
    TaskContextLink* link = link_;
    future_flags_ &= static_cast<std::uint8_t>(~has_context_bit);
    id_ = link->id;
    link->context->release();
    delete link;
}

Ref<ContextImpl> TaskCore::get_context() {
    if (!has_context()) {
        if (running() == this && !t_context) {
            materialize_context();  // the step's context from here on (adopted by this task)
        } else {
            adopt_context(Ref<ContextImpl>(new ContextImpl(), adopt_ref).get());
        }
    }
    return Ref<ContextImpl>(link_->context);
}

std::uint64_t TaskCore::last_id() noexcept { return t_next_id == 0 ? 0 : t_next_id - 1; }

std::string TaskCore::name() const {
    if (has_extras()) {
        const Extras* e = find_extras();
        if (!e->name.empty()) return e->name;
    }
    return "Task-" + std::to_string(id());
}

bool TaskCore::cancel(const std::string& msg) {
    if (done()) return false;
    try {
        Extras& extras = this->extras();
        ++extras.cancels;
        if (!flag(message_locked_bit)) {
            extras.cancel_msg = msg;
            set_flag(message_locked_bit, true);
        }
    } catch (const std::bad_alloc&) {
        // Out of memory for the count or the message: cancel all the same (gather, TaskGroup
        // and the runner cancel from where a std::bad_alloc has no caller), uncounted.
    }
    // Interrupt the wait if possible: sleep drops its timer, an awaited task or future is
    // cancelled in turn. The waiter stays set: an awaited task may refuse, and a second
    // cancel() must reach it again (CPython keeps _fut_waiter the same way).
    // (Not once the root returned: its value took the waiter's place, and nothing waits.)
    if (!flag(returned_bit) && wait_.waiter && !flag(offering_bit)) {
        set_flag(offering_bit, true);
        const bool taken = offer_cancel(*wait_.waiter, msg);
        set_flag(offering_bit, false);
        if (taken) return true;
    }
    // (With offering_bit set, this request came back to the task through the tasks it
    // awaits, which await it: a cycle. It is not offered again — CPython recurses until
    // RecursionError — and stays pending; the awaiter that closed the cycle let go, see
    // FutureAwaiter::cancel_wait.)
    set_flag(must_cancel_bit, true);
    return true;
}

void TaskCore::throw_cancelled() {
    set_flag(cancel_bits, false);
    throw CancelledError(cancel_message());
}

// The first step: false if it ends there (cancelled before it started).
bool TaskCore::begin_first_step() {
    if (must_cancel()) {
        // Cancelled before its first step: the body never runs (CPython throws into a
        // coroutine that has not started, which closes it at once).
        task_flags_ = started_bit;
        finish_root(std::make_exception_ptr(CancelledError(cancel_message())));
        return false;
    }
    task_flags_ = started_bit;
    return true;
}

// Inlined into run() and run_in_context(): run() stays the one function it was.
[[gnu::always_inline]] inline bool TaskCore::step() {
    if (!flag(started_bit)) [[unlikely]] {
        if (!begin_first_step()) return false;  // (a task that never ran has no waiter to ask)
    } else {
        if (flag(recheck_bit) && wait_.waiter->wait_again()) return false;  // queued again: stays suspended
        task_flags_ = static_cast<std::uint8_t>(task_flags_ & ~(recheck_bit | message_locked_bit));
    }
    wait_.waiter = nullptr;
    t_running = this;
    std::coroutine_handle<> h = std::coroutine_handle<>::from_address(wait_.resume_point);
    do {
        t_next = nullptr;
        h.resume();
        h = t_next;
    } while (h);
    t_running = nullptr;
    return root_.done();
}

void TaskCore::run() {
    // A test of the flags step() reads anyway: the whole cost of contextvars to the step of
    // a task that has no context (the loop keeps the null context current between steps).
    if (has_context()) [[unlikely]] {
        run_in_context();
        return;
    }
    if (step()) [[unlikely]]
        end_step();  // out of line: a step that suspends again keeps few registers
}

// CPython's step is `self._context.run(self.__step_run_and_handle_result)`: the context is
// entered for the step, so what the task sets persists across its suspensions and nobody
// else sees it. The end of the task (end_step) runs after the context is left: it runs no
// code of the task's, and it may free the task, and with it the context.
void TaskCore::run_in_context() {
    if (!flag(started_bit) && must_cancel()) {
        (void)begin_first_step();  // cancelled before it ran: it ends without running
        return;
    }
    ContextImpl* c = link_->context;
    if (!c->try_enter()) [[unlikely]] {
        // Entered elsewhere (given to the task and being run): CPython's step raises this
        // RuntimeError out of its handle, and the task never runs again.
        loop_->call_exception_handler({"Exception in callback Task.__step()", already_entered_error(c), name()});
        return;
    }
    struct Leave {
        ContextImpl* c;
        ContextImpl* outer;
        ~Leave() {
            t_context = outer;
            c->leave();
        }
    };
    bool stopped = false;
    {
        Leave leave{c, t_context};
        t_context = c;
        stopped = step();
    }
    if (stopped) [[unlikely]]
        end_step();
}

void TaskCore::end_step() {
    if (must_cancel() && !has_exception()) [[unlikely]] {
        // Cancelled right before the coroutine stopped (from a destructor that ran after
        // co_return, say): CPython's __step ends such a task cancelled, value discarded.
        set_flag(must_cancel_bit, false);
        if (flag(returned_bit)) discard_value();
        finish_root(std::make_exception_ptr(CancelledError(cancel_message())));
    } else if (has_exception()) {
        finish_root(take_exception());
    } else {
        LoopAccess::ready(*loop_).unreserve();  // as finish_root
        root_.destroy();
        root_ = {};
        finish_ok();
        release();  // the loop's reference
    }
}

void TaskCore::finish_root(std::exception_ptr e) noexcept {
    LoopAccess::ready(*loop_).unreserve();  // a done task is never queued again
    if (root_) {
        root_.destroy();
        root_ = {};
    }
    if (!e) {
        finish_ok();
    } else {
        try {
            std::rethrow_exception(e);
        } catch (const CancelledError& c) {
            try {
                set_cancel_message(c.message());
            } catch (const std::bad_alloc&) {  // out of memory: cancelled without the message
            }
            finish_cancelled();
        } catch (...) {
            finish_with_exception(std::move(e));
        }
    }
    release();  // the loop's reference: the task is no longer its business
}

void TaskCore::destroy_pending() noexcept {
    add_ref();
    LoopAccess::ready(*loop_).unreserve();
    try {
        loop_->call_exception_handler({"Task was destroyed but it is pending!", nullptr, name(), origin_traceback()});
    } catch (...) {  // out of memory for the report: the teardown goes on without it
    }
    state_ = State::cancelled;
    discard_callbacks();
    if (root_) {
        // The chain of suspended frames, innermost first (never recursively: a chain may be a
        // million deep). A destructor that throws is reported and the teardown goes on.
        void* innermost = wait_.resume_point;
        root_ = {};
        destroy_suspended_frames(innermost, [this](std::exception_ptr e) {
            loop_->call_exception_handler({"Exception in a destructor of a pending task's frame", std::move(e), name()});
        });
    }
    release();  // the loop's reference
    release();
}

}  // namespace detail
}  // namespace asyncio
