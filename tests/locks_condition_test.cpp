// Tests for asyncio/locks.hpp's Condition. A port of CPython's
// Lib/test/test_asyncio/test_locks.py (3.13) ConditionTests, plus the fairness and
// cancel-safety rules of docs/design/cancellation.md.
//
// Skipped from test_locks.py:
//   ConditionTests.test_repr                              no repr() in C++.
//   ConditionTests.test_ambiguous_loops                   no loop arguments: a primitive is
//                                                         not bound to a loop.
//   ConditionTests.test_explicit_lock's `cond._lock is lock`, and every check of the private
//   `_waiters` deque: checked through behaviour instead (the next notify or release finds
//   no stale waiter, which ASan would also catch).
//
// Adapted on purpose:
//   - A Lock is owned by the task that acquired it (locks_lock_test.cpp), so a task cannot
//     wait on a Condition whose lock another task holds: CPython's
//     `create_task(cond.wait())` becomes a task that acquires and then waits, and
//     `wait_for(cond.wait(), 0.5)` (which runs the wait in a new task) becomes
//     `timeout(0.5s, cond.wait())`, which runs it in the task holding the lock. Where
//     CPython's test releases the lock that another task holds, that task releases it
//     itself when the test sets an Event.
//   - `async with cond:` is `auto guard = co_await cond.scoped();`.
//   - Condition::wait_for returns the predicate's last value, as CPython does, but a C++
//     type must be convertible to bool: test_wait_for_unacquired's list is an optional.
//   - CPython's tests of the 3.13 "same exception instance is re-raised" kind check the
//     cancel message instead: C++ exceptions have no identity to compare.
//
// The helpers name a co_await's result before testing it: the kIfCoAwait note in
// support/scenario.hpp.
#include <asyncio/locks.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Condition;
using asyncio::Coro;
using asyncio::Event;
using asyncio::Lock;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::Ints;
using asyncio_test::elapsed;

// ---------------------------------------------------------------------------------------
// Condition

namespace {

// Acquires, waits, records `tag`, then holds the lock until `go` is set (owner rule).
Coro<bool> cond_wait_record_hold(Condition& cond, Ints& result, int tag, Event& go) {
    co_await cond.acquire();
    bool ok = co_await cond.wait();
    if (ok) result.push_back(tag);
    co_await go.wait();
    cond.release();
    co_return true;
}

// Acquires, waits, records `tag` and releases.
Coro<bool> cond_wait_record(Condition& cond, Ints& result, int tag) {
    co_await cond.acquire();
    bool ok = co_await cond.wait();
    if (ok) {
        result.push_back(tag);
        cond.release();
    }
    co_return true;
}

// Acquires and waits; if cancelled, records whether the lock was held again when
// CancelledError came out of wait(), and releases it.
Coro<void> acquire_wait_release(Condition& cond, bool& held_when_cancelled) {
    co_await cond.acquire();
    try {
        co_await cond.wait();
    } catch (const CancelledError&) {
        held_when_cancelled = cond.locked();
        cond.release();  // proves this task owns it again
        throw;
    }
    cond.release();
}

}  // namespace

