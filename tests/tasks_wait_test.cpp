// Tests for asyncio::wait and asyncio::as_completed in asyncio/tasks.hpp: CPython's
// test_tasks.py test_wait* and test_as_completed* (3.11, plus 3.12's test_wait_generator).
// Times are CPython's (0.1 s, 0.15 s, ...), exact on the virtual clock; CPython's
// test-loop generators and advance_time() calls only drive its fake clock and are dropped.
//
// Skipped, and why:
// - test_wait_errors, the return_when=-1 half: ReturnWhen is an enum class, so an invalid
//   value cannot be passed without a cast. The empty-set half is ported.
// - test_wait_invalid_args and test_as_completed_invalid_args (a future or a coroutine
//   instead of a collection: TypeError), and passing coroutines to wait() (3.11:
//   TypeError): rejected at compile time (static_assert), which a run-time test cannot show.
// - test_as_completed_coroutine_without_loop / _use_running_loop: loop arguments, and
//   as_completed takes tasks only (docs/differences.md); the task form of _use_running_loop
//   is AsCompleted.SingleTaskGivesItsResult.
// - The DeprecationWarning of test_yield_wait_does_not_shield_cancel (wait() of coroutines):
//   coroutines do not compile here; the behaviour is ported with a task.
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/scenario.hpp"

#include <list>
#include <ranges>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::elapsed;
using asyncio_test::sleep_for;
using asyncio_test::text_after;
using asyncio_test::value_after;

namespace {

Coro<void> fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await asyncio::sleep(d);
    throw asyncio::ValueError(msg);
}
Coro<std::string> text_fail_after(std::chrono::nanoseconds d, std::string msg) {
    co_await asyncio::sleep(d);
    throw asyncio::ValueError(msg);
}

template <class T>
std::unordered_set<T> set_of(std::initializer_list<T> items) {
    return std::unordered_set<T>(items);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// wait

// test_tasks: test_wait (ALL_COMPLETED by default; doing it again takes no time)
ASYNCIO_TEST(Wait, AllCompletedByDefault) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(sleep_for(150ms));
    std::vector<Task<void>> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks);
    EXPECT_EQ(done, set_of({a, b}));
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(elapsed(), 150ms);
    // Again: everything is done already, so it returns at once, by a different path.
    auto [done2, pending2] = co_await asyncio::wait(tasks);
    EXPECT_EQ(done2, set_of({a, b}));
    EXPECT_TRUE(pending2.empty());
    EXPECT_EQ(elapsed(), 150ms);
}

// test_tasks: test_wait_duplicate_coroutines (the same task twice counts once)
ASYNCIO_TEST(Wait, DuplicatesCountOnce) {
    auto c = asyncio::create_task(text_after(0s, "test"));
    auto s = asyncio::create_task(text_after(0s, "spam"));
    std::vector<Task<std::string>> tasks{c, c, s};
    auto [done, pending] = co_await asyncio::wait(tasks);
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(done.size(), 2u);
    std::set<std::string> results;
    for (const auto& t : done) results.insert(t.result());
    EXPECT_EQ(results, (std::set<std::string>{"test", "spam"}));
}

// test_tasks: test_wait_errors (the empty-set half): ValueError, CPython's message
ASYNCIO_TEST(Wait, EmptySetRaisesValueError) {
    std::vector<Task<void>> none;
    std::string msg;
    try {
        co_await asyncio::wait(none);
    } catch (const asyncio::ValueError& e) {
        msg = e.what();
    }
    EXPECT_EQ(msg, "Set of Tasks/Futures is empty.");
    std::vector<Task<void>> none2;
    EXPECT_THROW(co_await asyncio::wait(none2, 1s, asyncio::FIRST_COMPLETED), asyncio::ValueError);
    EXPECT_EQ(elapsed(), 0s);
}

