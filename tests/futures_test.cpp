// Tests for asyncio/futures.hpp: Future<T> (CPython's test_futures.py).
#include <asyncio/futures.hpp>

#include "support/async_test.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Future;

// test_futures: test_initial_state / test_result
ASYNCIO_TEST(Future, SetResultThenAwait) {
    Future<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_THROW((void)f.result(), asyncio::InvalidStateError);
    EXPECT_THROW((void)f.exception(), asyncio::InvalidStateError);
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_EQ(co_await f, 42);
    EXPECT_EQ(&f.get_loop(), &asyncio::get_running_loop());
}

// test_futures: test_set_result_unless_cancelled / test_exception / InvalidStateError twice
ASYNCIO_TEST(Future, SettingTwiceRaisesInvalidStateError) {
    Future<int> f;
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), asyncio::InvalidStateError);
    EXPECT_THROW(f.set_exception(asyncio::ValueError("x")), asyncio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.result(), 1);
    co_return;
}

ASYNCIO_TEST(Future, SetExceptionIsRethrown) {
    Future<void> f;
    f.set_exception(asyncio::ValueError("broken"));
    EXPECT_THROW(f.result(), asyncio::ValueError);
    EXPECT_NE(f.exception(), nullptr);
    EXPECT_THROW(co_await f, asyncio::ValueError);
}

// test_futures: test_cancel
ASYNCIO_TEST(Future, CancelMakesResultRaiseCancelledError) {
    Future<int> f;
    EXPECT_TRUE(f.cancel("stop"));
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    try {
        (void)f.result();
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::CancelledError& e) {
        EXPECT_EQ(e.message(), "stop");
    }
    EXPECT_THROW((void)f.exception(), asyncio::CancelledError);
    EXPECT_THROW(f.set_result(1), asyncio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    co_return;
}

// A task waits for a future that a timer completes.
ASYNCIO_TEST(Future, AwaitWaitsForSetResult) {
    Future<std::string> f;
    asyncio::get_running_loop().call_later(2s, [f]() mutable { f.set_result("late"); });
    EXPECT_EQ(co_await f, "late");
    EXPECT_EQ(asyncio_test::elapsed(), 2s);
}

// test_futures: test_callbacks_invoked_on_set_result / remove_done_callback
ASYNCIO_TEST(Future, DoneCallbacksAreScheduledInOrder) {
    Future<int> f;
    std::vector<int> log;
    f.add_done_callback([&](Future<int> done) { log.push_back(done.result()); });
    auto id = f.add_done_callback([&](Future<int>) { log.push_back(-1); });
    f.add_done_callback([&](Future<int> done) { log.push_back(done.result() + 1); });
    EXPECT_EQ(f.remove_done_callback(id), 1u);
    f.set_result(10);
    EXPECT_TRUE(log.empty());  // scheduled with call_soon, not called
    co_await asyncio::sleep(0);
    EXPECT_EQ(log, (std::vector<int>{10, 11}));
}

// test_futures: test_future_exception_never_retrieved
TEST(Future, UnretrievedExceptionIsReported) {
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    {
        Future<int> f(loop.get());
        f.set_exception(asyncio::ValueError("lost"));
    }
    {
        Future<int> f(loop.get());
        f.set_exception(asyncio::ValueError("seen"));
        EXPECT_NE(f.exception(), nullptr);
    }
    EXPECT_EQ(reports, (std::vector<std::string>{"Future exception was never retrieved"}));
}

TEST(Future, CreatedOutsideALoopNeedsOne) {
    EXPECT_THROW(Future<int>{}, asyncio::RuntimeError);
    auto loop = asyncio::testing::new_event_loop();
    auto f = loop->create_future<int>();
    loop->call_later(1s, [f]() mutable { f.set_result(3); });
    EXPECT_EQ(loop->run_until_complete(f), 3);
    static_assert(asyncio::isfuture<Future<int>>);
}

TEST(Future, HandlesCompareAndHashByIdentity) {
    auto loop = asyncio::testing::new_event_loop();
    Future<int> a(loop.get()), b(loop.get());
    Future<int> a2 = a;
    EXPECT_TRUE(a == a2);
    EXPECT_FALSE(a == b);
    EXPECT_EQ(std::hash<Future<int>>()(a), std::hash<Future<int>>()(a2));
}
