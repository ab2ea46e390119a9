// Tests for cancellation in asyncio/tasks.hpp (docs/design/cancellation.md; CPython's test_tasks.py
// test_cancel_* cases).
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/scenario.hpp"

#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::elapsed;
using asyncio_test::sleep_for;

namespace {

Coro<int> sleeper(Counted c, std::chrono::nanoseconds d) {
    (void)c;
    co_await asyncio::sleep(d);
    co_return 1;
}

}  // namespace

// test_tasks: test_cancel (delivered at the suspension point, at the moment of cancel)
ASYNCIO_TEST(Cancel, DeliveredAtTheSuspensionPoint) {
    std::chrono::nanoseconds seen{};
    auto body = [](std::chrono::nanoseconds& when) -> Coro<void> {
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            when = elapsed();
            throw;
        }
    };
    auto t = asyncio::create_task(body(seen));
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(t.cancel());
    EXPECT_FALSE(t.done());  // asks; the task sees it at its next resumption
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(seen, 1s);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_THROW(t.result(), asyncio::CancelledError);
    EXPECT_THROW((void)t.exception(), asyncio::CancelledError);
    EXPECT_FALSE(t.cancel());  // done: nothing to cancel
}

// test_tasks: test_cancel_before_start / test_cancel_at_end
ASYNCIO_TEST(Cancel, BeforeFirstStepTheBodyNeverRuns) {
    Counted::reset();
    bool ran = false;
    auto body = [](bool& flag, Counted c) -> Coro<void> {
        (void)c;
        flag = true;
        co_return;
    };
    auto t = asyncio::create_task(body(ran, Counted{}));
    EXPECT_EQ(Counted::alive(), 1);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(Counted::alive(), 0);
}

// test_tasks: test_cancel_inner_future / test_cancel_both_task_and_inner_future
ASYNCIO_TEST(Cancel, CancellingAWaiterCancelsTheAwaitedTask) {
    auto inner = asyncio::create_task(sleep_for(10s));
    auto outer_body = [](Task<void> t) -> Coro<void> { co_await t; };
    auto outer = asyncio::create_task(outer_body(inner));
    co_await asyncio::sleep(1s);
    outer.cancel();
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
    EXPECT_EQ(elapsed(), 1s);
}

ASYNCIO_TEST(Cancel, CancellingAWaiterCancelsTheAwaitedFuture) {
    asyncio::Future<int> fut;
    auto body = [](asyncio::Future<int> f) -> Coro<int> { co_return co_await f; };
    auto t = asyncio::create_task(body(fut));
    co_await run_until_idle();
    t.cancel("why");
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(fut.cancelled());
}

// test_tasks: test_cancel_yield / test_task_cancel_waiter_future: the task may refuse
ASYNCIO_TEST(Cancel, CoroutineMayCatchAndFinishNormally) {
    auto stubborn = []() -> Coro<std::string> {
        bool cancelled = false;
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            cancelled = true;  // C++ forbids co_await in a handler: clean up after it
        }
        if (!cancelled) co_return "slept";
        co_await asyncio::sleep(1s);
        co_return "refused";
    };
    auto t = asyncio::create_task(stubborn());
    co_await asyncio::sleep(1s);
    t.cancel();
    EXPECT_EQ(co_await t, "refused");
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_EQ(elapsed(), 2s);
}

// docs/design/cancellation.md: CancelledError is not a std::exception.
ASYNCIO_TEST(Cancel, CancelledErrorEscapesStdExceptionHandlers) {
    bool swallowed = false;
    auto body = [](bool& flag) -> Coro<void> {
        try {
            co_await asyncio::sleep(10s);
        } catch (const std::exception&) {
            flag = true;
        }
    };
    auto t = asyncio::create_task(body(swallowed));
    co_await run_until_idle();
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_FALSE(swallowed);
    static_assert(!std::is_base_of_v<std::exception, asyncio::CancelledError>);
    static_assert(std::is_base_of_v<std::runtime_error, asyncio::TimeoutError>);
}

