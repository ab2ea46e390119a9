// Tests for asyncio/locks.hpp's Event. A port of CPython's
// Lib/test/test_asyncio/test_locks.py (3.13) EventTests, plus the cancel-safety rule of
// docs/design/cancellation.md and the "uncontended, never suspend" rule of
// docs/design/memory.md.
//
// Skipped from test_locks.py:
//   EventTests.test_repr                                  no repr() in C++.
//   Every check of the private `_waiters` deque: checked through behaviour instead (the
//   next set() finds no stale waiter, which ASan would also catch).
//
// The helpers name a co_await's result before testing it: the kIfCoAwait note in
// support/scenario.hpp.
#include <asyncio/locks.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Event;
using asyncio::testing::run_until_idle;
using asyncio_test::Ints;
using asyncio_test::set_flag;

namespace {

Coro<bool> wait_event(Event& ev) { co_return co_await ev.wait(); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Event

namespace {

Coro<bool> wait_record(Event& ev, Ints& result, int tag) {
    bool ok = co_await ev.wait();  // named: see kIfCoAwait
    if (ok) result.push_back(tag);
    co_return true;
}

}  // namespace

// test_locks: EventTests.test_wait
ASYNCIO_TEST(Event, SetWakesEveryWaiter) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    Ints result;
    auto t1 = asyncio::create_task(wait_record(ev, result, 1));
    auto t2 = asyncio::create_task(wait_record(ev, result, 2));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});

    auto t3 = asyncio::create_task(wait_record(ev, result, 3));
    ev.set();
    co_await run_until_idle();
    EXPECT_EQ(result, (Ints{3, 1, 2}));
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t2.done());
    EXPECT_TRUE(t3.done());
    EXPECT_TRUE(t1.result());
}

// test_locks: EventTests.test_wait_on_set
ASYNCIO_TEST(Event, WaitOnSetReturnsTrue) {
    Event ev;
    ev.set();
    EXPECT_TRUE(co_await ev.wait());
}

// test_locks: EventTests.test_wait_cancel
ASYNCIO_TEST(Event, CancelledWaitLeavesNoWaiter) {
    Event ev;
    auto wait = asyncio::create_task(wait_event(ev));
    asyncio::get_running_loop().call_soon([wait] { wait.cancel(); });
    EXPECT_THROW(co_await wait, CancelledError);
    ev.set();  // CPython checks ev._waiters is empty: set() finds no stale waiter
    EXPECT_TRUE(ev.is_set());
}

// test_locks: EventTests.test_clear
ASYNCIO_TEST(Event, Clear) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    co_return;
}

// test_locks: EventTests.test_clear_with_waiters: set() then clear() before the waiter
// runs still wakes it with true.
ASYNCIO_TEST(Event, ClearWithWaiters) {
    Event ev;
    Ints result;
    auto t = asyncio::create_task(wait_record(ev, result, 1));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});
    ev.set();
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    ev.set();
    ev.set();
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{1});
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

// docs/design/cancellation.md: cancelling one waiter does not disturb the others.
ASYNCIO_TEST(Event, CancelledWaiterDoesNotDisturbTheOthers) {
    Event ev;
    Ints result;
    auto t1 = asyncio::create_task(wait_record(ev, result, 1));
    auto t2 = asyncio::create_task(wait_record(ev, result, 2));
    auto t3 = asyncio::create_task(wait_record(ev, result, 3));
    co_await run_until_idle();
    t2.cancel();
    co_await run_until_idle();
    EXPECT_TRUE(t2.cancelled());
    ev.set();
    co_await t1;
    co_await t3;
    EXPECT_EQ(result, (Ints{1, 3}));
}

// docs/design/memory.md: waiting on a set event does not suspend.
ASYNCIO_TEST(Event, WaitOnSetEventDoesNotSuspend) {
    Event ev;
    ev.set();
    bool ran = false;
    auto probe = asyncio::create_task(set_flag(ran));
    EXPECT_TRUE(co_await ev.wait());
    EXPECT_FALSE(ran);
    co_await probe;
}
