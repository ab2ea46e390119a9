// Tests for asyncio/queues.hpp's shutdown (3.13): Queue::shutdown, QueueShutDown, for each of
// Queue, LifoQueue and PriorityQueue. A port of CPython's
// Lib/test/test_asyncio/test_queues.py _QueueShutdownTestMixin (3.13), plus the blocked
// getters and putters it wakes, the items an immediate shutdown drops, and a getter woken
// for an item that shutdown then drops. The rest of the queues: queues_test.cpp.
//
// Skipped from test_queues.py:
//   _QueueShutdownTestMixin.test_format          _format() is the private half of repr().
// Adapted:
//   - `asyncio.create_task(q.get())` needs a coroutine here: put()/get() return awaiters,
//     so the tasks run the small get_from/put_into coroutines (support/queues.hpp).
#include <asyncio/queues.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/queues.hpp"
#include "support/scenario.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::LifoQueue;
using asyncio::PriorityQueue;
using asyncio::Queue;
using asyncio::QueueShutDown;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::elapsed;
using asyncio_test::get_from;
using asyncio_test::Ints;
using asyncio_test::join_of;
using asyncio_test::put_into;
using asyncio_test::Strings;

// ---------------------------------------------------------------------------------------
// _QueueShutdownTestMixin (3.13), for each of Queue, LifoQueue and PriorityQueue

