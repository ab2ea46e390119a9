// Tests for asyncio/locks.hpp's Semaphore, BoundedSemaphore and SemaphoreGuard. A port of
// CPython's Lib/test/test_asyncio/test_locks.py (3.13) SemaphoreTests, plus the fairness and
// cancel-safety rules of docs/design/cancellation.md and the "uncontended, never suspend"
// rule of docs/design/memory.md. The allocation half of docs/design/memory.md is in
// locks_alloc_test.cpp.
//
// Skipped from test_locks.py:
//   SemaphoreTests.test_repr                              no repr() in C++.
//   The `await sem` half of SemaphoreTests.test_semaphore: a compile error in C++, checked
//   by static_assert in Primitives.AreNotAwaitableThemselves (locks_lock_test.cpp).
//   Every check of the private `_waiters` deque: checked through behaviour instead (the
//   next release finds no stale waiter, which ASan would also catch).
//
// Adapted on purpose:
//   - `async with sem:` is `auto guard = co_await sem.scoped();`.
//
// The helpers name a co_await's result before testing it: the kIfCoAwait note in
// support/scenario.hpp.
#include <asyncio/locks.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using asyncio::BoundedSemaphore;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Semaphore;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::Ints;
using asyncio_test::elapsed;
using asyncio_test::set_flag;
using asyncio_test::value_error_of;

namespace {

Coro<bool> acquire_sem(Semaphore& sem) { co_return co_await sem.acquire(); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Semaphore

// test_locks: SemaphoreTests.test_initial_value_zero
ASYNCIO_TEST(Semaphore, InitialValueZeroIsLocked) {
    Semaphore sem(0);
    EXPECT_TRUE(sem.locked());
    co_return;
}

// test_locks: SemaphoreTests.test_semaphore (without the `await sem` half)
ASYNCIO_TEST(Semaphore, DefaultValueIsOne) {
    Semaphore sem;
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
    co_return;
}

// test_locks: SemaphoreTests.test_semaphore_value
ASYNCIO_TEST(Semaphore, NegativeValueRaises) {
    EXPECT_THROW(Semaphore(-1), asyncio::ValueError);
    EXPECT_THROW(BoundedSemaphore(-1), asyncio::ValueError);
    EXPECT_EQ(value_error_of([] { Semaphore s(-4); }), "Semaphore initial value must be >= 0");
    EXPECT_EQ(value_error_of([] { BoundedSemaphore s(-4); }), "Semaphore initial value must be >= 0");
    Semaphore zero(0);
    EXPECT_TRUE(zero.locked());
    BoundedSemaphore bounded_zero(0);
    EXPECT_THROW(bounded_zero.release(), asyncio::ValueError);
    co_return;
}

namespace {

Coro<bool> sem_acquire_record(Semaphore& sem, Ints& result, int tag) {
    co_await sem.acquire();
    result.push_back(tag);
    co_return true;
}

}  // namespace

// test_locks: SemaphoreTests.test_acquire (3.12 hands a permit over at wake-up, so the
// winners of CPython's "race" are exactly t2 and t3)
ASYNCIO_TEST(Semaphore, Acquire) {
    Semaphore sem(3);
    Ints result;
    EXPECT_TRUE(co_await sem.acquire());
    EXPECT_TRUE(co_await sem.acquire());
    EXPECT_FALSE(sem.locked());

    auto t1 = asyncio::create_task(sem_acquire_record(sem, result, 1));
    auto t2 = asyncio::create_task(sem_acquire_record(sem, result, 2));
    auto t3 = asyncio::create_task(sem_acquire_record(sem, result, 3));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{1});
    EXPECT_TRUE(sem.locked());
    EXPECT_EQ(sem.value(), 0);

    auto t4 = asyncio::create_task(sem_acquire_record(sem, result, 4));
    sem.release();
    sem.release();
    EXPECT_EQ(sem.value(), 0);  // both permits handed to t2 and t3 already

    co_await run_until_idle();
    EXPECT_EQ(sem.value(), 0);
    EXPECT_EQ(result, (Ints{1, 2, 3}));
    EXPECT_TRUE(sem.locked());
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t1.result());
    EXPECT_TRUE(t2.done() && t3.done());
    EXPECT_FALSE(t4.done());

    sem.release();
    co_await asyncio::gather(t2, t3, t4);
    EXPECT_EQ(result, (Ints{1, 2, 3, 4}));
}