// test_locks: ConditionTests.test_wait (each woken task releases when told to: owner rule)
ASYNCIO_TEST(Condition, WaitIsWokenByNotify) {
    Condition cond;
    Ints result;
    Event go1, go2, go3;
    auto t1 = asyncio::create_task(cond_wait_record_hold(cond, result, 1, go1));
    auto t2 = asyncio::create_task(cond_wait_record_hold(cond, result, 2, go2));
    auto t3 = asyncio::create_task(cond_wait_record_hold(cond, result, 3, go3));

    co_await asyncio::sleep(0);
    EXPECT_EQ(result, Ints{});
    EXPECT_FALSE(cond.locked());

    EXPECT_TRUE(co_await cond.acquire());
    cond.notify();
    co_await asyncio::sleep(0);
    EXPECT_EQ(result, Ints{});
    EXPECT_TRUE(cond.locked());

    cond.release();
    co_await asyncio::sleep(0);
    EXPECT_EQ(result, Ints{1});
    EXPECT_TRUE(cond.locked());

    cond.notify(2);  // the lock is held (by t1): allowed, as in CPython
    co_await asyncio::sleep(0);
    EXPECT_EQ(result, Ints{1});
    EXPECT_TRUE(cond.locked());

    go1.set();  // CPython: cond.release() of t1's hold
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(result, (Ints{1, 2}));
    EXPECT_TRUE(cond.locked());

    go2.set();
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(result, (Ints{1, 2, 3}));
    EXPECT_TRUE(cond.locked());

    go3.set();
    EXPECT_TRUE(co_await t1);
    EXPECT_TRUE(co_await t2);
    EXPECT_TRUE(co_await t3);
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_wait_cancel (the waiting task acquires itself)
ASYNCIO_TEST(Condition, CancelledWaitHoldsTheLockAgain) {
    Condition cond;
    bool held = false;
    auto wait = asyncio::create_task(acquire_wait_release(cond, held));
    asyncio::get_running_loop().call_soon([wait] { wait.cancel(); });
    EXPECT_THROW(co_await wait, CancelledError);
    EXPECT_TRUE(held);
    EXPECT_FALSE(cond.locked());
    co_await cond.acquire();  // no stale waiter: notify finds nobody
    cond.notify();
    cond.release();
}

// test_locks: ConditionTests.test_wait_cancel_contested: notified, then cancelled while it
// re-acquires a contested lock, the lock being released in that same step (CPython does
// the cancel and the release in call_soon callbacks; the release is the owner's here).
ASYNCIO_TEST(Condition, WaitCancelContested) {
    Condition cond;
    bool held = false;
    auto wait_task = asyncio::create_task(acquire_wait_release(cond, held));
    co_await asyncio::sleep(0);
    EXPECT_FALSE(cond.locked());

    co_await cond.acquire();
    EXPECT_TRUE(cond.locked());
    cond.notify();
    asyncio::get_running_loop().call_soon([wait_task] { wait_task.cancel(); });
    co_await asyncio::sleep(0);  // wait_task blocks on the lock; the callback cancels that
    cond.release();
    bool cancelled = false;
    try {
        co_await wait_task;
    } catch (const CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(held);  // CPython: cond.locked() after the task ended
}

namespace {

Coro<void> wait_on_cond(Condition& cond, bool& waited) {
    auto guard = co_await cond.scoped();
    waited = true;
    co_await cond.wait();
}

}  // namespace

// test_locks: ConditionTests.test_wait_cancel_after_notify (bpo-32841)
ASYNCIO_TEST(Condition, WaitCancelAfterNotify) {
    Condition cond;
    bool waited = false;
    auto waiter = asyncio::create_task(wait_on_cond(cond, waited));
    co_await asyncio::sleep(0);  // start waiting

    co_await cond.acquire();
    cond.notify();
    co_await asyncio::sleep(0);  // get to acquire()
    waiter.cancel();
    co_await asyncio::sleep(0);  // activate the cancellation
    cond.release();
    co_await asyncio::sleep(0);  // the cancellation occurs
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(waited);
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_wait_unacquired
ASYNCIO_TEST(Condition, WaitUnacquiredRaises) {
    Condition cond;
    EXPECT_THROW(co_await cond.wait(), asyncio::RuntimeError);
}

namespace {

Coro<void> try_wait(Condition& cond, std::string& error) {
    try {
        co_await cond.wait();
    } catch (const asyncio::RuntimeError& e) {
        error = e.what();
    }
}

}  // namespace

// Differs from CPython on purpose (owner rule): waiting on a condition whose lock another
// task holds raises RuntimeError, and the lock stays with its owner.
ASYNCIO_TEST(Condition, WaitWithALockHeldByAnotherTaskRaises) {
    Condition cond;
    co_await cond.acquire();
    std::string error;
    co_await asyncio::create_task(try_wait(cond, error));
    EXPECT_EQ(error, "Lock is not owned by the current task");
    EXPECT_TRUE(cond.locked());
    cond.release();
}

namespace {

Coro<bool> wait_for_predicate(Condition& cond, bool& presult, Ints& result) {
    co_await cond.acquire();
    auto predicate = [&presult] { return presult; };
    bool ok = co_await cond.wait_for(predicate);
    if (ok) {
        result.push_back(1);
        cond.release();
    }
    co_return true;
}

}  // namespace

// test_locks: ConditionTests.test_wait_for
ASYNCIO_TEST(Condition, WaitForRechecksThePredicate) {
    Condition cond;
    bool presult = false;
    Ints result;
    auto t = asyncio::create_task(wait_for_predicate(cond, presult, result));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});

    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});

    presult = true;
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{1});
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