// test_tasks: test_cancel_with_message_then_future_result / _before_starting
ASYNCIO_TEST(Cancel, MessageReachesTheTaskAndItsAwaiter) {
    std::string inside;
    auto body = [](std::string& seen) -> Coro<void> {
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError& e) {
            seen = e.message();
            throw;
        }
    };
    auto t = asyncio::create_task(body(inside));
    co_await run_until_idle();
    t.cancel("first");
    t.cancel("second");  // the first message is the one delivered, as in CPython
    try {
        co_await t;
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::CancelledError& e) {
        EXPECT_EQ(e.message(), "first");
    }
    EXPECT_EQ(inside, "first");
    EXPECT_EQ(t.cancelling(), 2);
}

// A second cancel() before the task ran delivers one CancelledError; after it, the task
// goes on normally (CPython: the second request only sets _must_cancel, consumed together).
ASYNCIO_TEST(Cancel, TwoRequestsOneDelivery) {
    auto body = []() -> Coro<int> {
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
        }
        co_await asyncio::sleep(1s);
        co_return 5;
    };
    auto t = asyncio::create_task(body());
    co_await run_until_idle();
    t.cancel();
    t.cancel();
    EXPECT_EQ(co_await t, 5);
    EXPECT_EQ(elapsed(), 1s);
}

// test_tasks: test_cancelling / test_uncancel_basic
ASYNCIO_TEST(Cancel, CancellingCountsAndUncancelWithdraws) {
    auto t = asyncio::create_task(sleep_for(10s));
    co_await run_until_idle();
    EXPECT_EQ(t.cancelling(), 0);
    t.cancel();
    t.cancel();
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_EQ(t.uncancel(), 1);
    EXPECT_EQ(t.uncancel(), 0);
    EXPECT_EQ(t.uncancel(), 0);
    EXPECT_THROW(co_await t, asyncio::CancelledError);  // the sleep was already interrupted
}

// CPython 3.13: uncancel() down to zero clears a pending _must_cancel.
ASYNCIO_TEST(Cancel, UncancelToZeroClearsAPendingCancellation) {
    auto body = []() -> Coro<int> {
        auto me = *asyncio::current_task();
        me.cancel();
        me.uncancel();
        co_await asyncio::sleep(1s);  // not cancelled
        co_return 1;
    };
    EXPECT_EQ(co_await asyncio::create_task(body()), 1);
}

// test_tasks: test_cancel_current_task
ASYNCIO_TEST(Cancel, TaskCancellingItselfIsCancelledAtItsNextAwait) {
    auto body = []() -> Coro<std::string> {
        asyncio::current_task()->cancel("self");
        try {
            co_await asyncio::sleep(0);
        } catch (const asyncio::CancelledError& e) {
            co_return "got " + e.message();
        }
        co_return "missed";
    };
    EXPECT_EQ(co_await asyncio::create_task(body()), "got self");
    auto body2 = []() -> Coro<void> {
        asyncio::current_task()->cancel();
        co_await asyncio::sleep(5s);  // interrupted at once, no timer left
    };
    auto t2 = asyncio::create_task(body2());
    EXPECT_THROW(co_await t2, asyncio::CancelledError);
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
    EXPECT_EQ(elapsed(), 0s);
}

// CPython: a result and a cancellation in the same step: the cancellation wins, the
// future keeps its result.
ASYNCIO_TEST(Cancel, CancelAfterTheAwaitedFutureCompletedStillCancels) {
    asyncio::Future<int> fut;
    auto body = [](asyncio::Future<int> f) -> Coro<std::string> {
        try {
            co_return std::to_string(co_await f);
        } catch (const asyncio::CancelledError&) {
            co_return "cancelled";
        }
    };
    auto t = asyncio::create_task(body(fut));
    co_await run_until_idle();
    fut.set_result(1);
    t.cancel();
    EXPECT_EQ(co_await t, "cancelled");
    EXPECT_EQ(fut.result(), 1);
}

// docs/design/cancellation.md: a cancelled sleep leaves no timer behind.
ASYNCIO_TEST(Cancel, CancelledSleepLeavesNoTimer) {
    auto& loop = asyncio::get_running_loop();
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(asyncio::create_task(sleep_for(100s)));
    co_await run_until_idle();
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 5u);
    for (auto& t : tasks) t.cancel();
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 0u);  // at once, not lazily
    for (auto& t : tasks) EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(elapsed(), 0s);
}

