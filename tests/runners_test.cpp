// Tests for asyncio/runners.hpp: run, Runner (CPython's test_runners.py).
#include <asyncio/runners.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <signal.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio_test::value_after;

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

namespace {

// Sets `*flag` when destroyed: the frame that holds it was destroyed.
struct SetOnDestroy {
    bool* flag;
    explicit SetOnDestroy(bool* f) : flag(f) {}
    SetOnDestroy(const SetOnDestroy&) = delete;
    SetOnDestroy& operator=(const SetOnDestroy&) = delete;
    ~SetOnDestroy() { *flag = true; }
};

// A leftover task whose cancellation cleanup presses Ctrl-C, then waits for longer than the
// test would: only the interrupt can end the waiting for it.
Coro<void> leftover_pressing_ctrl_c(bool* destroyed, std::vector<std::string>* log) {
    SetOnDestroy guard(destroyed);
    try {
        co_await asyncio::sleep(100s);
    } catch (const asyncio::CancelledError&) {
        log->push_back("cleanup");
        ::raise(SIGINT);
    }
    co_await asyncio::sleep(1000s);
    log->push_back("cleanup finished");
}

void ignore_reports() {
    asyncio::get_running_loop().set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
}

sighandler_t current_sigint_handler() {
    struct sigaction now {};
    ::sigaction(SIGINT, nullptr, &now);
    return now.sa_handler;
}

}  // namespace

// CPython's run() keeps its SIGINT handling until the runner is closed: a Ctrl-C while the
// tasks left are finishing raises KeyboardInterrupt to run()'s caller (the process used to
// die of it, the default action being back already), and their frames are destroyed.
TEST(Run, SigintWhileFinishingLeftoverTasksRaisesKeyboardInterrupt) {
    bool destroyed = false;
    std::vector<std::string> log;
    auto main = [&]() -> Coro<int> {
        ignore_reports();
        (void)asyncio::create_task(leftover_pressing_ctrl_c(&destroyed, &log));
        co_await asyncio::sleep(1s);
        co_return 3;
    };
    EXPECT_THROW(asyncio::testing::run(main()), asyncio::KeyboardInterrupt);
    EXPECT_EQ(log, (std::vector<std::string>{"cleanup"}));
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(current_sigint_handler(), SIG_DFL);
}

// The same after a first Ctrl-C cancelled the main task: the one during the shutdown is
// delivered too (it used to be "the second Ctrl-C", which ended the process).
TEST(Run, SigintAfterAnInterruptedMainRaisesKeyboardInterrupt) {
    bool destroyed = false;
    std::vector<std::string> log;
    auto main = [&]() -> Coro<void> {
        ignore_reports();
        (void)asyncio::create_task(leftover_pressing_ctrl_c(&destroyed, &log));
        co_await asyncio::sleep(1s);
        ::raise(SIGINT);
        co_await asyncio::sleep(10s);
    };
    EXPECT_THROW(asyncio::testing::run(main()), asyncio::KeyboardInterrupt);
    EXPECT_EQ(log, (std::vector<std::string>{"cleanup"}));
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(current_sigint_handler(), SIG_DFL);
}

// CPython's _on_sigint: a second Ctrl-C while the cancelled main task is still cleaning up
// raises KeyboardInterrupt at once; the shutdown then cancels the main task again.
TEST(Run, SecondSigintRaisesKeyboardInterruptAtOnce) {
    std::vector<std::string> log;
    auto main = [&]() -> Coro<void> {
        ::raise(SIGINT);
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            log.push_back("cancelled");
        }
        ::raise(SIGINT);
        try {
            co_await asyncio::sleep(10s);
        } catch (const asyncio::CancelledError&) {
            log.push_back("cancelled again at t=" + std::to_string(asyncio_test::elapsed() / 1s));
            throw;
        }
        log.push_back("not interrupted");
    };
    EXPECT_THROW(asyncio::testing::run(main()), asyncio::KeyboardInterrupt);
    EXPECT_EQ(log, (std::vector<std::string>{"cancelled", "cancelled again at t=0"}));
}

// A Ctrl-C raised by a callback during Runner::close(): close() raises KeyboardInterrupt
// after closing the loop; a second close() does nothing.
TEST(Runner, CloseRaisesKeyboardInterruptAfterClosingTheLoop) {
    bool destroyed = false;
    std::vector<std::string> log;
    asyncio::Runner runner(asyncio::testing::new_event_loop);
    auto start = [&]() -> Coro<void> {
        ignore_reports();
        (void)asyncio::create_task([](bool* d, std::vector<std::string>* out) -> Coro<void> {
            SetOnDestroy guard(d);
            try {
                co_await asyncio::sleep(100s);
            } catch (const asyncio::CancelledError&) {
                asyncio::get_running_loop().call_soon([] { ::raise(SIGINT); });
                out->push_back("cleanup");
            }
            co_await asyncio::sleep(1000s);
        }(&destroyed, &log));
        co_return;
    };
    runner.run(start());
    EXPECT_EQ(current_sigint_handler(), SIG_DFL);  // between runs, the default action
    EXPECT_THROW(runner.close(), asyncio::KeyboardInterrupt);
    EXPECT_EQ(log, (std::vector<std::string>{"cleanup"}));
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(current_sigint_handler(), SIG_DFL);
    EXPECT_NO_THROW(runner.close());
    EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
}
