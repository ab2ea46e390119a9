// asyncio/detail/waiter.hpp: the suspension protocol, the one way a task waits (CPython's
// `task._fut_waiter` and `Task.__step`; trio's `wait_task_rescheduled` is the model).
//
// Every awaiter that suspends a task follows these four steps, and only these:
//
//   1. Suspend. await_suspend registers whatever will end the wait (a node in a wait queue,
//      a timer, a done callback on a future, an I/O watcher) and then calls
//      `task->suspend(h, this, site)`, `site` being await_suspend's last parameter,
//      `SourceSite site = ASYNCIO_SOURCE_SITE`: the place of the co_await, which the await
//      graph shows (detail/source_site.hpp). If a cancellation is already pending, suspend() offers it
//      to the waiter at once, as in step 3.
//   2. Wake. Whatever ends the wait calls `task->wake()`, once. Nothing else does.
//   3. Cancel. Task.cancel(msg) asks `waiter->cancel_wait(msg)`, which gives up what it
//      registered if it still can and answers with a CancelOutcome:
//        cancelled  it let go (the node is out of the queue, the timer disarmed): the task
//                   core marks the wait cancelled and wakes the task;
//        too_late   the wait already ended (the value is in, the task is queued): the
//                   request stays pending and is delivered when the task resumes, or at
//                   its next suspension (CPython's `_must_cancel`);
//        deferred   it passed the request on (the awaited future or task was cancelled, a
//                   combinator cancels its children): the task is woken as in step 2 once
//                   that completes, and learns the outcome from it.
//      cancel_wait never wakes the task, never throws and never allocates.
//   4. Resume. await_resume first calls `task->throw_if_cancelled()` (CancelledError with
//      the request's message if the wait was cancelled or a request is pending), or
//      `task->consume_cancel()` if it handles the cancellation itself (a lock passing on a
//      grant that came too late, a combinator reporting it); then it returns its value.
//
// A new awaiter is therefore a registration, a wake-up and a withdrawal (an example, with
// its tests: tests/suspension_test.cpp):
//
//     struct ReadReady final : Waiter, IoWatcher {
//         bool await_ready() { return false; }
//         void await_suspend(std::coroutine_handle<> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
//             task = TaskCore::running();
//             LoopAccess::watch_io(*task->loop(), fd, this);          // 1
//             task->suspend(h, this, site);
//         }
//         void io_ready(std::uint32_t events) noexcept override {
//             if (!(events & io_readable)) return;
//             unwatch();
//             task->wake();                                           // 2
//         }
//         CancelOutcome cancel_wait(const std::string&) override {
//             if (!watching) return CancelOutcome::too_late;          // 3
//             unwatch();
//             return CancelOutcome::cancelled;
//         }
//         void await_resume() { task->throw_if_cancelled(); }        // 4
//     };
#pragma once

#include <cstdint>
#include <string>

namespace asyncio::detail {

// What a wait did with a cancellation request (step 3 above).
enum class CancelOutcome : std::uint8_t {
    cancelled,
    too_late,
    deferred
};

// What a suspended task waits on: the awaiter's side of the protocol above.
struct Waiter {
    virtual CancelOutcome cancel_wait(const std::string& msg) = 0;
    // Asked by the task's step before it resumes a waiter that suspended with
    // TaskCore::suspend_rechecking(): true if what it was woken for is gone (another task took
    // the item or the free slot first) and it queued itself again, so the task stays
    // suspended. This is CPython's `while self.empty(): await getter` loop without a
    // coroutine frame for the loop.
    virtual bool wait_again() { return false; }
    // What the task waits on, in the user's words, for reports (the deadlock report):
    // "Event.wait()", "Task-3", "Lock.acquire() (held by Task-2)".
    [[nodiscard]] virtual std::string describe() const { return "an awaitable"; }

protected:
    ~Waiter() = default;
};

}  // namespace asyncio::detail
