// Debug mode (loop.set_debug, slow_callback_duration, ASYNCIO_DEBUG, run/Runner's debug
// option) and the stall detector (debug::StallDetector): a step that blocks is reported,
// naming the task, where it resumed from, its coroutines and the loop thread's backtrace.
// The steps block for real (std::this_thread::sleep_for: that is what is being caught);
// what is asserted is the reports' text and count, never a duration.
#include "support/async_test.hpp"
#include "support/source_lines.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::string line(const std::string& marker) { return asyncio_test::line_of(__FILE__, marker); }

asyncio::Coro<void> blocks(std::chrono::milliseconds how_long) {
    co_await asyncio::sleep(0);             // @before-block
    std::this_thread::sleep_for(how_long);  // the mistake: a blocking call in a coroutine
    co_await asyncio::sleep(0);
}

// Everything readable from the pipe now (its write end is non-blocking-read safe: the
// tests read after the writer is done).
std::string drain(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace

// A step longer than slow_callback_duration is reported with the task's name and the place
// it resumed from; a quick one is not.
TEST(DebugMode, SlowStepNamesTheTaskAndWhereItResumed) {
    std::vector<std::string> messages;
    asyncio::run(
        [&]() -> asyncio::Coro<void> {
            asyncio::EventLoop& loop = asyncio::get_running_loop();
            EXPECT_TRUE(loop.get_debug());
            EXPECT_EQ(loop.slow_callback_duration(), 100ms);
            loop.set_slow_callback_duration(20ms);
            loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { messages.push_back(c.message + " | " + c.task_name); });
            co_await asyncio::create_task(blocks(50ms), "slow");
            co_await asyncio::create_task(blocks(0ms), "quick");
        }(),
        {.debug = true});
    ASSERT_EQ(messages.size(), 1U);
    const std::string& m = messages[0];
    const std::string prefix = "Executing <Task name='slow' resumed at ";
    EXPECT_EQ(m.substr(0, prefix.size()), prefix) << m;
    EXPECT_NE(m.find(" (debug_mode_test.cpp:" + line("before-block") + ")> took 0."), std::string::npos) << m;
    EXPECT_TRUE(m.ends_with(" seconds | slow")) << m;
}

// Off by default; ASYNCIO_DEBUG=1 turns it on for new loops, as PYTHONASYNCIODEBUG; the
// runner's option overrides both.
TEST(DebugMode, EnvironmentAndOptions) {
    ::unsetenv("ASYNCIO_DEBUG");
    EXPECT_FALSE(asyncio::new_event_loop()->get_debug());
    ::setenv("ASYNCIO_DEBUG", "1", 1);
    EXPECT_TRUE(asyncio::new_event_loop()->get_debug());
    bool seen = true;
    asyncio::run(
        [&]() -> asyncio::Coro<void> {
            seen = asyncio::get_running_loop().get_debug();
            co_return;
        }(),
        {.debug = false});
    EXPECT_FALSE(seen);
    ::setenv("ASYNCIO_DEBUG", "0", 1);
    EXPECT_FALSE(asyncio::new_event_loop()->get_debug());
    ::unsetenv("ASYNCIO_DEBUG");
    asyncio::Runner runner({.debug = true});
    EXPECT_TRUE(runner.get_loop().get_debug());
    runner.get_loop().set_debug(false);
    EXPECT_FALSE(runner.get_loop().get_debug());
}

