// The deadlock report (asyncio::DeadlockError, asyncio::debug::waiting_tasks): a loop on the
// virtual clock that nothing can wake raises, naming each pending task and what it waits
// on, instead of hanging; a call from another thread within the grace second still wakes
// it; the same lines are available on demand.
#include "support/source_lines.hpp"

#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

const char* const header =
    "deadlock: no task can ever run again (nothing is ready, no timer is set, no file descriptor is watched, no call is running in "
    "another thread, and none came from one within a second):\n";

// Runs `main` on a virtual-clock loop; the DeadlockError's text, or "no deadlock".
template <class F>
std::string deadlock_of(F main) {
    try {
        asyncio::run(main(), asyncio::testing::new_event_loop);
    } catch (const asyncio::DeadlockError& e) {
        return e.what();
    }
    return "no deadlock";
}

std::string line_of(const std::string& marker) { return asyncio_test::line_of(__FILE__, marker); }

// "deadlock_test.cpp:<line of the marker>".
std::string at(const std::string& marker) { return " at deadlock_test.cpp:" + line_of(marker); }

// The report without the coroutines' names (compilers spell lambdas differently: g++
// "TestBody()::<lambda()>", clang 14 "operator()"); the places stay. NamedCoroutines
// checks the names.
std::string places(const std::string& report) {
    return asyncio_test::each_line(report, [](std::string& line) {
        const std::size_t in = line.find(" in ");
        const std::size_t at = line.rfind(" at ");
        if (in != std::string::npos && at != std::string::npos && at > in) line.erase(in, at - in);
        return true;
    });
}

}  // namespace

// A task waits on an Event that nobody sets; the main task waits on that task.
TEST(Deadlock, EventNobodySets) {
    std::string main_name;
    const std::string report = deadlock_of([&]() -> asyncio::Coro<void> {
        main_name = asyncio::current_task()->get_name();
        asyncio::Event never;
        auto waiter = asyncio::create_task(
            [](asyncio::Event& e) -> asyncio::Coro<void> {
                co_await asyncio::sleep(5);  // a timer first: not a deadlock yet
                co_await e.wait();           // @never-set
            }(never),
            "waiter");
        co_await waiter;  // @main-waits
    });
    EXPECT_EQ(places(report), std::string(header) + "  " + main_name + " waits on waiter" + at("main-waits") + "\n  waiter waits on Event.wait()" + at("never-set"));
}

// Two tasks that each hold one lock and want the other's; the main task gathers them.
TEST(Deadlock, TwoLocksTakenInOppositeOrder) {
    std::string main_name;
    const std::string report = deadlock_of([&]() -> asyncio::Coro<void> {
        main_name = asyncio::current_task()->get_name();
        asyncio::Lock first;
        asyncio::Lock second;
        auto take = [](asyncio::Lock& mine, asyncio::Lock& other) -> asyncio::Coro<void> {
            auto held = co_await mine.scoped();
            co_await asyncio::sleep(1);
            co_await other.acquire();  // @other-lock
        };
        auto a = asyncio::create_task(take(first, second), "a");
        auto b = asyncio::create_task(take(second, first), "b");
        co_await asyncio::gather(std::move(a), std::move(b));  // @gather
    });
    // gather()'s own frame (in the library) is skipped: the line is the user's co_await.
    EXPECT_EQ(places(report), std::string(header) + "  " + main_name + " waits on gather()" + at("gather") + "\n  a waits on Lock.acquire() (held by b)" + at("other-lock") +
                                  "\n  b waits on Lock.acquire() (held by a)" + at("other-lock"));
}

// A consumer waits on an empty queue, a producer on a full one, a third task on a
// Condition: each is named with its wait.
TEST(Deadlock, QueuesAndConditions) {
    std::string main_name;
    const std::string report = deadlock_of([&]() -> asyncio::Coro<void> {
        main_name = asyncio::current_task()->get_name();
        asyncio::Queue<int> empty;
        asyncio::Queue<int> full(1);
        full.put_nowait(1);
        asyncio::Condition cond;
        auto consumer = asyncio::create_task([](asyncio::Queue<int>& q) -> asyncio::Coro<int> { co_return co_await q.get(); }(empty), "consumer");  // @get
        auto producer = asyncio::create_task([](asyncio::Queue<int>& q) -> asyncio::Coro<void> { co_await q.put(2); }(full), "producer");           // @put
        auto watcher = asyncio::create_task(
            [](asyncio::Condition& c) -> asyncio::Coro<void> {
                auto held = co_await c.scoped();
                co_await c.wait();  // @condition
            }(cond),
            "watcher");
        co_await asyncio::sleep(0);
        co_await consumer;  // @consumer
    });
    // Condition.wait() is a coroutine of the library's: the line is the user's co_await.
    EXPECT_EQ(places(report), std::string(header) + "  " + main_name + " waits on consumer" + at("consumer") + "\n  consumer waits on Queue.get()" + at("get") +
                                  "\n  producer waits on Queue.put() (the queue is full)" + at("put") + "\n  watcher waits on Condition.wait()" + at("condition"));
}

// run_forever with nothing at all to do: the report says so.
TEST(Deadlock, NothingPending) {
    auto loop = asyncio::testing::new_event_loop();
    bool raised = false;
    try {
        loop->run_forever();
    } catch (const asyncio::DeadlockError& e) {
        raised = true;
        EXPECT_EQ(std::string(e.what()),
                  "deadlock: no task can ever run again (nothing is ready, no timer is set, no file descriptor is watched, no call is running in "
                  "another thread, and none came from one within a second); no task is pending either");
    }
    EXPECT_TRUE(raised);
    loop->close();
}

