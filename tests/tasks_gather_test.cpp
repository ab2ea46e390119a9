// Tests for asyncio::gather in asyncio/tasks.hpp: CPython's test_tasks.py GatherTestsBase,
// FutureGatherTests, CoroutineGatherTests and the gather cases of BaseTaskTests, plus
// docs/design/cancellation.md's difference (on the first error the other children, Coros and Tasks alike,
// are cancelled and awaited before the error is raised) and the C++ forms (tuple with
// std::monostate for void, Outcome<T> slots, the range form returning a vector).
//
// CPython's futures become Coro children that await an asyncio::Future (CoroutineGatherTests'
// wrap_futures) or Tasks made from them (FutureGatherTests: gather takes Coros and Tasks).
// CPython's `while loop._ready: test_utils.run_briefly(loop)` is run_until_idle().
//
// Skipped, and why:
// - test_env_var_debug: debug mode and PYTHONASYNCIODEBUG do not exist here.
// - FutureGatherTests.test_constructor_empty_sequence_without_loop / _use_global_loop,
//   CoroutineGatherTests.test_constructor_without_loop / _use_running_loop /
//   _use_global_loop, test_constructor_homogenous_futures: loop arguments and global loops;
//   gather() is a lazy Coro that only touches the loop when awaited.
// - test_issue46672 (gather(coro, {}) raises TypeError): a non-awaitable argument does not
//   compile (the TaskLike constraint).
// - test_task_del_collect (gc.collect in __del__): no GC in C++. test_context_3
//   (contextvars) is contextvars_test.cpp's ContextTasks.HundredTasksAreIsolated.
// - The parts of test_one_exception / test_one_cancellation that set results on the other
//   children after the gather is done ("Does nothing"): here those children were cancelled
//   (docs/design/cancellation.md), and the tests check that instead.
// - The exc.__context__ chain of test_cancel_gather_2: C++ exceptions carry no context.
// - The `gatherer.cancel()` returns False part of test_cancellation_broadcast and the
//   _GatheringFuture object of test_cancel_gather_1: gather returns a Coro, not a future;
//   the task-form behaviour is tested instead.
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/scenario.hpp"

#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Outcome;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::await_future;
using asyncio_test::counted_sleeper;
using asyncio_test::elapsed;
using asyncio_test::set_flag;
using asyncio_test::sleep_for;
using asyncio_test::text_after;
using asyncio_test::value_after;

namespace {

Coro<int> value_after_logged(std::chrono::nanoseconds d, int v, std::vector<int>& completed) {
    co_await asyncio::sleep(d);
    completed.push_back(v);
    co_return v;
}
Coro<int> fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await asyncio::sleep(d);
    throw asyncio::ValueError(msg);
}

// What a child did, kept in the caller's frame: a child that outlived its gather would
// write here after the caller moved on.
struct Trace {
    bool started = false;
    bool cancelled = false;
    bool finished = false;
    std::chrono::nanoseconds finished_at{-1};
};

// Sleeps `d` and returns `v`; if cancelled, spends `cleanup` cleaning up, then re-raises.
Coro<int> slow_to_cancel(std::chrono::nanoseconds d, std::chrono::nanoseconds cleanup, Trace& tr, int v) {
    tr.started = true;
    std::exception_ptr cancel;
    try {
        co_await asyncio::sleep(d);
    } catch (const asyncio::CancelledError&) {
        cancel = std::current_exception();  // no co_await in a handler (g++ 12, docs/design/toolchain.md)
    }
    if (cancel) {
        tr.cancelled = true;
        co_await asyncio::sleep(cleanup);
    }
    tr.finished = true;
    tr.finished_at = elapsed();
    if (cancel) std::rethrow_exception(cancel);
    co_return v;
}

// Sleeps `d`; if cancelled, refuses: keeps going and returns `v` after `extra`.
Coro<int> refuses_cancel(std::chrono::nanoseconds d, std::chrono::nanoseconds extra, Trace& tr, int v) {
    tr.started = true;
    bool cancelled = false;
    try {
        co_await asyncio::sleep(d);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        tr.cancelled = true;
        co_await asyncio::sleep(extra);
    }
    tr.finished = true;
    tr.finished_at = elapsed();
    co_return v;
}

// On cancellation, raises another error instead.
Coro<int> fails_when_cancelled(std::chrono::nanoseconds d, std::string msg) {
    bool cancelled = false;
    try {
        co_await asyncio::sleep(d);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) throw asyncio::RuntimeError(msg);
    co_return 0;
}