// The stall detector catches the step while it blocks: the report names the task's number,
// its coroutines at their last co_await, and carries a backtrace; the end of the step adds
// a line. Nothing is reported for a loop that waits in its poll.
TEST(StallDetector, ReportsTheBlockedTaskWhileItBlocks) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::uint64_t reports = 0;
    std::uint64_t task_id = 0;
    asyncio::run([&]() -> asyncio::Coro<void> {
        asyncio::debug::StallDetector detector(asyncio::get_running_loop(), {.threshold = 20ms, .fd = fds[1]});
        co_await asyncio::sleep(0.2);  // idle in the poll: not a stall
        auto t = asyncio::create_task(blocks(300ms));
        task_id = std::stoull(t.get_name().substr(5));
        co_await t;
        reports = detector.reports();
    }());
    ::close(fds[1]);
    const std::string text = drain(fds[0]);
    ::close(fds[0]);
    EXPECT_EQ(reports, 1U) << text;
    EXPECT_NE(text.find("asyncio: stall detector: the loop has been running one step for more than 20 ms (report 1)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  task: Task-" + std::to_string(task_id) + " "), std::string::npos) << text;
    EXPECT_NE(text.find("debug_mode_test.cpp:" + line("before-block") + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  native backtrace of the loop thread:\n"), std::string::npos) << text;
    EXPECT_NE(text.find("asyncio: stall detector: the step reported ended "), std::string::npos) << text;
    EXPECT_NE(text.find(" ms after the report (Task-" + std::to_string(task_id) + " is 'Task-" + std::to_string(task_id) + "')\n"), std::string::npos) << text;
}

// run()'s (Runner's) stall_detector option watches the main task's loop from its start
// (a second detector is refused: the loop has one) until the runner closes it; bad options
// raise from run() as the detector's constructor does.
TEST(StallDetector, AsARunnerOption) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    bool second_refused = false;
    asyncio::run(
        [&]() -> asyncio::Coro<void> {
            try {
                asyncio::debug::StallDetector second(25ms);
            } catch (const asyncio::RuntimeError&) {
                second_refused = true;
            }
            co_await asyncio::create_task(blocks(300ms), "blocker");
        }(),
        {.stall_detector = asyncio::debug::StallDetector::Options{.threshold = 20ms, .fd = fds[1]}});
    ::close(fds[1]);
    const std::string text = drain(fds[0]);
    ::close(fds[0]);
    EXPECT_TRUE(second_refused);
    EXPECT_NE(text.find("asyncio: stall detector: the loop has been running one step for more than 20 ms (report 1)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("debug_mode_test.cpp:" + line("before-block") + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find(" is 'blocker')\n"), std::string::npos) << text;
    EXPECT_THROW(asyncio::run([]() -> asyncio::Coro<void> { co_return; }(), {.stall_detector = asyncio::debug::StallDetector::Options{.threshold = 0ms}}),
                 asyncio::ValueError);
}

// At most max_reports_per_minute reports; the others are counted.
TEST(StallDetector, RateLimited) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::uint64_t reports = 0;
    std::uint64_t suppressed = 0;
    asyncio::run([&]() -> asyncio::Coro<void> {
        asyncio::debug::StallDetector detector(asyncio::get_running_loop(), {.threshold = 10ms, .fd = fds[1], .max_reports_per_minute = 2});
        for (int i = 0; i < 4; ++i) {
            std::this_thread::sleep_for(80ms);  // a stall in this task's step
            co_await asyncio::sleep(0.05);      // the watchdog sees the loop move on (and wait)
        }
        reports = detector.reports();
        suppressed = detector.suppressed();
    }());
    ::close(fds[1]);
    const std::string text = drain(fds[0]);
    ::close(fds[0]);
    EXPECT_EQ(reports, 2U) << text;
    EXPECT_EQ(suppressed, 2U) << text;
}

// One detector per loop; outside a loop the short form has none to watch.
TEST(StallDetector, Misuse) {
    EXPECT_THROW(asyncio::debug::StallDetector{}, asyncio::RuntimeError);
    asyncio::run([]() -> asyncio::Coro<void> {
        asyncio::debug::StallDetector first(25ms);
        EXPECT_THROW(asyncio::debug::StallDetector(25ms), asyncio::RuntimeError);
        EXPECT_THROW(asyncio::debug::StallDetector(asyncio::get_running_loop(), {.threshold = 0ms}), asyncio::ValueError);
        co_return;
    }());
}

namespace {
asyncio::Coro<int> never_run(int v) {
    co_return v;
}
}  // namespace

// In debug mode, a Coro destroyed before it ran is reported, with the coroutine's name and
// file (the line is where the compiler places the coroutine's start: g++ its closing
// brace); off debug mode, nothing.
TEST(DebugMode, ACoroNeverAwaited) {
    std::vector<std::string> messages;
    asyncio::run(
        [&]() -> asyncio::Coro<void> {
            asyncio::EventLoop& loop = asyncio::get_running_loop();
            loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { messages.push_back(c.message); });
            { auto forgotten = never_run(1); }
            loop.set_debug(false);
            { auto quiet = never_run(2); }
            loop.set_debug(true);
            co_return;
        }(),
        {.debug = true});
    EXPECT_EQ(messages.size(), 1U);
    if (messages.empty()) return;
    EXPECT_TRUE(messages[0].starts_with("coroutine 'never_run")) << messages[0];
    EXPECT_NE(messages[0].find("' (debug_mode_test.cpp:"), std::string::npos) << messages[0];
    EXPECT_TRUE(messages[0].ends_with(") was never awaited")) << messages[0];
}

