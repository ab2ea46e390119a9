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

protected:
    ~Waiter() = default;
};

}  // namespace asyncio::detail
