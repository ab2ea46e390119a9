// Tests for "any awaitable where CPython takes one" (tasks.hpp, taskgroups.hpp): create_task,
// ensure_future, gather, wait_for, shield, run_until_complete and TaskGroup.create_task with
// a Coro, a Task, a Future and the library's own awaiters (sleep, Queue.get, Lock.acquire,
// Event.wait); and create_task(callable, args...) keeping a capturing lambda alive.
#include <asyncio.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"

#include <memory>
#include <string>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Future;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio_test::elapsed;

// Python: t = asyncio.create_task(asyncio.sleep(5, 'x')); await t
ASYNCIO_TEST(AnyAwaitable, CreateTaskOfSleepAndQueueGet) {
    Task<void> s = asyncio::create_task(asyncio::sleep(5));
    Task<std::string> r = asyncio::create_task(asyncio::sleep(2, std::string("x")));
    asyncio::Queue<int> q;
    Task<int> g = asyncio::create_task(q.get());
    co_await asyncio::sleep(1);
    EXPECT_FALSE(g.done());
    q.put_nowait(7);
    EXPECT_EQ(co_await g, 7);
    EXPECT_EQ(co_await r, "x");
    EXPECT_EQ(elapsed(), 2s);
    co_await s;
    EXPECT_EQ(elapsed(), 5s);
}

// Python: await asyncio.wait_for(q.get(), 0.1) raises TimeoutError and loses no item.
ASYNCIO_TEST(AnyAwaitable, WaitForQueueGetTimesOutWithoutLosingAnItem) {
    asyncio::Queue<int> q;
    bool timed_out = false;
    try {
        (void)co_await asyncio::wait_for(q.get(), 0.1);
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(elapsed(), 100ms);
    q.put_nowait(3);
    EXPECT_EQ(co_await asyncio::wait_for(q.get(), 1), 3);
    EXPECT_TRUE(q.empty());
}

// Python: await asyncio.wait_for(fut, 1): the value in time; else the future is cancelled.
ASYNCIO_TEST(AnyAwaitable, WaitForAFuture) {
    Future<int> f;
    asyncio::get_running_loop().call_later(0.5, [f] { f.set_result(9); });
    EXPECT_EQ(co_await asyncio::wait_for(f, 1), 9);
    Future<int> late;
    bool timed_out = false;
    try {
        (void)co_await asyncio::wait_for(late, 1);
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(late.cancelled());
    EXPECT_EQ(elapsed(), 1500ms);
    Future<int> zero;
    timed_out = false;
    try {
        (void)co_await asyncio::wait_for(zero, 0);
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(zero.cancelled());
}

// Python: await asyncio.gather(fut, asyncio.sleep(1, 'b'), coro())
ASYNCIO_TEST(AnyAwaitable, GatherMixesFuturesAwaitersCorosAndTasks) {
    Future<int> f;
    asyncio::get_running_loop().call_later(2, [f] { f.set_result(1); });
    auto coro = []() -> Coro<int> {
        co_await asyncio::sleep(0.5);
        co_return 3;
    };
    Task<int> t = asyncio::create_task(coro());
    auto [a, b, c, d, e] = co_await asyncio::gather(f, asyncio::sleep(1, std::string("b")), coro(), t, asyncio::sleep(0));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, "b");
    EXPECT_EQ(c, 3);
    EXPECT_EQ(d, 3);
    (void)e;
    EXPECT_EQ(elapsed(), 2s);
    // A failing future's error, with return_exceptions.
    Future<int> bad;
    bad.set_exception(asyncio::ValueError("bad"));
    auto [x, y] = co_await asyncio::gather(asyncio::return_exceptions, bad, asyncio::sleep(1, 5));
    EXPECT_FALSE(x.has_value());
    EXPECT_EQ(*y, 5);
    // A range of futures.
    std::vector<Future<int>> futs(3);
    for (int i = 0; i < 3; ++i) futs[static_cast<std::size_t>(i)].set_result(i);
    std::vector<int> values = co_await asyncio::gather(futs);
    EXPECT_EQ(values, (std::vector<int>{0, 1, 2}));
}

// Python: await asyncio.shield(fut): cancelling the waiter does not cancel the future.
ASYNCIO_TEST(AnyAwaitable, ShieldAFutureAndAnAwaiter) {
    Future<int> f;
    auto waiter = asyncio::create_task([](Future<int> fut) -> Coro<int> { co_return co_await asyncio::shield(fut); }, f);
    co_await asyncio::sleep(1);
    waiter.cancel();
    bool cancelled = false;
    try {
        co_await waiter;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(f.done());
    f.set_result(4);
    EXPECT_EQ(co_await asyncio::shield(f), 4);
    EXPECT_EQ(co_await asyncio::shield(asyncio::sleep(1, 6)), 6);
}

// Python: asyncio.ensure_future returns the task or future itself, and wraps a coroutine.
ASYNCIO_TEST(AnyAwaitable, EnsureFuture) {
    Future<int> f;
    Task<int> t = asyncio::create_task(asyncio::sleep(1, 2));
    EXPECT_TRUE(asyncio::ensure_future(f) == f);
    EXPECT_TRUE(asyncio::ensure_future(t) == t);
    Task<int> w = asyncio::ensure_future(asyncio::sleep(1, 3));
    Task<int> c = asyncio::ensure_future([]() -> Coro<int> { co_return 4; }());
    f.set_result(1);
    EXPECT_EQ(co_await asyncio::ensure_future(f), 1);
    EXPECT_EQ(co_await t + co_await w + co_await c, 9);
}

// Python: loop.run_until_complete(asyncio.sleep(1, 'done'))
TEST(AnyAwaitable, RunUntilCompleteOfAnAwaiter) {
    auto loop = asyncio::testing::new_event_loop();
    EXPECT_EQ(loop->run_until_complete(asyncio::sleep(1, std::string("done"))), "done");
    EXPECT_EQ(loop->time().time_since_epoch(), 1s);
}

ASYNCIO_TEST(AnyAwaitable, TaskGroupCreateTaskOfAwaiters) {
    asyncio::Event ev;
    asyncio::Lock lock;
    co_await lock.acquire();
    std::vector<Task<bool>> waits;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        waits.push_back(tg.create_task(ev.wait()));
        waits.push_back(tg.create_task(lock.acquire()));
        tg.create_task(asyncio::sleep(1));
        co_await asyncio::sleep(2);
        ev.set();
        lock.release();
    });
    EXPECT_TRUE(waits[0].result());
    EXPECT_TRUE(waits[1].result());
    EXPECT_TRUE(lock.locked());  // taken by the child task, which ended holding it
    EXPECT_EQ(elapsed(), 2s);
}

// A coroutine lambda with captures, passed as a temporary: the lambda object would die at
// the end of the statement; create_task(callable, args...) keeps it in the task.
ASYNCIO_TEST(CreateTaskCallable, KeepsACapturingTemporaryLambdaAlive) {
    Counted::reset();
    auto name = std::make_shared<std::string>("worker");
    Task<std::string> t = asyncio::create_task(
        [name, c = Counted{}](int n, std::string suffix) -> Coro<std::string> {
            co_await asyncio::sleep(1);  // the statement that created the task is long over
            co_return *name + "-" + std::to_string(n) + suffix;
        },
        3, std::string("!"));
    EXPECT_EQ(Counted::alive(), 1);  // the captured Counted lives in the task
    EXPECT_EQ(co_await t, "worker-3!");
    EXPECT_EQ(Counted::alive(), 0);  // and dies with it
    EXPECT_EQ(name.use_count(), 1);
}

ASYNCIO_TEST(CreateTaskCallable, TaskGroupAndLoopSpellings) {
    int total = 0;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        for (int i = 1; i <= 3; ++i)
            tg.create_task(
                [&total, i](int scale) -> Coro<void> {
                    co_await asyncio::sleep(i);
                    total += i * scale;
                },
                10);
        co_return;
    });
    EXPECT_EQ(total, 60);
    EXPECT_EQ(elapsed(), 3s);
    Task<int> t = asyncio::get_running_loop().create_task([k = 5]() -> Coro<int> { co_return k; });
    EXPECT_EQ(co_await t, 5);
}