// Another thread that sets the Event through call_soon_threadsafe within the grace second
// wakes the loop: no deadlock.
TEST(Deadlock, ACallFromAnotherThreadStillWakesTheLoop) {
    int value = 0;
    const std::string report = deadlock_of([&]() -> asyncio::Coro<void> {
        asyncio::EventLoop& loop = asyncio::get_running_loop();
        asyncio::Event later;
        std::thread t([&loop, &later] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            loop.call_soon_threadsafe([&later] { later.set(); });
        });
        co_await later.wait();
        t.join();
        value = 7;
    });
    EXPECT_EQ(report, "no deadlock");
    EXPECT_EQ(value, 7);
}

// On demand, on any loop: each pending task and what it waits on, the caller as running.
TEST(Deadlock, WaitingTasksOnDemand) {
    std::string text;
    std::string main_name;
    asyncio::run([&]() -> asyncio::Coro<void> {
        main_name = asyncio::current_task()->get_name();
        asyncio::Event e;
        asyncio::Semaphore none(0);
        auto w = asyncio::create_task([](asyncio::Event& ev) -> asyncio::Coro<void> { co_await ev.wait(); }(e), "event-waiter");            // @ev
        auto s = asyncio::create_task([](asyncio::Semaphore& sem) -> asyncio::Coro<void> { co_await sem.acquire(); }(none), "sem-waiter");  // @sem
        auto fresh = asyncio::create_task([]() -> asyncio::Coro<void> { co_return; }(), "fresh");
        co_await asyncio::sleep(0);
        auto queued = asyncio::create_task([]() -> asyncio::Coro<void> { co_return; }(), "queued");
        text = asyncio::debug::waiting_tasks(asyncio::get_running_loop());
        e.set();
        none.release();
        co_await w;
        co_await s;
        co_await fresh;
        co_await queued;
    }());
    // A task that has not started has no place yet.
    EXPECT_EQ(places(text), main_name + " is running\nevent-waiter waits on Event.wait()" + at("ev") + "\nsem-waiter waits on Semaphore.acquire()" + at("sem") +
                                "\nqueued is ready to run");
}

// A task that swallows the cancellation of the runner's teardown and waits again on
// something nobody sets: the teardown's own deadlock is reported through the exception
// handler, the frames are destroyed, and run() raises the first DeadlockError.
TEST(Deadlock, ATaskThatIgnoresTheTeardownsCancellation) {
    ::testing::internal::CaptureStderr();
    std::string main_name;
    const std::string report = deadlock_of([&]() -> asyncio::Coro<void> {
        main_name = asyncio::current_task()->get_name();
        auto stubborn = asyncio::create_task(
            []() -> asyncio::Coro<void> {
                asyncio::Event first;
                asyncio::Event second;
                try {
                    co_await first.wait();  // @first
                } catch (const asyncio::CancelledError&) {
                }
                co_await second.wait();  // @second
            }(),
            "stubborn");
        co_await stubborn;  // @stubborn
    });
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(places(report), std::string(header) + "  " + main_name + " waits on stubborn" + at("stubborn") + "\n  stubborn waits on Event.wait()" + at("first"));
    EXPECT_NE(err.find("error while cancelling the remaining tasks"), std::string::npos) << err;
    EXPECT_NE(places(err).find("stubborn waits on Event.wait()" + at("second")), std::string::npos) << err;
}

namespace {
asyncio::Coro<int> take_one(asyncio::Queue<int>& q) {
    co_return co_await q.get();  // @take-one
}
asyncio::Coro<int> consume(asyncio::Queue<int>& q) {
    int got = co_await take_one(q);  // @consume
    co_return got;
}
}  // namespace

// The names of the coroutines, for functions (g++: with their parameters; clang 14: the
// bare name); a task still starting says nothing of a place.
TEST(Deadlock, NamedCoroutines) {
    std::string text;
    std::string graph;
    asyncio::run([&]() -> asyncio::Coro<void> {
        asyncio::Queue<int> q;
        auto t = asyncio::create_task(consume(q), "consumer");
        co_await asyncio::sleep(0);
        text = asyncio::debug::waiting_tasks(asyncio::get_running_loop());
        graph = asyncio::format_call_graph(t);
        q.put_nowait(1);
        co_await t;
    }());
    const std::string take_name = text.find("take_one(asyncio::Queue<int>&)") != std::string::npos ? "take_one(asyncio::Queue<int>&)" : "take_one";
    EXPECT_NE(text.find("\nconsumer waits on Queue.get() in " + take_name + at("take-one")), std::string::npos) << text;
    // The graph has the whole chain, innermost first, with full paths.
    EXPECT_NE(graph.find("  |   File '" + std::string(__FILE__) + "', line " + line_of("take-one") + ", in async " + take_name + "\n"), std::string::npos) << graph;
    const std::size_t consume_line = graph.find("deadlock_test.cpp', line " + line_of("consume") + ", in async ");
    EXPECT_NE(consume_line, std::string::npos) << graph;
    EXPECT_NE(graph.find("consume", consume_line + 20), std::string::npos) << graph;
    EXPECT_NE(graph.find("  + Waits on: Queue.get()"), std::string::npos) << graph;
}