// test_locks: ConditionTests.test_wait_for_unacquired (the list [1, 2, 3] is an optional)
ASYNCIO_TEST(Condition, WaitForUnacquired) {
    Condition cond;
    auto yes = [] { return true; };
    auto no = [] { return false; };
    auto list = [] { return std::optional<Ints>(Ints{1, 2, 3}); };
    EXPECT_TRUE(co_await cond.wait_for(yes));  // true at once: no lock needed
    std::optional<Ints> res = co_await cond.wait_for(list);
    EXPECT_EQ(res, (Ints{1, 2, 3}));
    EXPECT_THROW(co_await cond.wait_for(no), asyncio::RuntimeError);
}

namespace {

// Waits until `count` is non-zero and returns what wait_for returned.
Coro<int> wait_for_count(Condition& cond, int& count, int& calls) {
    auto guard = co_await cond.scoped();
    auto predicate = [&] {
        ++calls;
        return count;
    };
    int value = co_await cond.wait_for(predicate);
    co_return value;
}

Coro<std::unique_ptr<int>> wait_for_box(Condition& cond, std::unique_ptr<int>& box) {
    auto guard = co_await cond.scoped();
    auto take = [&box] { return std::move(box); };  // falsy (null) until one is put there
    std::unique_ptr<int> got = co_await cond.wait_for(take);
    co_return got;
}

}  // namespace

// CPython returns predicate()'s last value, not True: `await cond.wait_for(lambda: n)` is
// the n that ended the wait. Checked on each notify, in the waiting task.
ASYNCIO_TEST(Condition, WaitForReturnsThePredicatesLastValue) {
    Condition cond;
    int count = 0;
    int calls = 0;
    auto t = asyncio::create_task(wait_for_count(cond, count, calls));
    co_await run_until_idle();
    EXPECT_EQ(calls, 1);
    for (int value : {0, 7}) {
        count = value;
        co_await cond.acquire();
        cond.notify();
        cond.release();
        co_await asyncio::sleep(0);
    }
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), 7);
    EXPECT_EQ(calls, 3);

    std::unique_ptr<int> box;
    auto b = asyncio::create_task(wait_for_box(cond, box));
    co_await run_until_idle();
    box = std::make_unique<int>(42);
    co_await cond.acquire();
    cond.notify();
    cond.release();
    std::unique_ptr<int> got = co_await b;
    EXPECT_TRUE(got && *got == 42);
    EXPECT_EQ(box, nullptr);  // moved out once, by the call that ended the wait
}

// test_locks: ConditionTests.test_notify
ASYNCIO_TEST(Condition, NotifyWakesAtMostN) {
    Condition cond;
    Ints result;
    auto t1 = asyncio::create_task(cond_wait_record(cond, result, 1));
    auto t2 = asyncio::create_task(cond_wait_record(cond, result, 2));
    auto t3 = asyncio::create_task(cond_wait_record(cond, result, 3));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});

    co_await cond.acquire();
    cond.notify(1);
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{1});

    co_await cond.acquire();
    cond.notify(1);
    cond.notify(2048);
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, (Ints{1, 2, 3}));
    EXPECT_TRUE(t1.done() && t2.done() && t3.done());
    EXPECT_TRUE(t1.result() && t2.result() && t3.result());
}

