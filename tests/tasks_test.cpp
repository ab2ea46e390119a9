// Tests for asyncio/tasks.hpp: Task, create_task, sleep, current_task, all_tasks
// (CPython's test_tasks.py). Cancellation has its own file, tasks_cancel_test.cpp.
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/scenario.hpp"

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::elapsed;
using asyncio_test::value_after;

namespace {

Coro<void> fail_after(std::chrono::nanoseconds d) {
    co_await asyncio::sleep(d);
    throw asyncio::ValueError("task failed");
}
Coro<int> hold(Counted c) {
    (void)c;
    co_await asyncio::sleep(1s);
    co_return 1;
}

}  // namespace

// test_tasks: test_create_task (concurrency: 1 s and 2 s together take 2 s)
ASYNCIO_TEST(Task, TasksRunConcurrently) {
    auto t1 = asyncio::create_task(value_after(1s, 1));
    auto t2 = asyncio::create_task(value_after(2s, 2));
    EXPECT_EQ(co_await t1, 1);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_EQ(co_await t2, 2);
    EXPECT_EQ(elapsed(), 2s);
}

// test_tasks: test_task_default_name / test_task_set_name
ASYNCIO_TEST(Task, NamesDefaultToACountAndCanBeSet) {
    auto t1 = asyncio::create_task(value_after(0s, 1));
    auto t2 = asyncio::create_task(value_after(0s, 2));
    std::string n1 = t1.get_name(), n2 = t2.get_name();
    EXPECT_EQ(n1.rfind("Task-", 0), 0u);
    EXPECT_EQ(std::stoul(n2.substr(5)), std::stoul(n1.substr(5)) + 1);
    t1.set_name("first");
    EXPECT_EQ(t1.get_name(), "first");
    auto t3 = asyncio::create_task(value_after(0s, 3), "named");
    EXPECT_EQ(t3.get_name(), "named");
    co_await t1;
    co_await t2;
    co_await t3;
}

// Not in CPython: names stay unique with loops on several threads (each thread numbers its
// tasks from a block of the global counter, docs/differences.md).
TEST(Task, NamesAreUniqueAcrossThreads) {
    auto names_of_ten = [](std::vector<std::string>& out) {
        asyncio::run([](std::vector<std::string>& names) -> Coro<void> {
            for (int i = 0; i < 10; ++i) {
                auto t = asyncio::create_task(value_after(0s, i));
                names.push_back(t.get_name());
                co_await t;
            }
        }(out));
    };
    std::vector<std::string> a, b;
    std::thread ta(names_of_ten, std::ref(a)), tb(names_of_ten, std::ref(b));
    ta.join();
    tb.join();
    std::set<std::string> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    EXPECT_EQ(all.size(), 20u);
    for (std::size_t i = 1; i < a.size(); ++i)  // consecutive within a thread, as in CPython
        EXPECT_EQ(std::stoul(a[i].substr(5)), std::stoul(a[i - 1].substr(5)) + 1);
}

// test_tasks: test_task_result_pending / test_exception (InvalidStateError while pending)
ASYNCIO_TEST(Task, ResultOfPendingTaskRaisesInvalidStateError) {
    auto t = asyncio::create_task(value_after(1s, 5));
    EXPECT_FALSE(t.done());
    EXPECT_THROW((void)t.result(), asyncio::InvalidStateError);
    EXPECT_THROW((void)t.exception(), asyncio::InvalidStateError);
    EXPECT_EQ(co_await t, 5);
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), 5);
    EXPECT_EQ(t.exception(), nullptr);
}

ASYNCIO_TEST(Task, ExceptionPropagatesToAwaiterAndResult) {
    auto t = asyncio::create_task(fail_after(1s));
    EXPECT_THROW(co_await t, asyncio::ValueError);
    EXPECT_THROW(t.result(), asyncio::ValueError);
    EXPECT_NE(t.exception(), nullptr);
    EXPECT_FALSE(t.cancelled());
}

ASYNCIO_TEST(Task, SeveralAwaitersGetTheSameResult) {
    auto shared = asyncio::create_task(value_after(1s, 9));
    auto waiter = [](Task<int> t) -> Coro<int> { co_return co_await t; };
    auto a = asyncio::create_task(waiter(shared));
    auto b = asyncio::create_task(waiter(shared));
    EXPECT_EQ(co_await a, 9);
    EXPECT_EQ(co_await b, 9);
}

ASYNCIO_TEST(Task, MoveOnlyResult) {
    auto make = []() -> Coro<std::unique_ptr<int>> { co_return std::make_unique<int>(3); };
    auto t = asyncio::create_task(make());
    auto p = co_await t;
    EXPECT_EQ(*p, 3);
}

