// Tests for asyncio::shield in asyncio/tasks.hpp: CPython's test_tasks.py test_shield_*
// and test_gather_shield. CPython's `outer = shield(inner)` is a future; here shield() is
// awaited inside a task, and that task plays `outer`. CPython's inner futures become Tasks
// awaiting an asyncio::Future (shield takes Coros and Tasks).
//
// Skipped, and why:
// - test_shield_coroutine_without_loop / _use_global_loop: loop arguments and global loops;
//   the running-loop case is Shield.OfACoroRunsItAsATask.
// - test_shield_cancel_outer's `outer._callbacks` check: an internal list; here the
//   waiter's registration on the inner is removed at once, which
//   Shield.CancelOuterDoesNotCancelInner exercises by finishing the inner afterwards
//   (run it under ASan to see a dangling registration).
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/scenario.hpp"

#include <exception>
#include <string>
#include <tuple>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::await_future;
using asyncio_test::elapsed;
using asyncio_test::set_flag;
using asyncio_test::shielded;
using asyncio_test::value_after;

// test_tasks: test_shield_result
ASYNCIO_TEST(Shield, Result) {
    Future<int> fut;
    auto inner = asyncio::create_task(await_future(fut));
    auto outer = asyncio::create_task(shielded(inner));
    fut.set_result(42);
    EXPECT_EQ(co_await outer, 42);
}

// test_tasks: test_shield_exception: the inner's exception, the same object, reaches the
// outer.
ASYNCIO_TEST(Shield, Exception) {
    Future<int> fut;
    auto inner = asyncio::create_task(await_future(fut));
    auto outer = asyncio::create_task(shielded(inner));
    co_await asyncio::sleep(0);
    std::exception_ptr exc = std::make_exception_ptr(asyncio::RuntimeError("expected"));
    fut.set_exception(exc);
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    // Three hops, as in CPython 3.12 (checked): inner wakes and fails, shield's done
    // callback completes its outer future, outer's task wakes. (Two before shield's
    // callback went through the ready queue.)
    EXPECT_FALSE(outer.done());
    co_await asyncio::sleep(0);
    EXPECT_TRUE(outer.done());
    EXPECT_EQ(outer.exception(), exc);
    EXPECT_THROW(co_await outer, asyncio::RuntimeError);
}

// test_tasks: test_shield_cancel_inner: cancelling the inner cancels the outer.
ASYNCIO_TEST(Shield, CancelInnerCancelsOuter) {
    Future<int> fut;
    auto inner = asyncio::create_task(await_future(fut));
    auto outer = asyncio::create_task(shielded(inner));
    co_await asyncio::sleep(0);
    inner.cancel();
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_FALSE(outer.done());  // one hop more than awaiting inner, as in CPython 3.12
    co_await asyncio::sleep(0);
    EXPECT_TRUE(outer.done());
    EXPECT_TRUE(outer.cancelled());
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
}

// test_tasks: test_shield_cancel_outer: cancelling the outer cancels it at once and not the
// inner, whose result stays retrievable through its handle.
ASYNCIO_TEST(Shield, CancelOuterDoesNotCancelInner) {
    Future<int> fut;
    auto inner = asyncio::create_task(await_future(fut));
    auto outer = asyncio::create_task(shielded(inner));
    co_await run_until_idle();
    outer.cancel();
    co_await run_until_idle();
    EXPECT_TRUE(outer.cancelled());
    EXPECT_FALSE(inner.done());
    EXPECT_FALSE(fut.cancelled());
    fut.set_result(7);  // the inner finishes after the outer went away
    EXPECT_EQ(co_await inner, 7);
    EXPECT_EQ(inner.result(), 7);
}

// test_tasks: test_shield_shortcut: shield of a done task returns its result at once,
// without a trip through the loop.
ASYNCIO_TEST(Shield, OfADoneTaskReturnsAtOnce) {
    auto t = asyncio::create_task(value_after(0s, 42));
    co_await t;
    bool ran = false;
    auto other = asyncio::create_task(set_flag(ran));
    int res = co_await asyncio::shield(t);
    EXPECT_EQ(res, 42);
    EXPECT_FALSE(ran);
    co_await other;
}

namespace {
Coro<void> inner_proof(Future<void> waiter, int& proof) {
    co_await waiter;
    proof += 1;
}
Coro<void> outer_proof(Future<void> waiter, int& proof) {
    co_await asyncio::shield(inner_proof(waiter, proof));
    proof += 100;
}
}  // namespace

// test_tasks: test_shield_effect: cancelling the outer does not affect the inner, which was
// given as a coroutine (it becomes a free task, docs/differences.md).
ASYNCIO_TEST(Shield, Effect) {
    Future<void> waiter;
    int proof = 0;
    auto f = asyncio::create_task(outer_proof(waiter, proof));
    co_await asyncio::sleep(0);
    f.cancel();
    EXPECT_THROW(co_await f, asyncio::CancelledError);
    EXPECT_FALSE(waiter.cancelled());
    waiter.set_result();
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(proof, 1);
}

namespace {
Coro<std::tuple<int, int>> shield_gather(Task<std::tuple<int, int>> parent) { co_return co_await asyncio::shield(parent); }
}  // namespace

