// Tests for asyncio/testing/gtest.hpp: ASYNCIO_TEST and run_test, the GoogleTest helper users
// get with asyncio::testing: a body on the virtual clock, and a failure naming the pending
// tasks when a body never finishes.
#include <asyncio/testing/gtest.hpp>

#include <gtest/gtest-spi.h>

#include <cstdlib>
#include <stdexcept>

using namespace std::chrono_literals;

// The body is the loop's main task, on a virtual clock starting at zero.
ASYNCIO_TEST(AsyncioTest, BodyRunsOnTheVirtualClock) {
    auto& loop = asyncio::get_running_loop();
    EXPECT_EQ(loop.time().time_since_epoch(), 0s);
    auto wall0 = std::chrono::steady_clock::now();
    try {
        co_await asyncio::timeout(30, asyncio::sleep(3600));
        ADD_FAILURE() << "no TimeoutError";
    } catch (const asyncio::TimeoutError&) {
    }
    EXPECT_EQ(loop.time().time_since_epoch(), 30s);
    EXPECT_LT(std::chrono::steady_clock::now() - wall0, 30s);
    EXPECT_TRUE(asyncio::current_task().has_value());  // the body is a task
}

namespace {

asyncio::Coro<void> deadlocked() {
    asyncio::current_task()->set_name("main");
    asyncio::Event never;
    auto waiter = asyncio::create_task([&]() -> asyncio::Coro<> { co_await never.wait(); });
    waiter.set_name("waiter");
    co_await waiter;
}

asyncio::Coro<void> endless() {
    asyncio::current_task()->set_name("main");
    for (;;) co_await asyncio::sleep(1);
}

asyncio::Coro<void> throws() {
    co_await asyncio::sleep(1);
    throw std::runtime_error("from the body");
}

void run_deadlocked() {
    EXPECT_THROW(asyncio::testing::run_test(deadlocked(), 20ms), asyncio::CancelledError);
}

void run_endless() {
    EXPECT_THROW(asyncio::testing::run_test(endless(), 20ms), asyncio::CancelledError);
}

}  // namespace

// Nothing ready and no timer: the loop waits on nothing; the watchdog wakes it, the test
// fails naming what is pending, and the tasks are cancelled.
TEST(RunTest, DeadlockFailsNamingThePendingTasks) {
    EXPECT_NONFATAL_FAILURE(run_deadlocked(), "did not finish after 0.020000 s of wall time, at 0.000000 s of virtual time; pending tasks: main, waiter. Cancelling them.");
}

// A body that never ends moves the virtual clock for ever: stopped the same way.
TEST(RunTest, EndlessBodyIsCancelled) {
    EXPECT_NONFATAL_FAILURE(run_endless(), "of virtual time; pending tasks: main. Cancelling them.");
}

// An exception from the body comes out of run_test, after the loop is closed.
TEST(RunTest, BodyExceptionPropagates) {
    try {
        asyncio::testing::run_test(throws());
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "from the body");
    }
}

TEST(RunTest, TimeoutFromTheEnvironment) {
    ASSERT_EQ(::setenv("ASYNCIO_TEST_TIMEOUT", "2.5", 1), 0);
    EXPECT_EQ(asyncio::testing::test_timeout(), 2500ms);
    ASSERT_EQ(::setenv("ASYNCIO_TEST_TIMEOUT", "1e30", 1), 0);
    EXPECT_EQ(asyncio::testing::test_timeout(), std::chrono::seconds(1000000000));
    ASSERT_EQ(::setenv("ASYNCIO_TEST_TIMEOUT", "nonsense", 1), 0);
    EXPECT_EQ(asyncio::testing::test_timeout(), 60s);
    ASSERT_EQ(::unsetenv("ASYNCIO_TEST_TIMEOUT"), 0);
    EXPECT_EQ(asyncio::testing::test_timeout(), 60s);
}

// A body that ignores its cancellation cannot be stopped: the process ends with a message
// instead of hanging the suite.
TEST(RunTestDeathTest, BodyIgnoringCancellationEndsTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto stubborn = []() -> asyncio::Coro<void> {
        for (;;) {
            try {
                co_await asyncio::sleep(1);
            } catch (const asyncio::CancelledError&) {
            }
        }
    };
    EXPECT_DEATH(asyncio::testing::run_test(stubborn(), 20ms), "the test did not end within 0.060000 s of wall time");
}