Coro<int> counted_fail(Counted c, std::chrono::nanoseconds d) {
    (void)c;
    co_await asyncio::sleep(d);
    throw asyncio::ValueError("counted failure");
}
// Holds a Counted in a nested Coro too, and takes `cleanup` to honour a cancellation.
Coro<int> counted_slow_to_cancel(Counted c, std::chrono::nanoseconds d, std::chrono::nanoseconds cleanup) {
    (void)c;
    bool cancelled = false;
    try {
        co_await counted_sleeper(Counted{}, d);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await asyncio::sleep(cleanup);
        throw asyncio::CancelledError();
    }
    co_return 2;
}

// A task that sets `flag` when it runs: proves whether an await yielded to the loop.

}  // namespace

// ---------------------------------------------------------------------------------------
// GatherTestsBase (run by both FutureGatherTests and CoroutineGatherTests)

// test_tasks: GatherTestsBase.test_success (CoroutineGatherTests: the children are coroutines)
ASYNCIO_TEST(Gather, SuccessWithCoroChildren) {
    Future<int> a, b, c;
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(await_future(a), await_future(b), await_future(c)));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    b.set_result(1);
    a.set_result(2);
    co_await run_until_idle();
    EXPECT_EQ(calls, 0);
    EXPECT_FALSE(g.done());
    c.set_result(3);
    co_await run_until_idle();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.result(), std::make_tuple(2, 1, 3));
    EXPECT_EQ(elapsed(), 0s);
}

// test_tasks: GatherTestsBase.test_success (FutureGatherTests: the children exist already,
// as Tasks here)
ASYNCIO_TEST(Gather, SuccessWithTaskChildren) {
    Future<int> a, b, c;
    auto ta = asyncio::create_task(await_future(a));
    auto tb = asyncio::create_task(await_future(b));
    auto tc = asyncio::create_task(await_future(c));
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(ta, tb, tc));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    b.set_result(1);
    a.set_result(2);
    co_await run_until_idle();
    EXPECT_EQ(calls, 0);
    EXPECT_FALSE(g.done());
    c.set_result(3);
    co_await run_until_idle();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(g.result(), std::make_tuple(2, 1, 3));
}

// test_tasks: GatherTestsBase.test_result_exception_success (_check_success with
// return_exceptions=True): every slot holds its value.
ASYNCIO_TEST(Gather, ReturnExceptionsWithoutErrorsGivesValues) {
    Future<int> a, b, c;
    auto g = asyncio::create_task(asyncio::gather(asyncio::return_exceptions, await_future(a), await_future(b), await_future(c)));
    co_await run_until_idle();
    b.set_result(1);
    a.set_result(2);
    co_await run_until_idle();
    EXPECT_FALSE(g.done());
    c.set_result(3);
    auto [ra, rb, rc] = co_await g;
    static_assert(std::is_same_v<decltype(ra), Outcome<int>>);
    EXPECT_TRUE(ra.has_value());
    EXPECT_TRUE(rb.has_value());
    EXPECT_TRUE(rc.has_value());
    EXPECT_EQ(*ra, 2);
    EXPECT_EQ(*rb, 1);
    EXPECT_EQ(*rc, 3);
    EXPECT_EQ(ra.exception(), nullptr);
}

// test_tasks: GatherTestsBase.test_one_exception (Coro children). The error is the very
// object the child raised. Differs from CPython (docs/design/cancellation.md): the other children are
// cancelled, so the futures they awaited are cancelled too, instead of "Does nothing".
ASYNCIO_TEST(Gather, OneExceptionWithCoroChildren) {
    Future<int> a, b, c, d, e;
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(await_future(a), await_future(b), await_future(c), await_future(d), await_future(e)));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    std::exception_ptr exc = std::make_exception_ptr(asyncio::ValueError("zero division"));
    a.set_result(1);
    b.set_exception(exc);
    co_await run_until_idle();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(g.exception(), exc);  // assertIs(fut.exception(), exc)
    EXPECT_FALSE(g.cancelled());
    EXPECT_TRUE(c.cancelled());
    EXPECT_TRUE(d.cancelled());
    EXPECT_TRUE(e.cancelled());
    EXPECT_EQ(elapsed(), 0s);
}