// Not in CPython (Rust's `handle.await` consumes the JoinHandle): `co_await std::move(t)`
// uses the handle up, so a task nobody else holds is freed, value and all, by the await.
ASYNCIO_TEST(Task, AwaitingAMovedHandleUsesItUp) {
    Counted::reset();
    auto make = []() -> Coro<Counted> { co_return Counted(); };
    auto t = asyncio::create_task(make());
    Task<Counted> copy = t;
    {
        Counted c = co_await std::move(t);
        EXPECT_FALSE(t);                 // NOLINT(bugprone-use-after-move): the point
        EXPECT_EQ(Counted::alive(), 2);  // c, and the value the task still holds for `copy`
    }
    copy = {};
    EXPECT_EQ(Counted::alive(), 0);  // the last handle took the task and its value along
    auto u = asyncio::create_task(make());
    Counted d = co_await std::move(u);
    EXPECT_EQ(Counted::alive(), 1);  // only d: the await freed the task
}

// test_tasks: test_task_add_done_callback (scheduled with call_soon, get the task)
ASYNCIO_TEST(Task, DoneCallbacksRunSoonAfterCompletionInOrder) {
    auto t = asyncio::create_task(value_after(1s, 4));
    std::vector<std::string> log;
    t.add_done_callback([&](const Task<int>& done) { log.push_back("a" + std::to_string(done.result())); });
    auto id = t.add_done_callback([&](const Task<int>&) { log.push_back("removed"); });
    t.add_done_callback([&](const asyncio::AnyTask& done) { log.push_back(done.done() ? "b" : "not done"); });
    EXPECT_EQ(t.remove_done_callback(id), 1u);
    EXPECT_EQ(t.remove_done_callback(id), 0u);
    // Callbacks are scheduled with call_soon in registration order, and this task's own
    // wake-up was registered after them (as in CPython), so they have run by now.
    co_await t;
    EXPECT_EQ(log, (std::vector<std::string>{"a4", "b"}));
    t.add_done_callback([&](const Task<int>&) { log.push_back("late"); });  // already done: scheduled at once
    co_await asyncio::sleep(0);
    EXPECT_EQ(log.back(), "late");
}

// The tutorial's background_tasks set: handles are hashable and compare by identity.
ASYNCIO_TEST(Task, HandlesLiveInAnUnorderedSet) {
    std::unordered_set<Task<int>> background;
    for (int i = 0; i < 3; ++i) {
        auto t = asyncio::create_task(value_after(1s, i));
        background.insert(t);
        t.add_done_callback([&background](const Task<int>& done) { background.erase(done); });
    }
    auto copy = *background.begin();
    EXPECT_TRUE(background.count(copy) == 1);
    EXPECT_EQ(background.size(), 3u);
    co_await asyncio::sleep(2s);
    EXPECT_TRUE(background.empty());
}

// test_tasks: test_current_task
ASYNCIO_TEST(Task, CurrentTaskNamesTheRunningTask) {
    auto probe = []() -> Coro<std::string> {
        auto me = asyncio::current_task();
        co_return me ? me->get_name() : std::string("none");
    };
    auto t = asyncio::create_task(probe(), "probe");
    EXPECT_EQ(co_await t, "probe");
    std::optional<asyncio::AnyTask> in_callback{asyncio::AnyTask()};
    asyncio::get_running_loop().call_soon([&] { in_callback = asyncio::current_task(); });
    co_await run_until_idle();
    EXPECT_FALSE(in_callback.has_value());
}

TEST(Task, CurrentTaskAndAllTasksOutsideLoopRaise) {
    EXPECT_THROW((void)asyncio::current_task(), asyncio::RuntimeError);
    EXPECT_THROW((void)asyncio::all_tasks(), asyncio::RuntimeError);
    EXPECT_THROW((void)asyncio::create_task(value_after(0s, 0)), asyncio::RuntimeError);
}

// test_tasks: test_all_tasks
ASYNCIO_TEST(Task, AllTasksListsUnfinishedTasks) {
    auto t = asyncio::create_task(value_after(1s, 0));
    auto all = asyncio::all_tasks();
    EXPECT_EQ(all.size(), 2u);  // this test's main task and t
    EXPECT_EQ(all.count(t), 1u);
    EXPECT_EQ(all.count(*asyncio::current_task()), 1u);
    co_await t;
    EXPECT_EQ(asyncio::all_tasks().count(t), 0u);
}

// docs/design/tasks.md: a task nobody holds still runs to completion (CPython: weak references only).
ASYNCIO_TEST(Task, LoopKeepsUnreferencedTasksAlive) {
    bool finished = false;
    auto body = [](bool& flag) -> Coro<void> {
        co_await asyncio::sleep(1s);
        flag = true;
    };
    (void)asyncio::create_task(body(finished));  // handle dropped at once
    co_await asyncio::sleep(2s);
    EXPECT_TRUE(finished);
}

// test_tasks: test_exception_never_retrieved (reported when the last handle goes)
ASYNCIO_TEST(Task, UnretrievedExceptionIsReported) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        reports.push_back(c.message + " / " + c.task_name + " / " + asyncio::describe(c.exception));
    });
    {
        auto t = asyncio::create_task(fail_after(1s), "doomed");
        co_await asyncio::sleep(2s);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(reports.empty());  // a handle is still alive
    }
    EXPECT_EQ(reports, (std::vector<std::string>{"Task exception was never retrieved / doomed / asyncio::ValueError: task failed"}));
    reports.clear();
    {
        auto t = asyncio::create_task(fail_after(1s), "observed");
        EXPECT_THROW(co_await t, asyncio::ValueError);
    }
    (void)asyncio::create_task(fail_after(1s), "dropped");  // no handle: reported when it ends
    co_await asyncio::sleep(2s);
    EXPECT_EQ(reports, (std::vector<std::string>{"Task exception was never retrieved / dropped / asyncio::ValueError: task failed"}));
    loop.set_exception_handler({});
}