// test_locks: SemaphoreTests.test_acquire_cancel
ASYNCIO_TEST(Semaphore, CancelledAcquireLeavesNoWaiter) {
    Semaphore sem;
    co_await sem.acquire();
    auto acquire = asyncio::create_task(acquire_sem(sem));
    asyncio::get_running_loop().call_soon([acquire] { acquire.cancel(); });
    EXPECT_THROW(co_await acquire, CancelledError);
    EXPECT_EQ(sem.value(), 0);
    sem.release();  // nobody left to hand it to
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

// test_locks: SemaphoreTests.test_acquire_cancel_before_awoken
ASYNCIO_TEST(Semaphore, AcquireCancelBeforeAwoken) {
    Semaphore sem(0);
    auto t1 = asyncio::create_task(acquire_sem(sem));
    auto t2 = asyncio::create_task(acquire_sem(sem));
    auto t3 = asyncio::create_task(acquire_sem(sem));
    auto t4 = asyncio::create_task(acquire_sem(sem));
    co_await run_until_idle();

    t1.cancel();
    t2.cancel();
    sem.release();
    co_await run_until_idle();
    EXPECT_TRUE(t3.done());
    EXPECT_FALSE(t4.done());

    t3.cancel();
    t4.cancel();
    co_await run_until_idle();
    EXPECT_TRUE(t4.cancelled());
    EXPECT_EQ(sem.value(), 0);  // t3 holds the one permit
}

// test_locks: SemaphoreTests.test_acquire_hang
ASYNCIO_TEST(Semaphore, AcquireHang) {
    Semaphore sem(0);
    auto t1 = asyncio::create_task(acquire_sem(sem));
    auto t2 = asyncio::create_task(acquire_sem(sem));
    co_await run_until_idle();
    t1.cancel();
    sem.release();
    co_await run_until_idle();
    EXPECT_TRUE(sem.locked());
    EXPECT_TRUE(t2.done());
}

namespace {

Coro<void> no_hang_c1(Semaphore& sem, Task<void>& t2) {
    {
        auto guard = co_await sem.scoped();
        co_await asyncio::sleep(0);
    }
    t2.cancel();
}

Coro<void> no_hang_c2(Semaphore& sem, bool& entered) {
    auto guard = co_await sem.scoped();
    entered = true;  // CPython: self.assertFalse(True)
}

}  // namespace

// test_locks: SemaphoreTests.test_acquire_no_hang: woken by a release and cancelled in
// the same step, c2 gives its permit back.
ASYNCIO_TEST(Semaphore, AcquireNoHang) {
    Semaphore sem(1);
    bool entered = false;
    Task<void> t2;
    auto t1 = asyncio::create_task(no_hang_c1(sem, t2));
    t2 = asyncio::create_task(no_hang_c2(sem, entered));
    auto [r1, r2] = co_await asyncio::gather(asyncio::return_exceptions, t1, t2);
    EXPECT_TRUE(r1.has_value());
    EXPECT_THROW(r2.value(), CancelledError);
    EXPECT_FALSE(entered);
    EXPECT_EQ(sem.value(), 1);
    EXPECT_TRUE(co_await asyncio::wait_for(acquire_sem(sem), 1.0));
    EXPECT_EQ(elapsed(), 0s);
}

// test_locks: SemaphoreTests.test_release_not_acquired
ASYNCIO_TEST(Semaphore, BoundedReleaseNotAcquiredRaises) {
    BoundedSemaphore sem;
    EXPECT_THROW(sem.release(), asyncio::ValueError);
    co_await sem.acquire();
    sem.release();
    EXPECT_THROW(sem.release(), asyncio::ValueError);
    EXPECT_EQ(sem.value(), 1);
}

// test_locks: SemaphoreTests.test_release_no_waiters
ASYNCIO_TEST(Semaphore, ReleaseNoWaiters) {
    Semaphore sem;
    co_await sem.acquire();
    EXPECT_TRUE(sem.locked());
    sem.release();
    EXPECT_FALSE(sem.locked());
}

namespace {

Coro<void> fifo_coro(Semaphore& sem, std::string tag, std::vector<std::string>& result, std::vector<std::chrono::nanoseconds>& times) {
    co_await sem.acquire();
    result.push_back(tag + "_1");
    times.push_back(elapsed());
    co_await asyncio::sleep(10ms);
    sem.release();

    co_await sem.acquire();
    result.push_back(tag + "_2");
    times.push_back(elapsed());
    co_await asyncio::sleep(10ms);
    sem.release();
}

}  // namespace

// test_locks: SemaphoreTests.test_acquire_fifo_order
ASYNCIO_TEST(Semaphore, AcquireFifoOrder) {
    Semaphore sem(1);
    std::vector<std::string> result;
    std::vector<std::chrono::nanoseconds> times;
    auto body = [&](asyncio::TaskGroup& tg) -> Coro<void> {
        tg.create_task(fifo_coro(sem, "c1", result, times));
        tg.create_task(fifo_coro(sem, "c2", result, times));
        tg.create_task(fifo_coro(sem, "c3", result, times));
        co_return;
    };
    co_await asyncio::TaskGroup::run(body);
    EXPECT_EQ(result, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
    EXPECT_EQ(times, (std::vector<std::chrono::nanoseconds>{0ms, 10ms, 20ms, 30ms, 40ms, 50ms}));
    EXPECT_EQ(elapsed(), 60ms);
}

namespace {

Coro<bool> fifo2_c2(Semaphore& sem, Ints& result) {
    co_await sem.acquire();
    result.push_back(2);
    sem.release();
    co_await sem.acquire();
    result.push_back(4);
    co_return true;
}

}  // namespace

// test_locks: SemaphoreTests.test_acquire_fifo_order_2: t2 releases and re-acquires while
// t3, woken with a permit, has not run yet: CPython's locked() is true then (a woken waiter
// is still queued), so t2 queues behind t3.
ASYNCIO_TEST(Semaphore, AcquireFifoOrder2) {
    Semaphore sem(1);
    Ints result;
    auto t1 = asyncio::create_task(sem_acquire_record(sem, result, 1));
    auto t2 = asyncio::create_task(fifo2_c2(sem, result));
    auto t3 = asyncio::create_task(sem_acquire_record(sem, result, 3));
    co_await run_until_idle();
    sem.release();
    sem.release();
    co_await asyncio::gather(t1, t2, t3);
    EXPECT_EQ(result, (Ints{1, 2, 3, 4}));
}

// test_locks: SemaphoreTests.test_acquire_fifo_order_3
ASYNCIO_TEST(Semaphore, AcquireFifoOrder3) {
    Semaphore sem(0);
    Ints result;
    auto t1 = asyncio::create_task(sem_acquire_record(sem, result, 1));
    auto t2 = asyncio::create_task(sem_acquire_record(sem, result, 2));
    auto t3 = asyncio::create_task(sem_acquire_record(sem, result, 3));
    co_await run_until_idle();
    t1.cancel();
    co_await run_until_idle();
    sem.release();
    sem.release();
    co_await asyncio::gather(asyncio::return_exceptions, t1, t2, t3);
    EXPECT_EQ(result, (Ints{2, 3}));
}

namespace {

Coro<bool> fifo4_c4(Ints& result) {
    result.push_back(4);
    co_return true;
}

Coro<bool> fifo4_c1(Semaphore& sem, Ints& result, Task<bool>& t4) {
    EXPECT_EQ(sem.value(), 0);  // c1 waits at once; c2 wakes it
    co_await sem.acquire();
    EXPECT_EQ(sem.value(), 0);                    // every waiter woken by now
    t4 = asyncio::create_task(fifo4_c4(result));  // runs after c3, not c2
    result.push_back(1);
    co_return true;
}

Coro<bool> fifo4_c2(Semaphore& sem, Ints& result) {
    sem.release();
    sem.release();
    sem.release();
    EXPECT_EQ(sem.value(), 2);
    EXPECT_TRUE(sem.locked()) << "locked, because c1 has not woken up yet";
    co_await sem.acquire();
    result.push_back(2);
    co_return true;
}

Coro<bool> fifo4_c3(Semaphore& sem, Ints& result) {
    co_await sem.acquire();
    EXPECT_TRUE(sem.locked());
    result.push_back(3);
    co_return true;
}

}  // namespace

// test_locks: SemaphoreTests.test_acquire_fifo_order_4 (3.13): a successful acquire wakes
// the tasks queued behind it by the FIFO rule.
ASYNCIO_TEST(Semaphore, AcquireFifoOrder4) {
    Semaphore sem(0);
    Ints result;
    Task<bool> t4;
    auto t1 = asyncio::create_task(fifo4_c1(sem, result, t4));
    auto t2 = asyncio::create_task(fifo4_c2(sem, result));
    auto t3 = asyncio::create_task(fifo4_c3(sem, result));
    co_await asyncio::sleep(0);
    EXPECT_EQ(sem.value(), 2);  // three tasks queued, the first not yet run
    co_await asyncio::sleep(0);
    co_await asyncio::gather(t1, t2, t3);
    if (t4) co_await t4;
    EXPECT_EQ(result, (Ints{1, 2, 3, 4}));
}

namespace {

Coro<void> sem_hold_for(Semaphore& sem, int tag, std::chrono::nanoseconds hold, std::vector<std::pair<int, std::chrono::nanoseconds>>& log) {
    co_await sem.acquire();
    log.emplace_back(tag, elapsed());
    co_await asyncio::sleep(hold);
    sem.release();
}

}  // namespace

// docs/design/cancellation.md: permits go first come, first served: two at a time, in order.
ASYNCIO_TEST(Semaphore, WaitersAreServedFirstComeFirstServed) {
    Semaphore sem(2);
    std::vector<std::pair<int, std::chrono::nanoseconds>> log;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 6; ++i) tasks.push_back(asyncio::create_task(sem_hold_for(sem, i, 1s, log)));
    co_await asyncio::gather(tasks);
    std::vector<std::pair<int, std::chrono::nanoseconds>> expected{{0, 0s}, {1, 0s}, {2, 1s}, {3, 1s}, {4, 2s}, {5, 2s}};
    EXPECT_EQ(log, expected);
    EXPECT_EQ(elapsed(), 3s);
    EXPECT_EQ(sem.value(), 2);
}

// docs/design/cancellation.md: a cancelled acquire takes no permit.
ASYNCIO_TEST(Semaphore, CancelledAcquireTakesNoPermit) {
    Semaphore sem(0);
    auto t = asyncio::create_task(acquire_sem(sem));
    co_await run_until_idle();
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

// docs/design/cancellation.md: woken with a permit and cancelled in the same step, the waiter hands the
// permit to the next waiter.
ASYNCIO_TEST(Semaphore, WokenThenCancelledPassesThePermitOn) {
    Semaphore sem(0);
    Ints result;
    auto t1 = asyncio::create_task(sem_acquire_record(sem, result, 1));
    auto t2 = asyncio::create_task(sem_acquire_record(sem, result, 2));
    co_await run_until_idle();
    sem.release();  // hands the permit to t1
    t1.cancel();    // before t1 ran
    EXPECT_THROW(co_await t1, CancelledError);
    EXPECT_TRUE(co_await t2);
    EXPECT_EQ(result, Ints{2});
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    EXPECT_EQ(sem.value(), 1);
}

// docs/design/cancellation.md: woken and cancelled with nobody behind it, the permit goes back.
ASYNCIO_TEST(Semaphore, WokenThenCancelledAloneGivesThePermitBack) {
    Semaphore sem(0);
    auto t = asyncio::create_task(acquire_sem(sem));
    co_await run_until_idle();
    sem.release();
    EXPECT_EQ(sem.value(), 0);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

// docs/design/memory.md: uncontended, acquire() and release() complete without suspending.
ASYNCIO_TEST(Semaphore, UncontendedAcquireDoesNotSuspend) {
    Semaphore sem(2);
    bool ran = false;
    auto probe = asyncio::create_task(set_flag(ran));
    EXPECT_TRUE(co_await sem.acquire());
    EXPECT_TRUE(co_await sem.acquire());
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    sem.release();
    EXPECT_FALSE(ran);
    co_await probe;
    EXPECT_EQ(sem.value(), 2);
}

// test_locks: SemaphoreTests.test_context_manager-like: `async with sem:` holds a permit
// for the scope and gives it back at its end, for Semaphore and BoundedSemaphore alike.
ASYNCIO_TEST(Semaphore, ScopedIsAsyncWith) {
    Semaphore sem(2);
    {
        auto outer = co_await sem.scoped();
        EXPECT_TRUE(outer.owns_permit());
        EXPECT_EQ(sem.value(), 1);
        EXPECT_FALSE(sem.locked());
        {
            auto inner = co_await sem.scoped();
            EXPECT_EQ(sem.value(), 0);
            EXPECT_TRUE(sem.locked());
        }
        EXPECT_EQ(sem.value(), 1);
    }
    EXPECT_EQ(sem.value(), 2);
    BoundedSemaphore bounded(1);
    {
        auto guard = co_await bounded.scoped();
        EXPECT_TRUE(bounded.locked());
    }
    EXPECT_FALSE(bounded.locked());
    EXPECT_THROW(bounded.release(), asyncio::ValueError);  // the guard gave back exactly one
}

// C++: a semaphore guard can let go early, and moving it moves the permit.
ASYNCIO_TEST(Semaphore, GuardReleaseAndMove) {
    Semaphore sem(1);
    {
        auto guard = co_await sem.scoped();
        guard.release();
        EXPECT_FALSE(guard.owns_permit());
        EXPECT_EQ(sem.value(), 1);
        EXPECT_THROW(guard.release(), asyncio::RuntimeError);
    }
    EXPECT_EQ(sem.value(), 1);  // the destructor of a guard that let go returns nothing
    {
        asyncio::SemaphoreGuard outer;
        EXPECT_FALSE(outer.owns_permit());
        {
            auto inner = co_await sem.scoped();
            outer = std::move(inner);
            EXPECT_FALSE(inner.owns_permit());  // NOLINT(bugprone-use-after-move)
        }
        EXPECT_EQ(sem.value(), 0);
        EXPECT_TRUE(outer.owns_permit());
    }
    EXPECT_EQ(sem.value(), 1);
    Semaphore other(1);
    {
        auto a = co_await sem.scoped();
        auto b = co_await other.scoped();
        a = std::move(b);  // gives sem's permit back, takes other's
        EXPECT_EQ(sem.value(), 1);
        EXPECT_EQ(other.value(), 0);
    }
    EXPECT_EQ(other.value(), 1);
}

namespace {

Coro<void> sem_scoped_record(Semaphore& sem, Ints& result, int tag) {
    auto guard = co_await sem.scoped();
    result.push_back(tag);
    co_await asyncio::sleep(0);
}

}  // namespace

// The guard's acquire is acquire(): waiters served in order; cancelled while waiting, it
// takes no permit; woken and cancelled in the same step, it passes the permit on.
ASYNCIO_TEST(Semaphore, ScopedWaitsInOrderAndIsCancelSafe) {
    Semaphore sem(0);
    Ints result;
    auto t1 = asyncio::create_task(sem_scoped_record(sem, result, 1));
    auto t2 = asyncio::create_task(sem_scoped_record(sem, result, 2));
    auto t3 = asyncio::create_task(sem_scoped_record(sem, result, 3));
    auto t4 = asyncio::create_task(sem_scoped_record(sem, result, 4));
    co_await run_until_idle();
    t1.cancel();  // while it waits
    co_await run_until_idle();
    EXPECT_TRUE(t1.cancelled());
    EXPECT_EQ(sem.value(), 0);
    sem.release();  // hands the permit to t2...
    t2.cancel();    // ...cancelled before it ran: t3 gets it
    auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, t2, t3);
    EXPECT_THROW(std::get<0>(outcomes).value(), CancelledError);
    EXPECT_TRUE(std::get<1>(outcomes).has_value());
    co_await t4;  // t3's guard passed the permit on
    EXPECT_EQ(result, (Ints{3, 4}));
    EXPECT_EQ(sem.value(), 1);
}

namespace {

Coro<void> release_inside_scope(BoundedSemaphore& sem) {
    auto guard = co_await sem.scoped();
    sem.release();  // a bug: the guard releases again at the end of the scope
}

}  // namespace

// CPython raises ValueError from `async with`'s exit when the body already released a
// BoundedSemaphore; a destructor cannot throw, so the guard reports it to the exception
// handler, and the task goes on.
ASYNCIO_TEST(Semaphore, BoundedOverReleaseByGuardGoesToTheExceptionHandler) {
    BoundedSemaphore sem(1);
    std::vector<std::string> reports;
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        std::string what;
        try {
            std::rethrow_exception(c.exception);
        } catch (const asyncio::ValueError& e) {
            what = e.what();
        } catch (...) {
            what = "?";
        }
        reports.push_back(c.message + ": " + what);
    });
    co_await asyncio::create_task(release_inside_scope(sem));
    loop.set_exception_handler(nullptr);
    EXPECT_EQ(reports, std::vector<std::string>{"Exception in SemaphoreGuard release: BoundedSemaphore released too many times"});
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

// Uncontended, scoped() completes without suspending (docs/design/memory.md).
ASYNCIO_TEST(Semaphore, UncontendedScopedDoesNotSuspend) {
    Semaphore sem(1);
    bool ran = false;
    auto probe = asyncio::create_task(set_flag(ran));
    {
        auto guard = co_await sem.scoped();
        EXPECT_TRUE(sem.locked());
    }
    EXPECT_FALSE(ran);
    co_await probe;
    EXPECT_TRUE(ran);
}