// An exception from the callable's coroutine reaches the awaiter as from any task.
ASYNCIO_TEST(CreateTaskCallable, ExceptionsPropagate) {
    Task<void> t = asyncio::create_task([msg = std::string("boom")]() -> Coro<void> {
        co_await asyncio::sleep(0);
        throw asyncio::ValueError(msg);
    });
    bool caught = false;
    try {
        co_await t;
    } catch (const asyncio::ValueError& e) {
        caught = std::string(e.what()) == "boom";
    }
    EXPECT_TRUE(caught);
}

// g++ 12 rejects `co_await asyncio::wait(std::vector{a, b})` in a coroutine: the variadic
// spelling needs no braced temporary.
ASYNCIO_TEST(WaitVariadic, TasksAsArguments) {
    Task<void> a = asyncio::create_task(asyncio::sleep(1));
    Task<void> b = asyncio::create_task(asyncio::sleep(2));
    Task<int> c = asyncio::create_task(asyncio::sleep(3, 1));
    auto [done, pending] = co_await asyncio::wait(asyncio::FIRST_COMPLETED, a, b);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_TRUE(done.count(a));
    EXPECT_TRUE(pending.count(b));
    EXPECT_EQ(elapsed(), 1s);
    auto [all, none] = co_await asyncio::wait(a, b, c);  // mixed types: sets of AnyTask
    EXPECT_EQ(all.size(), 3u);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(elapsed(), 3s);
}