// test_tasks: GatherTestsBase.test_one_exception (FutureGatherTests: Task children). The
// Tasks passed in are cancelled like the Coros (docs/design/cancellation.md).
ASYNCIO_TEST(Gather, OneExceptionWithTaskChildren) {
    Future<int> a, b, c, d, e;
    auto ta = asyncio::create_task(await_future(a));
    auto tb = asyncio::create_task(await_future(b));
    auto tc = asyncio::create_task(await_future(c));
    auto td = asyncio::create_task(await_future(d));
    auto te = asyncio::create_task(await_future(e));
    auto g = asyncio::create_task(asyncio::gather(ta, tb, tc, td, te));
    co_await run_until_idle();
    std::exception_ptr exc = std::make_exception_ptr(asyncio::ValueError("zero division"));
    a.set_result(1);
    b.set_exception(exc);
    co_await run_until_idle();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.exception(), exc);
    EXPECT_EQ(ta.result(), 1);
    EXPECT_EQ(tb.exception(), exc);
    EXPECT_TRUE(tc.cancelled());
    EXPECT_TRUE(td.cancelled());
    EXPECT_TRUE(te.cancelled());
}

// test_tasks: GatherTestsBase.test_return_exceptions: [3, 1, exc, exc2], the exceptions being
// the very objects raised, and the gather done only once the last child is.
ASYNCIO_TEST(Gather, ReturnExceptionsKeepsEachSlot) {
    Future<int> a, b, c, d;
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(asyncio::return_exceptions, await_future(a), await_future(b), await_future(c), await_future(d)));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    std::exception_ptr exc = std::make_exception_ptr(asyncio::ValueError("zero division"));
    std::exception_ptr exc2 = std::make_exception_ptr(asyncio::RuntimeError("runtime"));
    b.set_result(1);
    c.set_exception(exc);
    a.set_result(3);
    co_await run_until_idle();
    EXPECT_FALSE(g.done());
    d.set_exception(exc2);
    co_await run_until_idle();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(calls, 1);
    auto [ra, rb, rc, rd] = g.result();
    EXPECT_EQ(*ra, 3);
    EXPECT_EQ(*rb, 1);
    EXPECT_FALSE(rc.has_value());
    EXPECT_EQ(rc.exception(), exc);
    EXPECT_THROW((void)rc.value(), asyncio::ValueError);
    EXPECT_FALSE(rd.has_value());
    EXPECT_EQ(rd.exception(), exc2);
}

// ---------------------------------------------------------------------------------------
// FutureGatherTests

// test_tasks: FutureGatherTests.test_one_cancellation: a cancelled child makes the gather
// raise CancelledError (the task running it ends cancelled, as a CPython task whose
// coroutine raises CancelledError does); the other children are cancelled (docs/design/cancellation.md).
ASYNCIO_TEST(Gather, OneCancellationRaisesCancelledError) {
    Future<int> a, b, c, d, e;
    auto ta = asyncio::create_task(await_future(a));
    auto tb = asyncio::create_task(await_future(b));
    auto tc = asyncio::create_task(await_future(c));
    auto td = asyncio::create_task(await_future(d));
    auto te = asyncio::create_task(await_future(e));
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(ta, tb, tc, td, te));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    a.set_result(1);
    tb.cancel();
    co_await run_until_idle();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(calls, 1);
    EXPECT_THROW(co_await g, asyncio::CancelledError);
    EXPECT_TRUE(tc.cancelled());
    EXPECT_TRUE(td.cancelled());
    EXPECT_TRUE(te.cancelled());
    EXPECT_EQ(ta.result(), 1);
}

// test_tasks: FutureGatherTests.test_result_exception_one_cancellation: with
// return_exceptions a cancelled child's slot holds a CancelledError and the others go on.
ASYNCIO_TEST(Gather, ReturnExceptionsCancelledChildGivesCancelledErrorSlot) {
    Future<int> a, b, c, d, e, f;
    int calls = 0;
    auto g = asyncio::create_task(asyncio::gather(asyncio::return_exceptions, await_future(a), await_future(b), await_future(c),
                                                  await_future(d), await_future(e), await_future(f)));
    g.add_done_callback([&calls](const asyncio::AnyTask&) { ++calls; });
    co_await run_until_idle();
    a.set_result(1);
    std::exception_ptr zde = std::make_exception_ptr(asyncio::ValueError("zero division"));
    b.set_exception(zde);
    c.cancel();
    co_await run_until_idle();
    EXPECT_FALSE(g.done());
    d.set_result(3);
    e.cancel();
    std::exception_ptr rte = std::make_exception_ptr(asyncio::RuntimeError("runtime"));
    f.set_exception(rte);
    auto [ra, rb, rc, rd, re, rf] = co_await g;
    EXPECT_EQ(*ra, 1);
    EXPECT_EQ(rb.exception(), zde);
    EXPECT_FALSE(rc.has_value());
    EXPECT_THROW((void)rc.value(), asyncio::CancelledError);
    EXPECT_EQ(*rd, 3);
    EXPECT_THROW((void)re.value(), asyncio::CancelledError);
    EXPECT_EQ(rf.exception(), rte);
    EXPECT_EQ(calls, 1);
}