// test_tasks: test_wait_first_completed
ASYNCIO_TEST(Wait, FirstCompleted) {
    auto a = asyncio::create_task(sleep_for(10s));
    auto b = asyncio::create_task(sleep_for(100ms));
    std::vector<Task<void>> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done, set_of({b}));
    EXPECT_EQ(pending, set_of({a}));
    EXPECT_FALSE(a.done());
    EXPECT_TRUE(b.done());
    EXPECT_NO_THROW(b.result());
    EXPECT_EQ(elapsed(), 100ms);
    a.cancel();  // CPython advances its clock to finish `a`; cancelling is quicker
    EXPECT_THROW(co_await a, asyncio::CancelledError);
}

// test_tasks: test_wait_really_done: the sets are made from done() when wait returns, so a
// task that finished after the first one but before the waiter ran is in `done` too.
// CPython's version (one task doing one sleep(0), the other two) depends on how many loop
// steps CPython's wake-up takes (a done callback, then the waiter future's callback: two
// hops; here one), so two tasks finishing in the same loop step stand for it.
ASYNCIO_TEST(Wait, ReallyDone) {
    auto a = asyncio::create_task(sleep_for(1s));
    auto b = asyncio::create_task(sleep_for(1s));
    auto c = asyncio::create_task(sleep_for(2s));
    std::vector<Task<void>> tasks{c, b, a};
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done, set_of({a, b}));
    EXPECT_EQ(pending, set_of({c}));
    EXPECT_EQ(elapsed(), 1s);
    co_await c;
}

namespace {
// `async def exc(): raise ZeroDivisionError('err')`: raises in its first step, no await.
Coro<void> raise_now() {
    throw asyncio::ValueError("err");
    co_return;  // makes it a coroutine
}
}  // namespace

// test_tasks: test_wait_first_exception (a task that has already failed)
ASYNCIO_TEST(Wait, FirstExceptionAlreadyFailed) {
    auto a = asyncio::create_task(sleep_for(10s));
    auto b = asyncio::create_task(raise_now());
    std::vector<Task<void>> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_EXCEPTION);
    EXPECT_EQ(done, set_of({b}));
    EXPECT_EQ(pending, set_of({a}));
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_THROW(b.result(), asyncio::ValueError);
    a.cancel();
    EXPECT_THROW(co_await a, asyncio::CancelledError);
}

// test_tasks: test_wait_first_exception_in_wait (the exception comes while waiting)
ASYNCIO_TEST(Wait, FirstExceptionWhileWaiting) {
    auto a = asyncio::create_task(sleep_for(10s));
    auto b = asyncio::create_task(fail_after(10ms, "err"));
    std::vector<Task<void>> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_EXCEPTION);
    EXPECT_EQ(done, set_of({b}));
    EXPECT_EQ(pending, set_of({a}));
    EXPECT_EQ(elapsed(), 10ms);
    EXPECT_THROW(b.result(), asyncio::ValueError);
    a.cancel();
    EXPECT_THROW(co_await a, asyncio::CancelledError);
}

// CPython tasks.py _wait(): under FIRST_EXCEPTION a task that ends cancelled is not an
// exception, and without any exception FIRST_EXCEPTION waits for all (the wait() docs).
ASYNCIO_TEST(Wait, FirstExceptionIgnoresCancelledTasksAndOtherwiseWaitsForAll) {
    auto a = asyncio::create_task(sleep_for(10s));
    auto b = asyncio::create_task(sleep_for(2s));
    auto c = asyncio::create_task(sleep_for(3s));
    std::vector<Task<void>> tasks{a, b, c};
    auto canceller = [](Task<void> t) -> Coro<void> {
        co_await asyncio::sleep(1s);
        t.cancel();
    };
    auto k = asyncio::create_task(canceller(a));
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_EXCEPTION);
    EXPECT_EQ(done, set_of({a, b, c}));
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(a.cancelled());
    EXPECT_EQ(elapsed(), 3s);
    co_await k;
}