// test_tasks: test_shield_gather: shield(gather(...)): cancelling the outer leaves the
// gather and its children running; the gather's result stays available.
ASYNCIO_TEST(Shield, ShieldOfGather) {
    Future<int> child1, child2;
    auto parent = asyncio::create_task(asyncio::gather(await_future(child1), await_future(child2)));
    auto outer = asyncio::create_task(shield_gather(parent));
    co_await asyncio::sleep(0);
    outer.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(outer.cancelled());
    EXPECT_FALSE(child1.cancelled());
    child1.set_result(1);
    child2.set_result(2);
    EXPECT_EQ(co_await parent, std::make_tuple(1, 2));
}

// test_tasks: test_gather_shield: gather(shield(a), shield(b)): cancelling the gather
// cancels the shielding awaits, not the shielded children. shield() gives an awaiter, so
// each is wrapped in a Coro (CPython's shield() returns a future).
ASYNCIO_TEST(Shield, GatherOfShields) {
    Future<int> f1, f2;
    auto child1 = asyncio::create_task(await_future(f1));
    auto child2 = asyncio::create_task(await_future(f2));
    auto inner1 = asyncio::create_task(shielded(child1));
    auto inner2 = asyncio::create_task(shielded(child2));
    auto parent = asyncio::create_task(asyncio::gather(inner1, inner2));
    co_await run_until_idle();
    parent.cancel();
    // This should cancel inner1 and inner2 but not child1 and child2.
    EXPECT_THROW(co_await parent, asyncio::CancelledError);
    EXPECT_TRUE(inner1.cancelled());
    EXPECT_TRUE(inner2.cancelled());
    EXPECT_FALSE(child1.done());
    EXPECT_FALSE(child2.done());
    f1.set_result(1);
    f2.set_result(2);
    EXPECT_EQ(co_await child1, 1);
    EXPECT_EQ(co_await child2, 2);
}

// test_tasks: test_shield_coroutine_use_running_loop: shield(coro) runs the coroutine as a
// task on the running loop and gives its result.
ASYNCIO_TEST(Shield, OfACoroRunsItAsATask) {
    int res = co_await asyncio::shield(value_after(1s, 42));
    EXPECT_EQ(res, 42);
    EXPECT_EQ(elapsed(), 1s);
}

// Shield of a task that already failed raises its exception at once; of a cancelled task,
// CancelledError.
ASYNCIO_TEST(Shield, OfADoneFailedOrCancelledTask) {
    auto failing = []() -> Coro<int> {
        throw asyncio::ValueError("failed");
        co_return 0;
    };
    auto t = asyncio::create_task(failing());
    co_await run_until_idle();
    EXPECT_TRUE(t.done());
    EXPECT_THROW(co_await asyncio::shield(t), asyncio::ValueError);
    auto c = asyncio::create_task(value_after(10s, 1));
    c.cancel();
    co_await run_until_idle();
    EXPECT_TRUE(c.cancelled());
    EXPECT_THROW(co_await asyncio::shield(c), asyncio::CancelledError);
    EXPECT_EQ(elapsed(), 0s);
}

namespace {
Coro<int> shield_then_record(Task<int> inner, bool& got_cancel) {
    try {
        co_return co_await asyncio::shield(inner);
    } catch (const asyncio::CancelledError&) {
        got_cancel = true;
        throw;
    }
}
}  // namespace

// The waiter sees CancelledError at the moment of its cancellation, not when the inner ends;
// the inner's exception after that stays with the inner.
ASYNCIO_TEST(Shield, OuterCancelledAtOnceInnerErrorStaysWithInner) {
    auto failing = [](std::chrono::nanoseconds d) -> Coro<int> {
        co_await asyncio::sleep(d);
        throw asyncio::ValueError("inner failed");
    };
    auto inner = asyncio::create_task(failing(5s));
    bool got_cancel = false;
    auto outer = asyncio::create_task(shield_then_record(inner, got_cancel));
    co_await asyncio::sleep(1s);
    outer.cancel();
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_TRUE(got_cancel);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_FALSE(inner.done());
    EXPECT_THROW(co_await inner, asyncio::ValueError);
    EXPECT_EQ(elapsed(), 5s);
}

// Several waiters may shield the same task; cancelling one leaves the others waiting.
ASYNCIO_TEST(Shield, SeveralWaitersOnOneTask) {
    auto inner = asyncio::create_task(value_after(2s, 9));
    auto w1 = asyncio::create_task(shielded(inner));
    auto w2 = asyncio::create_task(shielded(inner));
    co_await asyncio::sleep(1s);
    w1.cancel();
    EXPECT_THROW(co_await w1, asyncio::CancelledError);
    EXPECT_EQ(co_await w2, 9);
    EXPECT_EQ(elapsed(), 2s);
}

// Lifetime: a shielded Coro's frame lives on after the waiter is cancelled (it is a free
// task) and is destroyed when it finishes; the waiter's frame goes at once.
ASYNCIO_TEST(Shield, ShieldedCoroFrameEndsWithItsTask) {
    Counted::reset();
    auto counted = [](Counted c) -> Coro<int> {
        (void)c;
        co_await asyncio::sleep(3s);
        co_return 1;
    };
    auto waiter = [](Coro<int> inner) -> Coro<void> { co_await asyncio::shield(std::move(inner)); };
    auto w = asyncio::create_task(waiter(counted(Counted{})));
    co_await asyncio::sleep(1s);
    EXPECT_EQ(Counted::alive(), 1);
    w.cancel();
    EXPECT_THROW(co_await w, asyncio::CancelledError);
    EXPECT_EQ(Counted::alive(), 1);  // the shielded task still runs
    co_await asyncio::sleep(3s);
    EXPECT_EQ(Counted::alive(), 0);
}