namespace {

template <class Q>
Coro<void> check_shutdown_empty() {
    Q q;
    auto get_task = asyncio::create_task(get_from(q));
    co_await run_until_idle();  // the get is pending before the shutdown

    q.shutdown(false);  // unfinished tasks: 0 -> 0
    EXPECT_EQ(q.qsize(), 0u);
    EXPECT_TRUE(q.is_shut_down());

    co_await q.join();  // finishes at once

    co_await run_until_idle();
    EXPECT_TRUE(get_task.done());
    EXPECT_THROW(co_await get_task, QueueShutDown);

    EXPECT_THROW(co_await q.put("data"), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
}

template <class Q>
Coro<void> check_shutdown_nonempty() {
    Q q(1);
    q.put_nowait("data");
    auto join_task = asyncio::create_task(join_of(q));
    auto put_task = asyncio::create_task(put_into(q, std::string("data2")));
    co_await run_until_idle();
    EXPECT_FALSE(put_task.done());

    q.shutdown(false);  // unfinished tasks: 1 -> 1
    EXPECT_EQ(q.qsize(), 1u);

    co_await run_until_idle();
    EXPECT_TRUE(put_task.done());
    EXPECT_THROW(co_await put_task, QueueShutDown);

    EXPECT_EQ(co_await q.get(), "data");  // the item enqueued before is still there

    co_await run_until_idle();
    EXPECT_FALSE(join_task.done());

    EXPECT_THROW(co_await q.put("data"), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);

    q.task_done();  // the one unfinished task
    co_await run_until_idle();
    EXPECT_TRUE(join_task.done());
    co_await join_task;
    EXPECT_THROW(q.task_done(), asyncio::ValueError);
}

template <class Q>
Coro<void> check_shutdown_immediate() {
    Q q;
    q.put_nowait("data");
    auto join_task = asyncio::create_task(join_of(q));

    q.shutdown(true);  // unfinished tasks: 1 -> 0
    EXPECT_EQ(q.qsize(), 0u);

    co_await run_until_idle();
    EXPECT_TRUE(join_task.done());
    co_await join_task;

    EXPECT_THROW(co_await q.put("data"), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
    EXPECT_THROW(q.task_done(), asyncio::ValueError);  // no unfinished tasks
}

template <class Q>
Coro<void> check_shutdown_immediate_with_unfinished() {
    Q q;
    q.put_nowait("data");
    q.put_nowait("data");
    auto join_task = asyncio::create_task(join_of(q));
    EXPECT_EQ(co_await q.get(), "data");

    q.shutdown(true);  // unfinished tasks: 2 -> 1
    EXPECT_EQ(q.qsize(), 0u);

    co_await run_until_idle();
    EXPECT_FALSE(join_task.done());

    EXPECT_THROW(co_await q.put("data"), QueueShutDown);
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);

    q.task_done();  // the one unfinished task
    EXPECT_THROW(q.task_done(), asyncio::ValueError);

    co_await run_until_idle();
    EXPECT_TRUE(join_task.done());
    co_await join_task;
}

}  // namespace

// test_queues: QueueShutdownTests.test_shutdown_empty
ASYNCIO_TEST(QueueShutdown, Empty) { co_await check_shutdown_empty<Queue<std::string>>(); }
// test_queues: LifoQueueShutdownTests.test_shutdown_empty
ASYNCIO_TEST(LifoQueueShutdown, Empty) { co_await check_shutdown_empty<LifoQueue<std::string>>(); }
// test_queues: PriorityQueueShutdownTests.test_shutdown_empty
ASYNCIO_TEST(PriorityQueueShutdown, Empty) { co_await check_shutdown_empty<PriorityQueue<std::string>>(); }

// test_queues: QueueShutdownTests.test_shutdown_nonempty
ASYNCIO_TEST(QueueShutdown, Nonempty) { co_await check_shutdown_nonempty<Queue<std::string>>(); }
// test_queues: LifoQueueShutdownTests.test_shutdown_nonempty
ASYNCIO_TEST(LifoQueueShutdown, Nonempty) { co_await check_shutdown_nonempty<LifoQueue<std::string>>(); }
// test_queues: PriorityQueueShutdownTests.test_shutdown_nonempty
ASYNCIO_TEST(PriorityQueueShutdown, Nonempty) { co_await check_shutdown_nonempty<PriorityQueue<std::string>>(); }

// test_queues: QueueShutdownTests.test_shutdown_immediate
ASYNCIO_TEST(QueueShutdown, Immediate) { co_await check_shutdown_immediate<Queue<std::string>>(); }
// test_queues: LifoQueueShutdownTests.test_shutdown_immediate
ASYNCIO_TEST(LifoQueueShutdown, Immediate) { co_await check_shutdown_immediate<LifoQueue<std::string>>(); }
// test_queues: PriorityQueueShutdownTests.test_shutdown_immediate
ASYNCIO_TEST(PriorityQueueShutdown, Immediate) { co_await check_shutdown_immediate<PriorityQueue<std::string>>(); }

// test_queues: QueueShutdownTests.test_shutdown_immediate_with_unfinished
ASYNCIO_TEST(QueueShutdown, ImmediateWithUnfinished) { co_await check_shutdown_immediate_with_unfinished<Queue<std::string>>(); }
// test_queues: LifoQueueShutdownTests.test_shutdown_immediate_with_unfinished
ASYNCIO_TEST(LifoQueueShutdown, ImmediateWithUnfinished) { co_await check_shutdown_immediate_with_unfinished<LifoQueue<std::string>>(); }
// test_queues: PriorityQueueShutdownTests.test_shutdown_immediate_with_unfinished
ASYNCIO_TEST(PriorityQueueShutdown, ImmediateWithUnfinished) {
    co_await check_shutdown_immediate_with_unfinished<PriorityQueue<std::string>>();
}

namespace {

Coro<std::string> get_or_shutdown(Queue<int>& q) {
    std::string outcome;
    try {
        int item = co_await q.get();
        outcome = std::to_string(item);
    } catch (const QueueShutDown&) {
        outcome = "shutdown";
    }
    co_return outcome;
}

Coro<std::string> put_or_shutdown(Queue<int>& q, int item) {
    std::string outcome = "put";
    try {
        co_await q.put(item);
    } catch (const QueueShutDown&) {
        outcome = "shutdown";
    }
    co_return outcome;
}

}  // namespace

// 3.13: every getter blocked on an empty queue wakes with QueueShutDown, in the step after
// shutdown().
ASYNCIO_TEST(QueueShutdown, BlockedGettersAllWakeWithQueueShutDown) {
    Queue<int> q;
    std::vector<Task<std::string>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(asyncio::create_task(get_or_shutdown(q)));
    co_await asyncio::sleep(1s);
    q.shutdown();
    auto outcomes = co_await asyncio::gather(getters);
    EXPECT_EQ(outcomes, (Strings{"shutdown", "shutdown", "shutdown"}));
    EXPECT_EQ(elapsed(), 1s);
}

// 3.13: every putter blocked on a full queue wakes with QueueShutDown and inserts nothing;
// the items already in can still be taken, then get() raises.
ASYNCIO_TEST(QueueShutdown, BlockedPuttersAllWakeWithQueueShutDown) {
    Queue<int> q(1);
    q.put_nowait(0);
    std::vector<Task<std::string>> putters;
    for (int i = 1; i <= 3; ++i) putters.push_back(asyncio::create_task(put_or_shutdown(q, i)));
    co_await asyncio::sleep(1s);
    q.shutdown();
    auto outcomes = co_await asyncio::gather(putters);
    EXPECT_EQ(outcomes, (Strings{"shutdown", "shutdown", "shutdown"}));
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(co_await q.get(), 0);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_EQ(elapsed(), 1s);
}

// 3.13: after shutdown(), get() drains what is left, in order, then raises.
ASYNCIO_TEST(QueueShutdown, GetDrainsThenRaises) {
    Queue<int> q;
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    q.shutdown();
    EXPECT_THROW(co_await q.put(9), QueueShutDown);
    Ints drained;
    for (;;) {
        auto outcome = co_await get_or_shutdown(q);
        if (outcome == "shutdown") break;
        drained.push_back(std::stoi(outcome));
    }
    EXPECT_EQ(drained, (Ints{0, 1, 2}));
}

// 3.13: shutdown(immediate=True) drops the items, counts them done (join() returns) and
// wakes blocked putters with QueueShutDown although there is room now.
ASYNCIO_TEST(QueueShutdown, ImmediateDropsItemsReleasesJoinAndWakesPutters) {
    Counted::reset();
    {
        Queue<Counted> q(2);
        q.put_nowait(Counted{});
        q.put_nowait(Counted{});
        auto joiner = asyncio::create_task(join_of(q));
        auto putter = asyncio::create_task(put_into(q, Counted{}));
        co_await asyncio::sleep(0);
        const int before = Counted::alive();  // two in the queue, the rest in the blocked put
        q.shutdown(true);
        EXPECT_EQ(q.qsize(), 0u);
        EXPECT_EQ(Counted::alive(), before - 2);  // the dropped items are destroyed at once
        EXPECT_THROW(co_await putter, QueueShutDown);
        co_await joiner;
        EXPECT_EQ(q.qsize(), 0u);
        EXPECT_EQ(Counted::alive(), 0);
    }
    EXPECT_EQ(Counted::alive(), 0);
}

// 3.13: a getter woken for an item that shutdown(immediate=True) drops before the getter
// runs raises QueueShutDown.
ASYNCIO_TEST(QueueShutdown, ImmediateAfterAGetterWasWokenRaisesInIt) {
    Queue<int> q;
    auto getter = asyncio::create_task(get_or_shutdown(q));
    co_await run_until_idle();
    q.put_nowait(1);   // wakes the getter
    q.shutdown(true);  // drops the item before the getter ran
    EXPECT_EQ(co_await getter, "shutdown");
    co_await q.join();  // the dropped item counts as done
}