// test_tasks: test_wait_with_exception (ALL_COMPLETED collects failures in `done`)
ASYNCIO_TEST(Wait, WithException) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(fail_after(150ms, "really"));
    std::vector<Task<void>> tasks{b, a};
    for (int round = 0; round < 2; ++round) {
        auto [done, pending] = co_await asyncio::wait(tasks);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        int errors = 0;
        for (const auto& t : done)
            if (t.exception()) ++errors;
        EXPECT_EQ(errors, 1);
        EXPECT_EQ(elapsed(), 150ms);
    }
}

// test_tasks: test_wait_with_timeout: the pending task is not cancelled and goes on.
ASYNCIO_TEST(Wait, TimeoutReturnsWithoutCancellingPending) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(value_after(150ms, 7));
    std::vector<asyncio::AnyTask> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks, 110ms);
    EXPECT_EQ(done, set_of<asyncio::AnyTask>({a}));
    EXPECT_EQ(pending, set_of<asyncio::AnyTask>({b}));
    EXPECT_EQ(elapsed(), 110ms);
    EXPECT_FALSE(b.done());
    EXPECT_EQ(co_await b, 7);  // not cancelled: it runs to its end
    EXPECT_EQ(elapsed(), 150ms);
}

// test_tasks: test_wait_concurrent_complete: a task finishing at the very deadline is done.
ASYNCIO_TEST(Wait, TaskFinishingAtTheDeadlineIsDone) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(sleep_for(150ms));
    std::vector<Task<void>> tasks{b, a};
    // CPython runs the wait in a task made after `a` and `b`, so their timers come first.
    co_await run_until_idle();
    auto [done, pending] = co_await asyncio::wait(tasks, 100ms);
    EXPECT_EQ(done, set_of({a}));
    EXPECT_EQ(pending, set_of({b}));
    EXPECT_EQ(elapsed(), 100ms);
    co_await b;
}

// A timeout that does not expire: wait returns when the condition holds and leaves no timer.
ASYNCIO_TEST(Wait, UnusedTimeoutLeavesNoTimer) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(sleep_for(10s));
    std::vector<Task<void>> tasks{a, b};
    auto [done, pending] = co_await asyncio::wait(tasks, 5s, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done, set_of({a}));
    EXPECT_EQ(elapsed(), 100ms);
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 1u);  // b's sleep only
    b.cancel();
    EXPECT_THROW(co_await b, asyncio::CancelledError);
}

// test_tasks: test_wait_with_iterator_of_tasks (any input range: here a std::list, not a
// vector).
ASYNCIO_TEST(Wait, IteratorOfTasks) {
    auto a = asyncio::create_task(sleep_for(100ms));
    auto b = asyncio::create_task(sleep_for(150ms));
    std::list<Task<void>> tasks{b, a};
    auto [done, pending] = co_await asyncio::wait(tasks);
    EXPECT_EQ(done, set_of({a, b}));
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(elapsed(), 150ms);
}

namespace {
Coro<int> identity(int a) { co_return a; }

// A lazy input range that creates task i when its iterator is dereferenced: CPython's
// generator of tasks. Written by hand because clang 14 cannot compile libstdc++ 12's
// std::views (iota | transform, ref_view) in this position.
struct TaskGenerator {
    struct iterator {
        using value_type = Task<int>;
        using difference_type = std::ptrdiff_t;
        int i = 0;
        Task<int> operator*() const { return asyncio::create_task(identity(i)); }
        iterator& operator++() {
            ++i;
            return *this;
        }
        void operator++(int) { ++i; }
        friend bool operator==(const iterator& x, const iterator& y) { return x.i == y.i; }
    };
    int n;
    [[nodiscard]] iterator begin() const { return {0}; }
    [[nodiscard]] iterator end() const { return {n}; }
};
static_assert(std::ranges::input_range<TaskGenerator>);
}  // namespace