// test_tasks: FutureGatherTests.test_constructor_empty_sequence_use_running_loop: gather()
// of nothing gives an empty result at once, without yielding to the loop.
ASYNCIO_TEST(Gather, OfNothingReturnsAtOnce) {
    bool ran = false;
    auto other = asyncio::create_task(set_flag(ran));
    std::tuple<> r = co_await asyncio::gather();
    (void)r;
    EXPECT_FALSE(ran);  // no trip through the loop
    std::vector<Coro<int>> none;
    std::vector<int> v = co_await asyncio::gather(std::move(none));
    EXPECT_TRUE(v.empty());
    std::vector<Task<int>> no_tasks;
    auto o = co_await asyncio::gather(asyncio::return_exceptions, no_tasks);
    EXPECT_TRUE(o.empty());
    EXPECT_FALSE(ran);
    co_await other;
    EXPECT_EQ(elapsed(), 0s);
}

namespace {
Coro<void> gather_across_loops(asyncio::EventLoop& other, std::string& outcome) {
    auto t1 = asyncio::create_task(value_after(0s, 1));
    auto t2 = other.create_task(value_after(0s, 2));
    auto g = asyncio::create_task(asyncio::gather(t1, t2));
    std::vector<Task<std::tuple<int, int>>> v{g};
    auto [done, pending] = co_await asyncio::wait(v, 1s);  // bounded: wait() cancels nothing
    if (done.empty()) {
        outcome = "still pending after 1 s";
    } else {
        try {
            (void)g.result();
            outcome = "returned";
        } catch (const asyncio::ValueError&) {
            outcome = "ValueError";
        } catch (...) {
            outcome = asyncio::describe(std::current_exception());
        }
    }
}
}  // namespace

// test_tasks: FutureGatherTests.test_constructor_heterogenous_futures: children bound to
// different loops raise ValueError. A plain TEST with loops of its own: if the gather hangs
// instead, close() destroys what is left rather than asyncio::run waiting forever.
TEST(Gather, ChildrenOfDifferentLoopsRaiseValueError) {
    auto one_loop = asyncio::testing::new_event_loop();
    auto other_loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    auto handler = [&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); };
    one_loop->set_exception_handler(handler);
    other_loop->set_exception_handler(handler);
    std::string outcome;
    one_loop->run_until_complete(gather_across_loops(*other_loop, outcome));
    one_loop->close();
    other_loop->close();
    EXPECT_EQ(outcome, "ValueError");
}

// ---------------------------------------------------------------------------------------
// CoroutineGatherTests

// test_tasks: CoroutineGatherTests.test_duplicate_coroutines: `c` given three times gives
// its result three times. A Coro is awaitable once, so the repeated child is a Task.
ASYNCIO_TEST(Gather, DuplicateChildrenGiveTheirResultInEachSlot) {
    auto c = asyncio::create_task(text_after(0s, "abc"));
    auto r = co_await asyncio::gather(c, c, text_after(0s, "def"), c);
    EXPECT_EQ(r, std::make_tuple(std::string("abc"), std::string("abc"), std::string("def"), std::string("abc")));
}

// test_tasks: CoroutineGatherTests.test_cancellation_broadcast: cancelling the task that
// awaits the gather cancels every child and what they await; nothing after it runs.
ASYNCIO_TEST(Gather, CancellationBroadcastsToAllChildren) {
    Future<void> waiter;
    int proof = 0;
    auto inner = [](Future<void> w, int& p) -> Coro<void> {
        co_await w;
        ++p;
    };
    auto child1 = asyncio::create_task(inner(waiter, proof));
    auto child2 = asyncio::create_task(inner(waiter, proof));
    auto outer = [](Task<void> c1, Task<void> c2, int& p) -> Coro<void> {
        co_await asyncio::gather(c1, c2);
        p += 100;
    };
    auto f = asyncio::create_task(outer(child1, child2, proof));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW(co_await f, asyncio::CancelledError);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(child1.cancelled());
    EXPECT_TRUE(child2.cancelled());
    co_await asyncio::sleep(0);
    EXPECT_EQ(proof, 0);
}

