// asyncio/detail/waiter.hpp: Waiter, what a suspended task waits on (CPython's
// `task._fut_waiter`), so that Task.cancel() can interrupt the wait.
#pragma once

#include <string>

namespace asyncio::detail {

// Task.cancel() first asks the waiter to give up; only if it cannot (the wait already
// completed) does the cancellation wait for the next step (`_must_cancel`).
struct Waiter {
    // Abort the wait and make sure the task is woken with a cancellation; false if the wait
    // already completed (the task is scheduled or will be).
    virtual bool cancel_wait(const std::string& msg) = 0;
    // Asked by the task's step before it resumes a waiter that suspended with
    // TaskCore::suspend_rechecking(): true if what it was woken for is gone (another task took
    // the item or the free slot first) and it queued itself again, so the task stays
    // suspended. This is CPython's `while self.empty(): await getter` loop without a
    // coroutine frame for the loop.
    virtual bool wait_again() { return false; }

protected:
    ~Waiter() = default;
};

}  // namespace asyncio::detail