// test_tasks: test_wait_generator (3.12): the tasks come from a generator, made as wait
// iterates it.
ASYNCIO_TEST(Wait, Generator) {
    auto [done, pending] = co_await asyncio::wait(TaskGenerator{10}, asyncio::ALL_COMPLETED);
    EXPECT_EQ(done.size(), 10u);
    EXPECT_EQ(pending.size(), 0u);
    int sum = 0;
    for (const auto& t : done) sum += t.result();
    EXPECT_EQ(sum, 45);
}

// wait takes AnyTask handles, so tasks of different result types can be waited together.
ASYNCIO_TEST(Wait, TasksOfDifferentTypes) {
    Task<int> a = asyncio::create_task(value_after(1s, 1));
    Task<void> b = asyncio::create_task(sleep_for(2s));
    std::vector<asyncio::AnyTask> tasks{a, b};
    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_COMPLETED);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_TRUE(done.contains(a));
    EXPECT_TRUE(pending.contains(b));
    EXPECT_EQ(a.result(), 1);
    co_await b;
}

namespace {
Coro<void> inner_until(Future<void> waiter, int& proof) {
    co_await waiter;
    proof += 1;
}
Coro<void> outer_waits(Task<void> inner, int& proof) {
    std::vector<Task<void>> tasks{inner};
    co_await asyncio::wait(tasks);
    proof += 100;
}
}  // namespace

// test_tasks: test_yield_wait_does_not_shield_cancel: cancelling the task in wait() makes it
// raise CancelledError at once and leaves the waited tasks running.
ASYNCIO_TEST(Wait, CancellingTheWaiterLeavesTheTasksRunning) {
    Future<void> waiter;
    int proof = 0;
    auto inner = asyncio::create_task(inner_until(waiter, proof));
    auto f = asyncio::create_task(outer_waits(inner, proof));
    co_await run_until_idle();
    f.cancel();
    EXPECT_THROW(co_await f, asyncio::CancelledError);
    EXPECT_FALSE(inner.done());
    EXPECT_FALSE(waiter.cancelled());
    waiter.set_result();
    co_await inner;
    EXPECT_EQ(proof, 1);
}

// The timeout runs on the loop's clock, in the default ALL_COMPLETED mode too, and a
// cancelled wait leaves no timer.
ASYNCIO_TEST(Wait, CancelledWaitWithTimeoutLeavesNoTimer) {
    auto a = asyncio::create_task(sleep_for(10s));
    auto waiter_body = [](Task<void> t) -> Coro<void> {
        std::vector<Task<void>> tasks{t};
        co_await asyncio::wait(tasks, 5s);
    };
    auto w = asyncio::create_task(waiter_body(a));
    co_await asyncio::sleep(1s);
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 2u);
    w.cancel();
    EXPECT_THROW(co_await w, asyncio::CancelledError);
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 1u);  // a's sleep
    EXPECT_FALSE(a.done());
    a.cancel();
    EXPECT_THROW(co_await a, asyncio::CancelledError);
}

// ---------------------------------------------------------------------------------------
// as_completed

namespace {
Coro<std::string> sleeper_logged(std::chrono::nanoseconds d, std::string x, std::set<std::string>& completed) {
    co_await asyncio::sleep(d);
    completed.insert(x);
    co_return x;
}
}  // namespace