// test_tasks: CoroutineGatherTests.test_exception_marking: the gather retrieves its
// children's exceptions, so none is reported as "never retrieved". Two children fail in
// the same step here (in CPython's test the second fails later; here it would be cancelled).
ASYNCIO_TEST(Gather, ChildExceptionsAreMarkedRetrieved) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    std::string raised;
    try {
        co_await asyncio::gather(fail_after(1s, "first"), fail_after(1s, "second"));
    } catch (const asyncio::ValueError& e) {
        raised = e.what();
    }
    EXPECT_EQ(raised, "first");
    co_await run_until_idle();
    EXPECT_TRUE(reports.empty()) << reports.front();
    loop.set_exception_handler({});
}

// ---------------------------------------------------------------------------------------
// BaseTaskTests' gather cases

// test_tasks: test_cancel_gather_1 (Python issue #26923, "gather drops cancellation"), in
// the task form C++ has: a cancellation that reaches the task after its children finished
// is not dropped; the task ends cancelled (CPython 3.12 gives the same for a task that
// awaits gather()).
ASYNCIO_TEST(Gather, CancellationAfterChildrenFinishedIsNotDropped) {
    Future<int> fut;
    auto gather_task = asyncio::create_task(asyncio::gather(await_future(fut)));
    co_await run_until_idle();
    bool cancel_result = false;
    fut.add_done_callback([&cancel_result, gather_task](const Future<int>&) { cancel_result = gather_task.cancel(); });
    fut.set_result(42);
    EXPECT_THROW(co_await gather_task, asyncio::CancelledError);
    EXPECT_TRUE(cancel_result);
    EXPECT_TRUE(gather_task.cancelled());
}

namespace {
Coro<void> gather_in_a_loop() {
    auto time = 0ms;
    while (true) {
        time += 50ms;
        co_await asyncio::gather(asyncio::return_exceptions, sleep_for(50ms));
        if (time > 1s) co_return;
    }
}
}  // namespace

// test_tasks: test_cancel_gather_2: cancelling a task that awaits
// gather(..., return_exceptions=True) raises CancelledError with the cancel message
// (return_exceptions does not swallow the outer cancellation).
ASYNCIO_TEST(Gather, CancelMessagePropagatesThroughReturnExceptions) {
    std::vector<std::string> messages{"", "my message"};
    for (const std::string& msg : messages) {
        auto start = asyncio::get_running_loop().time();
        auto qwe = asyncio::create_task(gather_in_a_loop());
        co_await asyncio::sleep(200ms);
        qwe.cancel(msg);
        std::string seen = "<none>";
        try {
            co_await qwe;
        } catch (const asyncio::CancelledError& e) {
            seen = e.message();
        }
        EXPECT_EQ(seen, msg);
        EXPECT_TRUE(qwe.cancelled());
        EXPECT_EQ(elapsed(start), 200ms);
    }
}

// ---------------------------------------------------------------------------------------
// docs/design/cancellation.md and the C++ forms

// The results come in argument order, not completion order (CPython's gather docs).
ASYNCIO_TEST(Gather, ResultsInArgumentOrderNotCompletionOrder) {
    std::vector<int> completed;
    auto r = co_await asyncio::gather(value_after_logged(3s, 1, completed), value_after_logged(1s, 2, completed),
                                      value_after_logged(2s, 3, completed));
    EXPECT_EQ(r, std::make_tuple(1, 2, 3));
    EXPECT_EQ(completed, (std::vector<int>{2, 3, 1}));
    EXPECT_EQ(elapsed(), 3s);  // concurrently: the longest, not the sum
}

// A heterogenous gather gives a tuple of each child's type; a void child gives
// std::monostate.
ASYNCIO_TEST(Gather, HeterogenousTupleWithMonostateForVoid) {
    auto t = asyncio::create_task(text_after(1s, "task"));
    auto r = co_await asyncio::gather(value_after(2s, 7), sleep_for(1s), text_after(3s, "coro"), t);
    static_assert(std::is_same_v<decltype(r), std::tuple<int, std::monostate, std::string, std::string>>);
    EXPECT_EQ(std::get<0>(r), 7);
    EXPECT_EQ(std::get<2>(r), "coro");
    EXPECT_EQ(std::get<3>(r), "task");
    EXPECT_EQ(elapsed(), 3s);
    auto o = co_await asyncio::gather(asyncio::return_exceptions, sleep_for(1s), value_after(1s, 1));
    static_assert(std::is_same_v<decltype(o), std::tuple<Outcome<void>, Outcome<int>>>);
    EXPECT_TRUE(std::get<0>(o).has_value());
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(*std::get<0>(o))>, std::monostate>);
    EXPECT_EQ(*std::get<1>(o), 1);
}