// notify(n) with n <= 0 wakes nobody, as CPython's `idx >= n` loop does (an unsigned -1
// would wake every waiter).
ASYNCIO_TEST(Condition, NotifyOfZeroOrLessWakesNobody) {
    Condition cond;
    Ints result;
    auto t1 = asyncio::create_task(cond_wait_record(cond, result, 1));
    auto t2 = asyncio::create_task(cond_wait_record(cond, result, 2));
    co_await run_until_idle();
    co_await cond.acquire();
    cond.notify(-1);
    cond.notify(0);
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});
    EXPECT_FALSE(t1.done() || t2.done());
    co_await cond.acquire();
    cond.notify_all();
    cond.release();
    co_await asyncio::gather(t1, t2);
    EXPECT_EQ(result, (Ints{1, 2}));
}

// test_locks: ConditionTests.test_notify_all
ASYNCIO_TEST(Condition, NotifyAll) {
    Condition cond;
    Ints result;
    auto t1 = asyncio::create_task(cond_wait_record(cond, result, 1));
    auto t2 = asyncio::create_task(cond_wait_record(cond, result, 2));
    co_await run_until_idle();
    EXPECT_EQ(result, Ints{});

    co_await cond.acquire();
    cond.notify_all();
    cond.release();
    co_await run_until_idle();
    EXPECT_EQ(result, (Ints{1, 2}));
    EXPECT_TRUE(t1.done() && t2.done());
}

// test_locks: ConditionTests.test_notify_unacquired
ASYNCIO_TEST(Condition, NotifyUnacquiredRaises) {
    Condition cond;
    EXPECT_THROW(cond.notify(), asyncio::RuntimeError);
    co_return;
}

// test_locks: ConditionTests.test_notify_all_unacquired
ASYNCIO_TEST(Condition, NotifyAllUnacquiredRaises) {
    Condition cond;
    EXPECT_THROW(cond.notify_all(), asyncio::RuntimeError);
    co_return;
}