// test_tasks: test_as_completed (completion order, range-for use)
ASYNCIO_TEST(AsCompleted, YieldsInCompletionOrder) {
    std::set<std::string> completed;
    auto a = asyncio::create_task(sleeper_logged(10ms, "a", completed));
    auto b = asyncio::create_task(sleeper_logged(10ms, "b", completed));
    auto c = asyncio::create_task(sleeper_logged(150ms, "c", completed));
    std::vector<Task<std::string>> tasks{b, c, a};
    std::vector<std::string> values;
    for (auto f : asyncio::as_completed(tasks)) values.push_back(co_await f);
    EXPECT_EQ(elapsed(), 150ms);
    EXPECT_EQ(values.size(), 3u);
    std::set<std::string> first_two(values.begin(), values.begin() + 2);
    EXPECT_EQ(first_two, (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(values[2], "c");
}

// test_tasks: test_as_completed_with_timeout: what finished before the timeout comes first,
// then TimeoutError; the tasks are not cancelled.
ASYNCIO_TEST(AsCompleted, WithTimeout) {
    auto a = asyncio::create_task(text_after(100ms, "a"));
    auto b = asyncio::create_task(text_after(150ms, "b"));
    std::vector<Task<std::string>> tasks{a, b};
    std::vector<std::string> values;
    std::chrono::nanoseconds timed_out_at{-1};
    for (auto f : asyncio::as_completed(tasks, 120ms)) {
        try {
            values.push_back(co_await f);
        } catch (const asyncio::TimeoutError&) {
            values.push_back("TimeoutError");
            timed_out_at = elapsed();
        }
    }
    EXPECT_EQ(values, (std::vector<std::string>{"a", "TimeoutError"}));
    EXPECT_EQ(timed_out_at, 120ms);
    EXPECT_FALSE(b.done());
    EXPECT_EQ(co_await b, "b");  // not cancelled
    EXPECT_EQ(elapsed(), 150ms);
}

// The brief's case of test_as_completed_with_timeout: every item left at the timeout raises
// TimeoutError, at the timeout, while the tasks run on.
ASYNCIO_TEST(AsCompleted, EveryRemainingItemRaisesTimeoutError) {
    auto a = asyncio::create_task(value_after(1s, 1));
    auto b = asyncio::create_task(value_after(5s, 2));
    auto c = asyncio::create_task(value_after(6s, 3));
    auto d = asyncio::create_task(value_after(2s, 4));
    std::vector<Task<int>> tasks{a, b, c, d};
    auto ac = asyncio::as_completed(tasks, 3s);
    EXPECT_EQ(ac.size(), 4u);
    std::vector<int> values;
    int timeouts = 0;
    for (auto f : ac) {
        try {
            values.push_back(co_await f);
        } catch (const asyncio::TimeoutError&) {
            ++timeouts;
        }
        if (timeouts > 0) {
            EXPECT_EQ(elapsed(), 3s);
        }
    }
    EXPECT_EQ(values, (std::vector<int>{1, 4}));
    EXPECT_EQ(timeouts, 2);
    EXPECT_FALSE(b.cancelled());
    EXPECT_FALSE(c.cancelled());
    EXPECT_EQ(co_await c, 3);
    EXPECT_EQ(b.result(), 2);
    EXPECT_EQ(elapsed(), 6s);
}

// test_tasks: test_as_completed_with_unused_timeout; and the timer goes with the iteration.
ASYNCIO_TEST(AsCompleted, UnusedTimeout) {
    auto a = asyncio::create_task(text_after(10ms, "a"));
    std::vector<Task<std::string>> tasks{a};
    {
        auto ac = asyncio::as_completed(tasks, 1s);
        for (auto f : ac) EXPECT_EQ(co_await f, "a");
        EXPECT_EQ(elapsed(), 10ms);
    }
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
}

// test_tasks: test_as_completed_reverse_wait: any item gives the next completion, whichever
// is awaited first.
ASYNCIO_TEST(AsCompleted, ReverseWait) {
    auto a = asyncio::create_task(text_after(50ms, "a"));
    auto b = asyncio::create_task(text_after(100ms, "b"));
    std::vector<Task<std::string>> fs{a, b};
    std::vector<Coro<std::string>> futs;
    for (auto f : asyncio::as_completed(fs)) futs.push_back(std::move(f));
    EXPECT_EQ(futs.size(), 2u);
    std::string x = co_await futs[1];
    EXPECT_EQ(x, "a");
    EXPECT_EQ(elapsed(), 50ms);
    std::string y = co_await futs[0];
    EXPECT_EQ(y, "b");
    EXPECT_EQ(elapsed(), 100ms);
}

namespace {
struct ConcurrentOutcome {
    std::size_t done = 0;
    std::size_t pending = 0;
    std::set<std::string> results;
    std::chrono::nanoseconds at{-1};
};
Coro<void> await_items_concurrently(ConcurrentOutcome& out) {
    auto a = asyncio::create_task(text_after(50ms, "a"));
    auto b = asyncio::create_task(text_after(50ms, "b"));
    std::vector<Task<std::string>> fs{a, b};
    std::vector<Task<std::string>> waiters;
    for (auto f : asyncio::as_completed(fs)) waiters.push_back(asyncio::create_task(std::move(f)));
    auto [done, pending] = co_await asyncio::wait(waiters, 10s);  // 10 s: a hang becomes a failure
    out.done = done.size();
    out.pending = pending.size();
    for (const auto& t : done) out.results.insert(t.result());
    out.at = elapsed();
}
}  // namespace

// test_tasks: test_as_completed_concurrent: the items may be awaited concurrently, each
// from its own task. A plain TEST on its own virtual-clock loop: if an item never wakes,
// loop.close() destroys it, where asyncio::run would wait for it forever.
TEST(AsCompleted, Concurrent) {
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    ConcurrentOutcome out;
    loop->run_until_complete(await_items_concurrently(out));
    loop->close();
    EXPECT_EQ(out.done, 2u);
    EXPECT_EQ(out.pending, 0u);
    EXPECT_EQ(out.results, (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(out.at, 50ms);
    EXPECT_TRUE(reports.empty()) << reports.size() << " report(s), the first: " << reports.front();
}

namespace {
Coro<int> await_int_future(Future<int> f) { co_return co_await f; }
struct PassOnOutcome {
    bool w1_cancelled = false;
    int w2_result = -1;
    std::chrono::nanoseconds at{-1};
    bool b_done = true;
};
Coro<void> cancelled_item_passes_completion_on(PassOnOutcome& out) {
    auto& loop = asyncio::get_running_loop();
    Future<int> fut;
    auto a = asyncio::create_task(await_int_future(fut));
    auto b = asyncio::create_task(value_after(2s, 2));
    std::vector<Task<int>> tasks{a, b};
    auto ac = asyncio::as_completed(tasks, 10s);  // 10 s: a lost completion becomes a failure
    auto w1 = asyncio::create_task(ac.next());
    auto w2 = asyncio::create_task(ac.next());
    co_await asyncio::sleep(1s);
    fut.set_result(1);                      // `a` finishes in the next step, waking w1 first
    loop.call_soon([w1] { w1.cancel(); });  // w1 is cancelled before it can run
    try {
        co_await w1;
    } catch (const asyncio::CancelledError&) {
        out.w1_cancelled = true;
    }
    try {
        out.w2_result = co_await w2;
    } catch (const asyncio::TimeoutError&) {
        out.w2_result = -2;
    }
    out.at = elapsed();
    out.b_done = b.done();
    co_await b;
}
}  // namespace

// An item cancelled after a completion was handed to it passes the completion on to the
// next item awaited (CPython: the items await a Queue.get(), whose cancellation wakes the
// next getter; 3.12.1 prints "w1 cancelled", "w2 1"). A plain TEST on its own loop, like
// AsCompleted.Concurrent, so that a stuck item fails instead of hanging asyncio::run.
TEST(AsCompleted, CancelledItemPassesItsCompletionOn) {
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    PassOnOutcome out;
    loop->run_until_complete(cancelled_item_passes_completion_on(out));
    loop->close();
    EXPECT_TRUE(out.w1_cancelled);
    EXPECT_EQ(out.w2_result, 1);
    EXPECT_EQ(out.at, 1s);
    EXPECT_FALSE(out.b_done);
    EXPECT_TRUE(reports.empty()) << reports.size() << " report(s), the first: " << reports.front();
}

// test_tasks: test_as_completed_duplicate_coroutines: the same task twice yields once
// (CPython makes a set of the arguments).
ASYNCIO_TEST(AsCompleted, DuplicatesYieldOnce) {
    auto c = asyncio::create_task(text_after(0s, "ham"));
    auto s = asyncio::create_task(text_after(0s, "spam"));
    std::vector<Task<std::string>> tasks{c, c, s};
    std::vector<std::string> result;
    auto ac = asyncio::as_completed(tasks);
    EXPECT_EQ(ac.size(), 2u);
    for (auto f : ac) result.push_back(co_await f);
    EXPECT_EQ(std::set<std::string>(result.begin(), result.end()), (std::set<std::string>{"ham", "spam"}));
    EXPECT_EQ(result.size(), 2u);
}

// test_tasks: test_as_completed_coroutine_use_running_loop, with a task: one item, its result.
ASYNCIO_TEST(AsCompleted, SingleTaskGivesItsResult) {
    std::vector<Task<int>> tasks{asyncio::create_task(value_after(0s, 42))};
    auto ac = asyncio::as_completed(tasks);
    EXPECT_EQ(ac.size(), 1u);
    Coro<int> first = ac.next();
    EXPECT_EQ(co_await first, 42);
}

// An item whose task failed raises that task's exception; the next items go on.
ASYNCIO_TEST(AsCompleted, ItemRaisesItsTasksException) {
    auto a = asyncio::create_task(text_fail_after(1s, "bad"));
    auto b = asyncio::create_task(text_after(2s, "b"));
    std::vector<Task<std::string>> tasks{b, a};
    std::vector<std::string> values;
    for (auto f : asyncio::as_completed(tasks)) {
        try {
            values.push_back(co_await f);
        } catch (const asyncio::ValueError& e) {
            values.push_back(std::string("error: ") + e.what());
        }
    }
    EXPECT_EQ(values, (std::vector<std::string>{"error: bad", "b"}));
    EXPECT_EQ(elapsed(), 2s);
}

// as_completed of nothing iterates zero times.
ASYNCIO_TEST(AsCompleted, EmptyIteratesZeroTimes) {
    std::vector<Task<int>> none;
    int n = 0;
    for (auto f : asyncio::as_completed(none)) {
        (void)f;
        ++n;
    }
    EXPECT_EQ(n, 0);
    EXPECT_EQ(elapsed(), 0s);
    co_return;
}

namespace {
Coro<int> first_of(std::vector<Task<int>> tasks) {
    auto ac = asyncio::as_completed(tasks);
    co_return co_await ac.next();
}
}  // namespace

// Cancelling the task that awaits an item leaves the tasks running (cancel-safe).
ASYNCIO_TEST(AsCompleted, CancellingTheIteratingTaskLeavesTheTasksRunning) {
    auto a = asyncio::create_task(value_after(2s, 1));
    auto b = asyncio::create_task(value_after(3s, 2));
    auto w = asyncio::create_task(first_of({a, b}));
    co_await asyncio::sleep(1s);
    w.cancel();
    EXPECT_THROW(co_await w, asyncio::CancelledError);
    EXPECT_FALSE(a.done());
    EXPECT_EQ(co_await a, 1);
    EXPECT_EQ(co_await b, 2);
    EXPECT_EQ(elapsed(), 3s);
}

// The iteration can be abandoned early; the tasks run on and nothing is left behind.
ASYNCIO_TEST(AsCompleted, AbandonedIterationLeavesNothingBehind) {
    auto a = asyncio::create_task(value_after(1s, 1));
    auto b = asyncio::create_task(value_after(2s, 2));
    std::vector<Task<int>> tasks{a, b};
    {
        auto ac = asyncio::as_completed(tasks, 10s);
        for (auto f : ac) {
            EXPECT_EQ(co_await f, 1);
            break;
        }
    }
    EXPECT_EQ(co_await b, 2);
    EXPECT_EQ(elapsed(), 2s);
    EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
}