// gather over a range of Coros returns a vector in range order (gather(*list_of_coros)).
ASYNCIO_TEST(Gather, RangeOfCorosReturnsAVectorInOrder) {
    std::vector<Coro<int>> coros;
    for (int i = 0; i < 5; ++i) coros.push_back(value_after(std::chrono::seconds(5 - i), i));
    std::vector<int> r = co_await asyncio::gather(std::move(coros));
    EXPECT_EQ(r, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(elapsed(), 5s);
    std::vector<Coro<void>> voids;
    voids.push_back(sleep_for(1s));
    voids.push_back(sleep_for(2s));
    std::vector<std::monostate> rv = co_await asyncio::gather(std::move(voids));
    EXPECT_EQ(rv.size(), 2u);
    EXPECT_EQ(elapsed(), 7s);
}

// gather over a range of Tasks.
ASYNCIO_TEST(Gather, RangeOfTasksReturnsAVectorInOrder) {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(asyncio::create_task(value_after(std::chrono::seconds(4 - i), i * 10)));
    std::vector<int> r = co_await asyncio::gather(tasks);
    EXPECT_EQ(r, (std::vector<int>{0, 10, 20, 30}));
    EXPECT_EQ(elapsed(), 4s);
}

// gather(return_exceptions, range): a vector of Outcomes, in range order.
ASYNCIO_TEST(Gather, RangeReturnExceptionsGivesAVectorOfOutcomes) {
    std::vector<Coro<int>> coros;
    coros.push_back(value_after(2s, 1));
    coros.push_back(fail_after(1s, "bad"));
    coros.push_back(value_after(3s, 3));
    std::vector<Outcome<int>> r = co_await asyncio::gather(asyncio::return_exceptions, std::move(coros));
    EXPECT_EQ(r.size(), 3u);
    EXPECT_EQ(*r[0], 1);
    EXPECT_THROW((void)r[1].value(), asyncio::ValueError);
    EXPECT_EQ(*r[2], 3);
    EXPECT_EQ(elapsed(), 3s);  // an error does not cut the others short
}

// return_exceptions: an error does not cancel the siblings; the gather waits for all.
ASYNCIO_TEST(Gather, ReturnExceptionsDoesNotCancelSiblings) {
    Trace tr;
    auto [a, b] = co_await asyncio::gather(asyncio::return_exceptions, fail_after(1s, "bad"), slow_to_cancel(3s, 1s, tr, 5));
    EXPECT_THROW((void)a.value(), asyncio::ValueError);
    EXPECT_EQ(*b, 5);
    EXPECT_FALSE(tr.cancelled);
    EXPECT_EQ(elapsed(), 3s);
}

// docs/design/cancellation.md: on the first error the other Coro children are cancelled, and the gather
// waits for them to finish (their cleanup included) before it raises.
ASYNCIO_TEST(Gather, FirstErrorCancelsCoroChildrenAndAwaitsThem) {
    Trace t1, t2;
    std::string raised;
    std::chrono::nanoseconds raised_at{-1};
    try {
        co_await asyncio::gather(fail_after(1s, "boom"), slow_to_cancel(10s, 1s, t1, 1), slow_to_cancel(10s, 2s, t2, 2));
    } catch (const asyncio::ValueError& e) {
        raised = e.what();
        raised_at = elapsed();
    }
    EXPECT_EQ(raised, "boom");
    EXPECT_TRUE(t1.cancelled);
    EXPECT_TRUE(t2.cancelled);
    EXPECT_TRUE(t1.finished);
    EXPECT_TRUE(t2.finished);
    EXPECT_EQ(t1.finished_at, 2s);
    EXPECT_EQ(t2.finished_at, 3s);
    EXPECT_EQ(raised_at, 3s);  // after the slowest cleanup, not at the error (1 s)
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
}

// docs/design/cancellation.md: Tasks passed in are cancelled and awaited like Coros.
ASYNCIO_TEST(Gather, FirstErrorCancelsTaskChildrenAndAwaitsThem) {
    Trace t1, t2;
    auto a = asyncio::create_task(slow_to_cancel(10s, 1s, t1, 1));
    auto b = asyncio::create_task(fail_after(1s, "boom"));
    auto c = asyncio::create_task(slow_to_cancel(10s, 2s, t2, 2));
    std::chrono::nanoseconds raised_at{-1};
    try {
        co_await asyncio::gather(a, b, c);
    } catch (const asyncio::ValueError&) {
        raised_at = elapsed();
    }
    EXPECT_EQ(raised_at, 3s);
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(c.done());
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(c.cancelled());
    EXPECT_EQ(t1.finished_at, 2s);
    EXPECT_EQ(t2.finished_at, 3s);
}

// docs/design/cancellation.md with the range form.
ASYNCIO_TEST(Gather, RangeFirstErrorCancelsTheRest) {
    Trace t1, t2;
    std::vector<Coro<int>> coros;
    coros.push_back(slow_to_cancel(10s, 1s, t1, 1));
    coros.push_back(fail_after(2s, "boom"));
    coros.push_back(slow_to_cancel(10s, 1s, t2, 2));
    std::chrono::nanoseconds raised_at{-1};
    try {
        co_await asyncio::gather(std::move(coros));
    } catch (const asyncio::ValueError&) {
        raised_at = elapsed();
    }
    EXPECT_EQ(raised_at, 3s);
    EXPECT_TRUE(t1.cancelled && t1.finished);
    EXPECT_TRUE(t2.cancelled && t2.finished);
}

// The first error is the one raised, even if a child cancelled for it fails differently
// while cleaning up; that second error is retrieved, not reported.
ASYNCIO_TEST(Gather, FirstErrorWinsOverErrorsRaisedDuringCancellation) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    std::string raised;
    try {
        co_await asyncio::gather(fails_when_cancelled(10s, "during cancel"), fail_after(1s, "first"));
    } catch (const asyncio::ValueError& e) {
        raised = e.what();
    } catch (const asyncio::RuntimeError& e) {
        raised = std::string("RuntimeError: ") + e.what();
    }
    EXPECT_EQ(raised, "first");
    co_await run_until_idle();
    EXPECT_TRUE(reports.empty());
    loop.set_exception_handler({});
}