// test_locks: ConditionTests.test_context_manager
ASYNCIO_TEST(Condition, ScopedIsAsyncWith) {
    Condition cond;
    EXPECT_FALSE(cond.locked());
    {
        auto guard = co_await cond.scoped();
        EXPECT_TRUE(cond.locked());
    }
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_explicit_lock
ASYNCIO_TEST(Condition, ExplicitLock) {
    Lock lock;
    Condition cond(lock);
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
    {
        auto guard = co_await cond.scoped();
        EXPECT_TRUE(lock.locked());
        EXPECT_TRUE(cond.locked());
    }
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
    {
        auto guard = co_await lock.scoped();
        EXPECT_TRUE(lock.locked());
        EXPECT_TRUE(cond.locked());
    }
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_timeout_in_block (CPython: wait_for(cond.wait(), 0.5);
// here timeout(), so that the wait runs in the task that holds the lock)
ASYNCIO_TEST(Condition, TimeoutInBlock) {
    Condition cond;
    {
        auto guard = co_await cond.scoped();
        EXPECT_THROW(co_await asyncio::timeout(500ms, cond.wait()), asyncio::TimeoutError);
        EXPECT_EQ(elapsed(), 500ms);
        EXPECT_TRUE(cond.locked());  // held again after the timeout
    }
    EXPECT_FALSE(cond.locked());
}

namespace {

Coro<void> wait_for_flag(Condition& cond, bool& wake, bool& raised, std::string& message) {
    auto guard = co_await cond.scoped();
    auto predicate = [&wake] { return wake; };
    try {
        co_await cond.wait_for(predicate);
    } catch (const CancelledError& e) {
        raised = true;
        message = e.message();
        throw;
    }
}

}  // namespace

// test_locks: ConditionTests.test_cancelled_error_wakeup (3.13): cancelled while waiting
// for the notification, the CancelledError comes out with its message.
ASYNCIO_TEST(Condition, CancelledErrorWhileWaitingKeepsItsMessage) {
    Condition cond;
    bool wake = false;
    bool raised = false;
    std::string inside;
    auto task = asyncio::create_task(wait_for_flag(cond, wake, raised, inside));
    co_await run_until_idle();
    task.cancel("foo");
    std::string outside;
    try {
        co_await task;
    } catch (const CancelledError& e) {
        outside = e.message();
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(inside, "foo");
    EXPECT_EQ(outside, "foo");
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_cancelled_error_re_aquire (3.13): cancelled while it
// re-acquires the lock, the CancelledError comes out with its message.
ASYNCIO_TEST(Condition, CancelledErrorWhileReacquiringKeepsItsMessage) {
    Condition cond;
    bool wake = false;
    bool raised = false;
    std::string inside;
    auto task = asyncio::create_task(wait_for_flag(cond, wake, raised, inside));
    co_await run_until_idle();
    co_await cond.acquire();
    wake = true;
    cond.notify();
    co_await run_until_idle();  // the task now waits for the lock
    task.cancel("foo");
    cond.release();
    std::string outside;
    try {
        co_await task;
    } catch (const CancelledError& e) {
        outside = e.message();
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(inside, "foo");
    EXPECT_EQ(outside, "foo");
    EXPECT_FALSE(cond.locked());
}

namespace {

Coro<void> cond_consumer(Condition& cond, int& state) {
    auto guard = co_await cond.scoped();
    auto ready = [&state] { return state != 0; };
    for (;;) {
        co_await cond.wait_for(ready);
        if (state < 0) co_return;
        --state;
    }
}

}  // namespace

// test_locks: ConditionTests.test_cancelled_wakeup (3.13): notified and cancelled before it
// runs, a waiter passes the notification on: the other consumer takes the item.
ASYNCIO_TEST(Condition, WokenThenCancelledPassesTheNotificationOn) {
    Condition cond;
    int state = 0;
    std::vector<Task<void>> c;
    c.push_back(asyncio::create_task(cond_consumer(cond, state)));
    c.push_back(asyncio::create_task(cond_consumer(cond, state)));
    co_await run_until_idle();
    {
        auto guard = co_await cond.scoped();
        state += 1;
        cond.notify(1);
        c[0].cancel();  // while it waits to run
        auto consumed = [&state] { return state == 0; };
        bool timed_out = false;
        try {
            co_await asyncio::timeout(10ms, cond.wait_for(consumed));
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;  // as in CPython: the consumer does not notify back
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(state, 0);
        EXPECT_EQ(elapsed(), 10ms);
        state = -1;
        cond.notify_all();
    }
    co_await c[1];
    EXPECT_TRUE(c[0].cancelled());
    EXPECT_FALSE(cond.locked());
}

// test_locks: ConditionTests.test_cancelled_wakeup_relock (3.13): notified, then cancelled
// while it re-acquires the lock: CPython 3.13's wait() notifies another waiter whenever it
// raises, so the notification still reaches the other consumer.
ASYNCIO_TEST(Condition, WokenThenCancelledWhileRelockingPassesTheNotificationOn) {
    Condition cond;
    int state = 0;
    std::vector<Task<void>> c;
    c.push_back(asyncio::create_task(cond_consumer(cond, state)));
    c.push_back(asyncio::create_task(cond_consumer(cond, state)));
    co_await run_until_idle();
    {
        auto guard = co_await cond.scoped();
        state += 1;
        cond.notify(1);
        co_await asyncio::sleep(0);  // c[0] wakes and waits for the lock
        c[0].cancel();               // while it waits for the lock
        auto consumed = [&state] { return state == 0; };
        bool timed_out = false;
        try {
            co_await asyncio::timeout(10ms, cond.wait_for(consumed));
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(state, 0) << "the notification was lost with the cancelled waiter";
        state = -1;
        cond.notify_all();
    }
    co_await asyncio::wait_for(c[1], 1s);  // a lost wake-up would time out
    EXPECT_TRUE(c[0].cancelled());
    EXPECT_FALSE(cond.locked());
}

// docs/design/cancellation.md: notify() wakes waiters first come, first served.
ASYNCIO_TEST(Condition, NotifyServesWaitersInOrder) {
    Condition cond;
    Ints result;
    std::vector<Task<bool>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(asyncio::create_task(cond_wait_record(cond, result, i)));
    co_await run_until_idle();
    for (int i = 0; i < 5; ++i) {
        co_await cond.acquire();
        cond.notify();
        cond.release();
        co_await asyncio::sleep(0);
    }
    EXPECT_EQ(result, (Ints{0, 1, 2, 3, 4}));
    co_await asyncio::gather(tasks);
}
