// Tests of the order of events: where CPython goes through a done callback or a timer handle
// scheduled on the ready queue (one "hop"), the library takes the same number of loop steps
// (issue 9 §5, issue 18). Each expected trace is what CPython 3.12.1 prints for the same
// program on a virtual clock (tests/differential/vloop.py); the longer programs live in
// tests/differential/, which compares whole traces.
#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio_test::elapsed;
using asyncio_test::value_after;

namespace {

using Trace = std::vector<std::string>;

Coro<void> sleep_then_log(Trace& trace, std::string name, std::chrono::nanoseconds d) {
    co_await asyncio::sleep(d);
    trace.push_back(name + " woke");
}

Coro<void> sleep_or_cancelled(Trace& trace, std::string name, std::chrono::nanoseconds d) {
    try {
        co_await asyncio::sleep(d);
        trace.push_back(name + " woke");
    } catch (const asyncio::CancelledError&) {
        trace.push_back(name + " cancelled");
        throw;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Timers due together (issue 18, 1)

// A sleep's timer completes its future, which wakes the task one callback later, so
// callbacks due at the same moment run first, even those scheduled after the sleep; ties
// among the callbacks and among the tasks keep their scheduling order.
ASYNCIO_TEST(Order, CallbacksDueWithASleepRunBeforeTheTaskResumes) {
    Trace trace;
    auto& loop = asyncio::get_running_loop();
    auto a = asyncio::create_task(sleep_then_log(trace, "A", 1s));
    co_await asyncio::sleep(0);
    loop.call_later(1, [&] { trace.push_back("cb1"); });
    auto b = asyncio::create_task(sleep_then_log(trace, "B", 1s));
    co_await asyncio::sleep(0);
    loop.call_later(1, [&] { trace.push_back("cb2"); });
    co_await a;
    co_await b;
    EXPECT_EQ(trace, (Trace{"cb1", "cb2", "A woke", "B woke"}));
    EXPECT_EQ(elapsed(), 1s);
}

// The same on the real clock: both timers are overdue when the loop looks (the thread was
// blocked past them), so the order cannot depend on when the poll wakes.
TEST(OrderRealClock, CallbackDueWithASleepRunsBeforeTheTaskResumes) {
    Trace trace;
    auto main = [](Trace& t) -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        auto a = asyncio::create_task(sleep_then_log(t, "A", 1ms));
        co_await asyncio::sleep(0);  // A's timer is scheduled first
        loop.call_later(0.002, [&t] { t.push_back("cb"); });
        std::this_thread::sleep_for(5ms);
        co_await a;
    };
    asyncio::run(main(trace));
    EXPECT_EQ(trace, (Trace{"cb", "A woke"}));
}

Coro<void> timed_sleep(Trace& trace) {
    asyncio::get_running_loop().call_later(1, [&trace] { trace.push_back("cb"); });
    co_await asyncio::sleep(5s);
}

Coro<void> timed_body(Trace& trace) {
    try {
        co_await asyncio::timeout(1s, timed_sleep(trace));
    } catch (const asyncio::TimeoutError&) {
        trace.push_back("timed out");
    }
}

// A timeout's alarm is CPython's call_at handle: it cancels the body from the ready queue,
// and the body resumes one hop later, after a callback due at the same moment.
ASYNCIO_TEST(Order, TimeoutAlarmAndACallbackDueTogether) {
    Trace trace;
    co_await timed_body(trace);
    co_await asyncio::sleep(0);  // (a wrong order would leave "cb" queued past `trace`)
    EXPECT_EQ(trace, (Trace{"cb", "timed out"}));
    EXPECT_EQ(elapsed(), 1s);
}

TEST(OrderRealClock, TimeoutAlarmAndACallbackDueTogether) {
    Trace trace;
    auto body = [](Trace& t) -> Coro<void> {
        asyncio::get_running_loop().call_later(0.002, [&t] { t.push_back("cb"); });
        std::this_thread::sleep_for(5ms);
        co_await asyncio::sleep(1s);
    };
    auto main = [&body](Trace& t) -> Coro<void> {
        try {
            co_await asyncio::timeout(1ms, body(t));
        } catch (const asyncio::TimeoutError&) {
            t.push_back("timed out");
        }
    };
    asyncio::run(main(trace));
    EXPECT_EQ(trace, (Trace{"cb", "timed out"}));
}

// A callback due with the sleep but scheduled before it cancels the task between the hops
// (the sleep's future is not done yet in CPython): the task is woken by the cancellation,
// before what a later callback schedules with call_soon; the withdrawn first hop does
// nothing (it would resume the task a second time).
ASYNCIO_TEST(Order, CancelBetweenTheTimerAndTheWakeUp) {
    Trace trace;
    auto& loop = asyncio::get_running_loop();
    Task<void> a;
    loop.call_later(1, [&] {
        trace.push_back("cb1 cancels A");
        a.cancel();
    });
    loop.call_later(1, [&] {
        trace.push_back("cb2");
        asyncio::get_running_loop().call_soon([&trace] { trace.push_back("Y"); });
    });
    a = asyncio::create_task(sleep_or_cancelled(trace, "A", 1s));
    EXPECT_THROW(co_await a, asyncio::CancelledError);
    co_await asyncio::sleep(0);
    EXPECT_EQ(trace, (Trace{"cb1 cancels A", "cb2", "A cancelled", "Y"}));
    EXPECT_EQ(elapsed(), 1s);
}

// A deadline already past is queued at once (CPython: call_soon), so a body that returns
// without suspending leaves with the alarm still queued: it is withdrawn, nothing is
// cancelled later, and the scope did not expire.
ASYNCIO_TEST(Order, PastDeadlineWithdrawnWhenTheBodyEndsFirst) {
    bool expired = true;
    int r = co_await asyncio::timeout_at(asyncio::get_running_loop().time(), [&](asyncio::Timeout& cm) -> Coro<int> {
        expired = cm.expired();
        co_return 7;
    });
    EXPECT_EQ(r, 7);
    EXPECT_FALSE(expired);
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// ---------------------------------------------------------------------------------------
// as_completed (issue 18, 2)

Coro<void> await_and_log(Task<int> x, Trace& trace) {
    co_await x;
    trace.push_back("other x ran");
}

// The completion reaches the item through a done callback and a queue: another task
// awaiting the same task runs first, even though it began awaiting after as_completed
// registered its callback.
ASYNCIO_TEST(Order, AsCompletedAfterAnotherAwaiterOfTheSameTask) {
    Trace trace;
    auto x = asyncio::create_task(value_after(500ms, 1));
    auto o = asyncio::create_task(await_and_log(x, trace));  // awaits x after as_completed
    for (auto aw : asyncio::as_completed(std::vector{x})) {
        int r = co_await std::move(aw);
        trace.push_back("as_completed -> " + std::to_string(r));
    }
    co_await o;
    EXPECT_EQ(trace, (Trace{"other x ran", "as_completed -> 1"}));
    EXPECT_EQ(elapsed(), 500ms);
}

// A task already done when as_completed starts still goes through its done callback: the
// item suspends, and a task queued before it runs first.
ASYNCIO_TEST(Order, AsCompletedItemOfADoneTaskSuspends) {
    auto done = asyncio::create_task(value_after(0s, 2));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_TRUE(done.done());
    auto later = asyncio::create_task(value_after(0s, 3));
    for (auto aw : asyncio::as_completed(std::vector{done})) {
        int r = co_await std::move(aw);
        EXPECT_EQ(r, 2);
        EXPECT_TRUE(later.done());  // it ran (and finished) while the item waited
    }
    co_await later;
}

// ---------------------------------------------------------------------------------------
// wait, gather, shield, TaskGroup (issue 9 §5)

Coro<void> finish_then_set_soon(asyncio::Event& ev, Trace& trace) {
    co_await asyncio::sleep(1s);
    asyncio::get_running_loop().call_soon([&ev] { ev.set(); });
    trace.push_back("a done");
}

Coro<void> wait_event(asyncio::Event& ev, Trace& trace) {
    co_await ev.wait();
    trace.push_back("b done");
}

// b finishes after a but before wait's callback for a has woken the waiting task: CPython
// returns both done.
ASYNCIO_TEST(Order, WaitFirstCompletedSeesTheTaskThatFinishedInTheMeantime) {
    Trace trace;
    asyncio::Event ev;
    auto a = asyncio::create_task(finish_then_set_soon(ev, trace));
    auto b = asyncio::create_task(wait_event(ev, trace));
    std::vector<Task<void>> ab{a, b};
    auto [done, pending] = co_await asyncio::wait(ab, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(trace, (Trace{"a done", "b done"}));
}

Coro<void> await_then_yield(Task<void> a, Trace& trace) {
    co_await a;
    co_await asyncio::sleep(0);
    trace.push_back("b done");
}

// wait returns while its callback for b is still queued: the callback's node, in wait's
// frame, is withdrawn from the ready queue as the frame ends (ASan checks it is never run).
ASYNCIO_TEST(Order, WaitReturnsWithACompletionStillQueued) {
    Trace trace;
    auto a = asyncio::create_task(value_after(1s, 0));
    auto first = asyncio::create_task([](Task<int> t) -> Coro<void> { co_await t; }(a));
    auto b = asyncio::create_task(await_then_yield(first, trace));
    co_await asyncio::sleep(0);
    std::vector<Task<void>> fb{first, b};
    auto [done, pending] = co_await asyncio::wait(fb, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done.size(), 2u);  // b finished before the waiting task resumed
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(trace, (Trace{"b done"}));
}

Coro<void> fail_after(std::chrono::nanoseconds d, std::string what) {
    co_await asyncio::sleep(d);
    throw asyncio::RuntimeError(what);
}

Coro<void> two_failing(TaskGroup& tg) {
    tg.create_task(fail_after(1s, "a"));
    tg.create_task(fail_after(1s, "b"));
    co_await asyncio::sleep(5s);
}

// Two children failing in the same step: the group learns of each end one callback later,
// so neither's error cancels the other first, and the ExceptionGroup holds both.
ASYNCIO_TEST(Order, TaskGroupKeepsBothErrorsOfTheSameStep) {
    std::vector<std::string> errors;
    try {
        co_await TaskGroup::run(two_failing);
    } catch (const asyncio::ExceptionGroup& eg) {
        for (const auto& e : eg.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const asyncio::RuntimeError& r) {
                errors.push_back(r.what());
            }
        }
    }
    EXPECT_EQ(errors, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(elapsed(), 1s);
}

Coro<void> gather_two(Task<void> c1, Task<void> c2) { co_await asyncio::gather(c1, c2); }

// Cancelling a task that waits in gather cancels the children at once, as CPython's
// _GatheringFuture.cancel() does; the waiter raises once they have all finished.
ASYNCIO_TEST(Order, CancellingAGatherCancelsTheChildrenAtOnce) {
    Trace trace;
    auto c1 = asyncio::create_task(sleep_or_cancelled(trace, "c1", 10s));
    auto c2 = asyncio::create_task(sleep_or_cancelled(trace, "c2", 10s));
    auto p = asyncio::create_task(gather_two(c1, c2));
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(p.cancel("stop"));
    EXPECT_EQ(c1.cancelling(), 1);
    EXPECT_EQ(c2.cancelling(), 1);
    std::string msg;
    try {
        co_await p;
    } catch (const asyncio::CancelledError& e) {
        msg = e.message();
    }
    EXPECT_EQ(msg, "stop");
    EXPECT_TRUE(p.cancelled());
    EXPECT_TRUE(c1.cancelled());
    EXPECT_TRUE(c2.cancelled());
    EXPECT_EQ(trace, (Trace{"c1 cancelled", "c2 cancelled"}));
    EXPECT_EQ(elapsed(), 1s);
}

// gather(return_exceptions)'s slot of a cancelled child is CancelledError with no message
// (CPython builds it from the child's own cancel message, which a task that ended by
// raising CancelledError does not set), though awaiting the child gives "bye".
ASYNCIO_TEST(Order, GatherSlotOfACancelledChildHasNoMessage) {
    Trace trace;
    auto c = asyncio::create_task(sleep_or_cancelled(trace, "c", 10s));
    auto d = asyncio::create_task(value_after(1s, 4));
    asyncio::get_running_loop().call_later(0.5, [&c] { c.cancel("bye"); });
    auto [r0, r1] = co_await asyncio::gather(asyncio::return_exceptions, c, d);
    std::string msg = "unset";
    try {
        r0.value();
    } catch (const asyncio::CancelledError& e) {
        msg = e.message();
    }
    EXPECT_EQ(msg, "");
    EXPECT_EQ(*r1, 4);
    try {
        co_await c;
    } catch (const asyncio::CancelledError& e) {
        msg = e.message();
    }
    EXPECT_EQ(msg, "bye");
}

Coro<std::string> shield_message(Task<int> t) {
    try {
        co_await asyncio::shield(t);
    } catch (const asyncio::CancelledError& e) {
        co_return "CancelledError '" + e.message() + "'";
    }
    co_return "no error";
}

// shield of a task that ends cancelled while waited for: CPython cancels shield's outer
// future with no message.
ASYNCIO_TEST(Order, ShieldOfATaskThatEndsCancelledHasNoMessage) {
    auto t = asyncio::create_task(value_after(10s, 1));
    auto w = asyncio::create_task(shield_message(t));
    co_await asyncio::sleep(1s);
    t.cancel("bye");
    EXPECT_EQ(co_await w, "CancelledError ''");
}

Coro<void> cancel_after(Task<int> inner, Task<std::string>& w, Trace& trace) {
    co_await inner;
    trace.push_back("canceller cancels w");
    w.cancel();
    asyncio::get_running_loop().call_soon([&trace] { trace.push_back("soon after cancel"); });
}

Coro<std::string> shield_traced(Task<int> t, Trace& trace) {
    std::string r = co_await shield_message(t);
    trace.push_back("shield waiter: " + r);
    co_return r;
}

// The waiter is cancelled while shield's callback for the finished task is queued: the
// callback is withdrawn and the waiter woken by the cancellation at once (before what was
// scheduled after it), as CPython's not-yet-done outer future is cancelled.
ASYNCIO_TEST(Order, ShieldWaiterCancelledWhileTheCallbackIsQueued) {
    Trace trace;
    auto inner = asyncio::create_task(value_after(1s, 5));
    Task<std::string> w;
    auto c = asyncio::create_task(cancel_after(inner, w, trace));
    co_await asyncio::sleep(0);  // c awaits inner before the shield does
    w = asyncio::create_task(shield_traced(inner, trace));
    co_await w;
    co_await c;
    EXPECT_EQ(trace, (Trace{"canceller cancels w", "shield waiter: CancelledError ''", "soon after cancel"}));
    EXPECT_EQ(inner.result(), 5);
}

// 3.12's gather runs the callback of a child already done itself: with every child done it
// returns without suspending, before a task queued earlier runs (3.11 suspended here).
ASYNCIO_TEST(Order, GatherOfDoneTasksDoesNotSuspend) {
    auto a = asyncio::create_task(value_after(0s, 1));
    auto b = asyncio::create_task(value_after(0s, 2));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    bool ran = false;
    auto other = asyncio::create_task([](bool& r) -> Coro<void> {
        r = true;
        co_return;
    }(ran));
    auto [x, y] = co_await asyncio::gather(a, b);
    EXPECT_EQ(x + y, 3);
    EXPECT_FALSE(ran);
    co_await other;
    EXPECT_TRUE(ran);
}