// docs/differences.md: the children start when the gather is awaited, not when gather()
// is called (a Coro is lazy).
ASYNCIO_TEST(Gather, ChildrenStartWhenTheGatherIsAwaited) {
    Trace tr;
    auto g = asyncio::gather(slow_to_cancel(1s, 0s, tr, 1));
    co_await asyncio::sleep(1s);
    EXPECT_FALSE(tr.started);
    auto r = co_await std::move(g);
    EXPECT_EQ(std::get<0>(r), 1);
    EXPECT_TRUE(tr.started);
    EXPECT_EQ(elapsed(), 2s);
}

namespace {
Coro<void> gather_two_slow(Trace& t1, Trace& t2) {
    co_await asyncio::gather(slow_to_cancel(10s, 1s, t1, 1), slow_to_cancel(10s, 2s, t2, 2));
}
}  // namespace

// docs/design/cancellation.md: cancelling the task that awaits the gather cancels all children and waits for
// them: the CancelledError comes out after the slowest cleanup (CPython raises as soon as
// the first child ends cancelled).
ASYNCIO_TEST(Gather, CancellingTheGatherCancelsAndAwaitsAllChildren) {
    Trace t1, t2;
    auto outer = asyncio::create_task(gather_two_slow(t1, t2));
    co_await asyncio::sleep(1s);
    outer.cancel();
    co_await asyncio::sleep(1s);
    EXPECT_FALSE(outer.done());  // t2 is still cleaning up
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_EQ(elapsed(), 3s);
    EXPECT_TRUE(t1.cancelled && t1.finished);
    EXPECT_TRUE(t2.cancelled && t2.finished);
    EXPECT_EQ(t2.finished_at, 3s);
}

namespace {
Coro<std::tuple<int, int>> gather_with_refuser(Trace& tr) {
    co_return co_await asyncio::gather(refuses_cancel(10s, 1s, tr, 1), value_after(10s, 2));
}
}  // namespace

// CPython's gather (Python issue 32684, the `outer._cancel_requested` branch): once the
// gather was cancelled it raises CancelledError even if a child refused the cancellation
// and returned a value. CPython 3.12 raises at 1 s, when the other child ends cancelled,
// and leaves the refusing child running; here the gather waits for it (docs/design/cancellation.md).
ASYNCIO_TEST(Gather, CancelledGatherRaisesEvenIfAChildRefuses) {
    Trace tr;
    auto outer = asyncio::create_task(gather_with_refuser(tr));
    co_await asyncio::sleep(1s);
    outer.cancel();
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_TRUE(tr.cancelled);
    EXPECT_TRUE(tr.finished);
    EXPECT_EQ(elapsed(), 2s);
}