namespace {
asyncio::Coro<void> fails_at_once() {
    throw asyncio::ValueError("boom");
    co_return;
}
asyncio::Coro<void> waits_forever(asyncio::Event& never) { co_await never.wait(); }

// Whether `text` is CPython's source_traceback for the line marked `marker` of this file,
// in some function (its spelling is the compiler's: g++ writes
// `Suite_Test::TestBody()::<lambda()>`, clang 14 `operator()`).
bool created_at(const std::string& text, const std::string& marker) {
    const std::string head = "Object created at (most recent call last):\n  File \"" + std::string(__FILE__) + "\", line " + line(marker) + ", in ";
    return text.starts_with(head) && text.ends_with("\n") && text.size() > head.size() + 1 && text.find('\n', head.size()) == text.size() - 1;
}
}  // namespace

// In debug mode a task records where create_task() was called, and "Task exception was
// never retrieved" carries it (CPython's source_traceback); off debug mode it is empty.
TEST(DebugMode, NeverRetrievedCarriesTheCreationSite) {
    std::vector<asyncio::ExceptionContext> reports;
    asyncio::run(
        [&]() -> asyncio::Coro<void> {
            asyncio::EventLoop& loop = asyncio::get_running_loop();
            loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c); });
            {
                auto doomed = asyncio::create_task(fails_at_once(), "doomed");  // @created-doomed
                co_await asyncio::sleep(0);
            }
            loop.set_debug(false);
            {
                auto quiet = asyncio::create_task(fails_at_once(), "quiet");
                co_await asyncio::sleep(0);
            }
            loop.set_debug(true);
        }(),
        {.debug = true});
    EXPECT_EQ(reports.size(), 2U);
    if (reports.size() != 2) return;
    EXPECT_EQ(reports[0].message, "Task exception was never retrieved");
    EXPECT_EQ(reports[0].task_name, "doomed");
    EXPECT_TRUE(created_at(reports[0].source_traceback, "created-doomed")) << reports[0].source_traceback;
    EXPECT_EQ(reports[1].task_name, "quiet");
    EXPECT_EQ(reports[1].source_traceback, "");
}

// "Task was destroyed but it is pending!" (a loop closed under a waiting task) carries the
// place of loop.create_task(), and of a TaskGroup's create_task for its children.
TEST(DebugMode, DestroyedPendingCarriesTheCreationSite) {
    auto loop = asyncio::testing::new_event_loop();
    loop->set_debug(true);
    std::vector<asyncio::ExceptionContext> reports;
    loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c); });
    asyncio::Event never;
    auto t = loop->create_task(waits_forever(never), "stuck");  // @created-stuck
    auto group = loop->create_task([&]() -> asyncio::Coro<void> {
        co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& g) -> asyncio::Coro<void> {
            g.create_task(waits_forever(never), "child");  // @created-child
            co_return;
        });
    });
    loop->run_until_complete(asyncio::sleep(0));
    loop->close();
    std::vector<std::string> seen;
    for (const auto& r : reports)
        if (r.message == "Task was destroyed but it is pending!") seen.push_back(r.task_name + "\n" + r.source_traceback);
    std::sort(seen.begin(), seen.end());  // "Task-N" < "child" < "stuck"
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_TRUE(seen[0].starts_with("Task-") && seen[0].ends_with("\n") && seen[0].find('\n') == seen[0].size() - 1)
        << seen[0];  // the callable overload records no site
    EXPECT_TRUE(seen[1].starts_with("child\n") && created_at(seen[1].substr(6), "created-child")) << seen[1];
    EXPECT_TRUE(seen[2].starts_with("stuck\n") && created_at(seen[2].substr(6), "created-stuck")) << seen[2];
}

// A future from loop.create_future() in debug mode: its never-retrieved report says where it
// was made, and the default handler prints that as CPython does.
TEST(DebugMode, FutureNeverRetrievedPrintsTheCreationSite) {
    auto loop = asyncio::testing::new_event_loop();
    loop->set_debug(true);
    ::testing::internal::CaptureStderr();
    {
        auto fut = loop->create_future<int>();  // @created-future
        fut.set_exception(std::make_exception_ptr(asyncio::ValueError("lost")));
    }
    const std::string err = ::testing::internal::GetCapturedStderr();
    const std::string head = "Future exception was never retrieved\nexception: asyncio::ValueError: lost\n";
    EXPECT_TRUE(err.starts_with(head) && created_at(err.substr(head.size()), "created-future")) << err;
}