// test_tasks: test_await_itself
ASYNCIO_TEST(Task, AwaitingItselfRaisesRuntimeError) {
    auto self_await = [](std::shared_ptr<Task<void>> me) -> Coro<void> {
        co_await asyncio::sleep(0);
        co_await *me;
    };
    auto slot = std::make_shared<Task<void>>();
    *slot = asyncio::create_task(self_await(slot));
    EXPECT_THROW(co_await *slot, asyncio::RuntimeError);
    *slot = Task<void>();  // break the cycle
}

// The tutorial: ten tasks that each sleep 3 s finish in the order they were created.
ASYNCIO_TEST(Task, EqualSleepsFinishInCreationOrder) {
    std::vector<int> order;
    std::vector<Task<void>> tasks;
    auto body = [](int i, std::vector<int>& out) -> Coro<void> {
        co_await asyncio::sleep(3s);
        out.push_back(i);
    };
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::create_task(body(i, order)));
    for (auto& t : tasks) co_await t;
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(elapsed(), 3s);
}

ASYNCIO_TEST(Task, FinishedTaskDestroysFrameAndArguments) {
    Counted::reset();
    auto t = asyncio::create_task(hold(Counted{}));
    EXPECT_EQ(Counted::alive(), 1);
    EXPECT_EQ(co_await t, 1);
    EXPECT_EQ(Counted::alive(), 0);  // the handle is alive, the frame is not
}

ASYNCIO_TEST(Task, CreateTaskOnConsumedCoroRaises) {
    Coro<int> c = value_after(0s, 1);
    auto t = asyncio::create_task(std::move(c));
    EXPECT_THROW((void)asyncio::create_task(std::move(c)), asyncio::RuntimeError);  // NOLINT(bugprone-use-after-move)
    co_await t;
}

// sleep
ASYNCIO_TEST(Sleep, AcceptsDurationsAndSecondsAndReturnsResult) {
    co_await asyncio::sleep(1s);
    co_await asyncio::sleep(0.5);
    co_await asyncio::sleep(1);
    EXPECT_EQ(elapsed(), 2500ms);
    EXPECT_EQ(co_await asyncio::sleep(1s, std::string("done")), "done");
    co_await asyncio::sleep(-5s);  // negative is zero
    EXPECT_EQ(elapsed(), 3500ms);
    EXPECT_THROW(co_await asyncio::sleep(std::nan("")), asyncio::ValueError);
}

ASYNCIO_TEST(Sleep, ZeroYieldsToOtherTasksWithoutATimerOrSyscall) {
    std::vector<std::string> order;
    auto other = [](std::vector<std::string>& out) -> Coro<void> {
        out.push_back("other");
        co_return;
    };
    auto t = asyncio::create_task(other(order));
    auto& loop = asyncio::get_running_loop();
    auto syscalls = asyncio::testing::reactor_syscalls(loop);
    order.push_back("before");
    co_await asyncio::sleep(0);
    order.push_back("after");
    EXPECT_EQ(order, (std::vector<std::string>{"before", "other", "after"}));
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 0u);
    for (int i = 0; i < 100; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::testing::reactor_syscalls(loop), syscalls);
    co_await t;
}

// run_until_complete
TEST(EventLoop, RunUntilCompleteReturnsTheResult) {
    auto loop = asyncio::testing::new_event_loop();
    EXPECT_EQ(loop->run_until_complete(value_after(2s, 8)), 8);
    EXPECT_EQ(loop->time() - asyncio::EventLoop::time_point{}, 2s);
    auto t = loop->create_task(fail_after(1s));
    EXPECT_THROW(loop->run_until_complete(t), asyncio::ValueError);
    EXPECT_FALSE(loop->is_running());
}

// test_base_events: test_run_until_complete_loop_orphan_future_close_loop's sibling
TEST(EventLoop, RunUntilCompleteStoppedEarlyRaises) {
    auto loop = asyncio::testing::new_event_loop();
    loop->call_later(1s, [&] { loop->stop(); });
    auto t = loop->create_task(value_after(5s, 0));
    try {
        loop->run_until_complete(t);
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
    }
    EXPECT_EQ(loop->run_until_complete(t), 0);  // resumes where it was
    EXPECT_EQ(loop->time() - asyncio::EventLoop::time_point{}, 5s);
}

TEST(EventLoop, ClosingWithPendingTasksDestroysTheirFrames) {
    Counted::reset();
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    auto t = loop->create_task(hold(Counted{}));
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(Counted::alive(), 1);
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 1u);
    loop->close();
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(reports, (std::vector<std::string>{"Task was destroyed but it is pending!"}));
    EXPECT_THROW((void)loop->create_task(value_after(0s, 0)), asyncio::RuntimeError);
}
