// Tests for asyncio/runners.hpp: run, Runner (CPython's test_runners.py).
#include <asyncio/runners.hpp>

#include "support/async_test.hpp"

#include <signal.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;

namespace {

Coro<int> value_after(std::chrono::nanoseconds d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}

}  // namespace

// test_runners: test_asyncio_run_return
TEST(Run, ReturnsTheCoroutinesValue) {
    EXPECT_EQ(asyncio::testing::run(value_after(1s, 42)), 42);
    EXPECT_EQ(asyncio::run(value_after(0s, 7)), 7);  // the real clock, no waiting
}

// test_runners: test_asyncio_run_raises
TEST(Run, RethrowsTheCoroutinesException) {
    auto fail = []() -> Coro<void> {
        co_await asyncio::sleep(0);
        throw asyncio::ValueError("spam");
    };
    EXPECT_THROW(asyncio::testing::run(fail()), asyncio::ValueError);
}

// test_runners: test_asyncio_run_only_coro's sibling: nested run
TEST(Run, NestedRunRaisesRuntimeError) {
    auto nested = []() -> Coro<std::string> {
        try {
            asyncio::run(value_after(0s, 1));
        } catch (const asyncio::RuntimeError& e) {
            co_return e.what();
        }
        co_return "no error";
    };
    EXPECT_EQ(asyncio::testing::run(nested()), "asyncio.run() cannot be called from a running event loop");
}

// test_runners: test_asyncio_run_cancel_leftover_tasks (leftovers are cancelled and finished)
TEST(Run, CancelsAndFinishesLeftoverTasks) {
    std::vector<std::string> log;
    auto leftover = [](std::vector<std::string>& out) -> Coro<void> {
        try {
            co_await asyncio::sleep(100s);
            out.push_back("completed");
        } catch (const asyncio::CancelledError&) {
            out.push_back("cancelled");
            throw;
        }
    };
    auto main = [&]() -> Coro<int> {
        (void)asyncio::create_task(leftover(log));
        co_await asyncio::sleep(1s);
        co_return 3;
    };
    EXPECT_EQ(asyncio::testing::run(main()), 3);
    EXPECT_EQ(log, (std::vector<std::string>{"cancelled"}));
}

// test_runners: test_asyncio_run_reports_hanging_tasks_errors
TEST(Run, ReportsErrorsOfLeftoverTasks) {
    auto stubborn = []() -> Coro<void> {
        try {
            co_await asyncio::sleep(100s);
        } catch (const asyncio::CancelledError&) {
            throw asyncio::ValueError("cleanup failed");
        }
    };
    auto main = [&]() -> Coro<void> {
        asyncio::get_running_loop().set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
            std::cerr << "handler: " << c.message << " / " << asyncio::describe(c.exception) << '\n';
        });
        (void)asyncio::create_task(stubborn());
        co_await asyncio::sleep(0);
    };
    testing::internal::CaptureStderr();
    asyncio::testing::run(main());
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("handler: unhandled exception during asyncio.run() shutdown / asyncio::ValueError: cleanup failed"), std::string::npos) << err;
}

// test_runners: test_run_keyboard_interrupt (Ctrl-C cancels the main task)
TEST(Run, SigintCancelsTheMainTaskAndRaisesKeyboardInterrupt) {
    bool cancelled_inside = false;
    auto main = [&]() -> Coro<void> {
        co_await asyncio::sleep(0);
        ::raise(SIGINT);
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            cancelled_inside = true;
            throw;
        }
    };
    EXPECT_THROW(asyncio::testing::run(main()), asyncio::KeyboardInterrupt);
    EXPECT_TRUE(cancelled_inside);
    struct sigaction after {};
    ::sigaction(SIGINT, nullptr, &after);
    EXPECT_EQ(after.sa_handler, SIG_DFL);  // the handler is removed after the run
}

// A main task that catches the interrupt's cancellation finishes normally.
TEST(Run, MainTaskMaySwallowTheInterrupt) {
    auto main = []() -> Coro<int> {
        ::raise(SIGINT);
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            co_return 1;
        }
        co_return 0;
    };
    EXPECT_EQ(asyncio::testing::run(main()), 1);
}

// test_runners: test_run / test_explicit_close / test_double_close
TEST(Runner, RunsSeveralCoroutinesOnOneLoop) {
    asyncio::Runner runner(asyncio::testing::new_event_loop);
    asyncio::EventLoop& loop = runner.get_loop();
    EXPECT_EQ(runner.run(value_after(1s, 1)), 1);
    EXPECT_EQ(runner.run(value_after(1s, 2)), 2);
    EXPECT_EQ(&runner.get_loop(), &loop);
    EXPECT_EQ(loop.time() - asyncio::EventLoop::time_point{}, 2s);
    runner.close();
    runner.close();
    EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
    EXPECT_THROW(runner.run(value_after(0s, 0)), asyncio::RuntimeError);
}

TEST(Runner, TasksSurviveBetweenRuns) {
    asyncio::Runner runner(asyncio::testing::new_event_loop);
    auto start = []() -> Coro<asyncio::Task<int>> { co_return asyncio::create_task(value_after(5s, 9)); };
    asyncio::Task<int> t = runner.run(start());
    EXPECT_FALSE(t.done());
    auto finish = [](asyncio::Task<int> task) -> Coro<int> { co_return co_await task; };
    EXPECT_EQ(runner.run(finish(t)), 9);
}

TEST(Runner, RunFromRunningLoopRaises) {
    auto inner = []() -> Coro<std::string> {
        asyncio::Runner r;
        try {
            r.run(value_after(0s, 0));
        } catch (const asyncio::RuntimeError& e) {
            co_return e.what();
        }
        co_return "none";
    };
    EXPECT_EQ(asyncio::testing::run(inner()), "Runner.run() cannot be called from a running event loop");
}