// Lifetime: a cancelled task destroys its frame and arguments.
ASYNCIO_TEST(Cancel, CancelledTaskDestroysFrameAndArguments) {
    Counted::reset();
    auto t = asyncio::create_task(sleeper(Counted{}, 10s));
    co_await run_until_idle();
    EXPECT_EQ(Counted::alive(), 1);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(Counted::alive(), 0);
}

// Lifetime through nested Coros: every frame in the chain goes.
ASYNCIO_TEST(Cancel, NestedCorosAreAllDestroyed) {
    Counted::reset();
    auto middle = [](Counted c) -> Coro<int> {
        (void)c;
        co_return co_await sleeper(Counted{}, 10s);
    };
    auto t = asyncio::create_task(middle(Counted{}));
    co_await run_until_idle();
    // middle's parameter, the temporary in its co_await expression, sleeper's parameter
    EXPECT_EQ(Counted::alive(), 3);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(Counted::alive(), 0);
}

// An fd-readiness wait built from the public API (Future + add_reader) leaves no
// registration behind when its task is cancelled.
ASYNCIO_TEST(Cancel, CancelledFdWaitLeavesNoRegistration) {
    auto& loop = asyncio::get_running_loop();
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    auto wait_readable = [](int fd) -> Coro<void> {
        auto& l = asyncio::get_running_loop();
        asyncio::Future<void> ready;
        l.add_reader(fd, [ready]() mutable {
            if (!ready.done()) ready.set_result();
        });
        struct Unregister {
            asyncio::EventLoop& loop;
            int fd;
            ~Unregister() { loop.remove_reader(fd); }
        } guard{l, fd};
        co_await ready;
    };
    auto t = asyncio::create_task(wait_readable(fds[0]));
    co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 1u);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    ::close(fds[0]);
    ::close(fds[1]);
}

namespace {

// Cancels the task it lives in when destroyed: in a coroutine, that is after `co_return v`
// has handed over the value and before the coroutine stops.
struct CancelOnExit {
    CancelOnExit() = default;
    CancelOnExit(const CancelOnExit&) = delete;
    CancelOnExit& operator=(const CancelOnExit&) = delete;
    ~CancelOnExit() { asyncio::current_task()->cancel("late"); }
};

}  // namespace

// test_tasks: as CPython's __step, a task cancelled right before its coroutine stops ends
// cancelled, and the value it returned is discarded (checked against CPython 3.11).
ASYNCIO_TEST(Cancel, CancelledRightBeforeReturningEndsCancelled) {
    Counted::reset();
    auto body = []() -> Coro<Counted> {
        CancelOnExit guard;
        co_return Counted();
    };
    Task<Counted> t = asyncio::create_task(body());
    try {
        co_await t;
        ADD_FAILURE() << "the task should have ended cancelled";
    } catch (const asyncio::CancelledError& e) {
        EXPECT_EQ(e.message(), "late");
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(Counted::alive(), 0);  // the returned value was destroyed
}

// The same with a value too big to share the task's 16 bytes (it lives beside them).
ASYNCIO_TEST(Cancel, CancelledRightBeforeReturningDiscardsABigValueToo) {
    Counted::reset();
    struct Big {
        Counted c;
        char pad[40] = {};
    };
    static_assert(sizeof(Big) > asyncio::detail::TaskCore::inline_result_size);
    auto body = []() -> Coro<Big> {
        CancelOnExit guard;
        co_return Big{};
    };
    Task<Big> t = asyncio::create_task(body());
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(Counted::alive(), 0);
}

// The value a task returns shares its bytes with what the task waited on; a cancel() that
// arrives after the value is in place (a 16-byte value whose second half would be taken for
// the waiter) must not touch the waiter.
ASYNCIO_TEST(Cancel, CancelAfterTheValueIsInPlaceDoesNotTouchTheWait) {
    using Pair = std::pair<std::uintptr_t, std::uintptr_t>;
    auto body = []() -> Coro<Pair> {
        co_await asyncio::sleep(1s);  // a real wait first, so the waiter was set once
        CancelOnExit guard;
        co_return Pair{0x1234, 0x5678};
    };
    Task<Pair> t = asyncio::create_task(body());
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(elapsed(), 1s);
}