// ---------------------------------------------------------------------------------------
// Lifetimes (docs/design/cancellation.md: no child frame outlives its gather)

ASYNCIO_TEST(Gather, NoChildFrameOutlivesAFailedGather) {
    Counted::reset();
    int alive_at_raise = -1;
    try {
        co_await asyncio::gather(counted_sleeper(Counted{}, 10s), counted_fail(Counted{}, 1s), counted_slow_to_cancel(Counted{}, 10s, 2s));
    } catch (const asyncio::ValueError&) {
        alive_at_raise = Counted::alive();
    }
    EXPECT_EQ(alive_at_raise, 0);
    EXPECT_EQ(elapsed(), 3s);
    EXPECT_GE(Counted::constructed, 4);
}

ASYNCIO_TEST(Gather, NoChildFrameOutlivesAFailedGatherOfTasks) {
    Counted::reset();
    auto a = asyncio::create_task(counted_sleeper(Counted{}, 10s));
    auto b = asyncio::create_task(counted_fail(Counted{}, 1s));
    auto c = asyncio::create_task(counted_slow_to_cancel(Counted{}, 10s, 2s));
    int alive_at_raise = -1;
    try {
        co_await asyncio::gather(a, b, c);
    } catch (const asyncio::ValueError&) {
        alive_at_raise = Counted::alive();
    }
    EXPECT_EQ(alive_at_raise, 0);  // the handles live on, the frames do not
}

ASYNCIO_TEST(Gather, NoChildFrameOutlivesAFailedGatherOfARange) {
    Counted::reset();
    std::vector<Coro<int>> coros;
    coros.push_back(counted_slow_to_cancel(Counted{}, 10s, 1s));
    coros.push_back(counted_fail(Counted{}, 1s));
    coros.push_back(counted_sleeper(Counted{}, 10s));
    int alive_at_raise = -1;
    try {
        co_await asyncio::gather(std::move(coros));
    } catch (const asyncio::ValueError&) {
        alive_at_raise = Counted::alive();
    }
    EXPECT_EQ(alive_at_raise, 0);
}

namespace {
Coro<void> gather_counted(int& alive_after) {
    try {
        co_await asyncio::gather(counted_sleeper(Counted{}, 10s), counted_slow_to_cancel(Counted{}, 10s, 2s));
    } catch (const asyncio::CancelledError&) {
        alive_after = Counted::alive();
        throw;
    }
}
Coro<void> gather_counted_return_exceptions(int& alive_after) {
    try {
        co_await asyncio::gather(asyncio::return_exceptions, counted_sleeper(Counted{}, 10s), counted_slow_to_cancel(Counted{}, 10s, 2s));
    } catch (const asyncio::CancelledError&) {
        alive_after = Counted::alive();
        throw;
    }
}
}  // namespace

ASYNCIO_TEST(Gather, NoChildFrameOutlivesACancelledGather) {
    Counted::reset();
    int alive_after = -1;
    auto outer = asyncio::create_task(gather_counted(alive_after));
    co_await asyncio::sleep(1s);
    // the two Counted{} temporaries of the co_await full-expression, the two children's
    // parameters, and the nested sleeper's parameter and temporary
    EXPECT_EQ(Counted::alive(), 6);
    outer.cancel();
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_EQ(alive_after, 0);
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(elapsed(), 3s);
}

ASYNCIO_TEST(Gather, NoChildFrameOutlivesACancelledGatherWithReturnExceptions) {
    Counted::reset();
    int alive_after = -1;
    auto outer = asyncio::create_task(gather_counted_return_exceptions(alive_after));
    co_await asyncio::sleep(1s);
    outer.cancel();
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_EQ(alive_after, 0);
    EXPECT_EQ(elapsed(), 3s);
}

// An un-awaited gather started nothing and leaves nothing: its Coros are destroyed with it.
ASYNCIO_TEST(Gather, UnawaitedGatherDestroysItsChildren) {
    Counted::reset();
    {
        auto g = asyncio::gather(counted_sleeper(Counted{}, 1s), counted_sleeper(Counted{}, 1s));
        EXPECT_EQ(Counted::alive(), 2);
    }
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // only the test's own task
    co_return;
}
