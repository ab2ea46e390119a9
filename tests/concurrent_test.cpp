// Futures across threads: concurrent::Future (CPython's test_concurrent_futures), wrap_future
// and run_coroutine_threadsafe (test_tasks.py's RunCoroutineThreadsafeTests), loops on several
// threads talking to each other. CI runs this file under ThreadSanitizer too.
#include "support/async_test.hpp"
#include "support/gate.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::InvalidStateError;
using asyncio::RuntimeError;
using asyncio::TimeoutError;
using asyncio::concurrent::Future;
using asyncio_test::Gate;

namespace {

// A loop running on a thread of its own until the object is destroyed.
struct LoopThread {
    std::unique_ptr<asyncio::EventLoop> loop = asyncio::new_event_loop();
    std::thread thread{[this] { loop->run_forever(); }};
    ~LoopThread() {
        loop->call_soon_threadsafe([this] { loop->stop(); });
        thread.join();
        loop->close();
    }
};

Coro<int> add_after(int a, int b) {
    co_await asyncio::sleep(0);
    co_return a + b;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// concurrent::Future

TEST(ConcurrentFuture, ResultWaitsForAnotherThread) {
    auto f = Future<int>::create();
    EXPECT_FALSE(f.done());
    std::thread t([f] {
        std::this_thread::sleep_for(5ms);
        f.set_result(7);
    });
    EXPECT_EQ(f.result(), 7);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.exception(), nullptr);
    t.join();
}

TEST(ConcurrentFuture, ResultWithATimeoutRaisesTimeoutError) {
    auto f = Future<int>::create();
    EXPECT_THROW(f.result(0.01), TimeoutError);
    EXPECT_THROW((void)f.exception(0.001), TimeoutError);
    f.set_result(1);
    EXPECT_EQ(f.result(0), 1);
}

TEST(ConcurrentFuture, CancelBeforeRunning) {
    auto f = Future<int>::create();
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancel());  // CPython: true again once cancelled
    EXPECT_TRUE(f.cancelled());
    EXPECT_FALSE(f.set_running_or_notify_cancel());
    EXPECT_THROW(f.result(), CancelledError);
    EXPECT_THROW(f.set_result(1), InvalidStateError);

    auto g = Future<int>::create();
    EXPECT_TRUE(g.set_running_or_notify_cancel());
    EXPECT_TRUE(g.running());
    EXPECT_FALSE(g.cancel());  // running: too late
    g.set_exception(std::runtime_error("x"));
    EXPECT_THROW(g.result(), std::runtime_error);
    EXPECT_THROW(g.set_result(2), InvalidStateError);
}

TEST(ConcurrentFuture, DoneCallbacksRunOnTheCompletingThreadOrAtOnce) {
    auto f = Future<std::string>::create();
    std::thread::id where;
    std::string seen;
    f.add_done_callback([&](const Future<std::string>& d) {
        where = std::this_thread::get_id();
        seen = d.result();
    });
    std::thread::id producer_id;
    std::thread t([f, &producer_id] {
        producer_id = std::this_thread::get_id();
        f.set_result("done");
    });
    t.join();
    EXPECT_EQ(seen, "done");
    EXPECT_EQ(where, producer_id);
    bool at_once = false;
    f.add_done_callback([&](const Future<std::string>&) { at_once = true; });
    EXPECT_TRUE(at_once);
    // An exception from a callback is reported and the others still run (CPython logs it).
    auto g = Future<void>::create();
    int ran = 0;
    g.add_done_callback([](const Future<void>&) { throw std::runtime_error("in callback"); });
    g.add_done_callback([&](const Future<void>&) { ++ran; });
    testing::internal::CaptureStderr();
    g.set_result();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(ran, 1);
    EXPECT_NE(err.find("exception calling callback for concurrent::Future"), std::string::npos) << err;
}

TEST(ConcurrentFuture, AnEmptyHandleRaisesInvalidStateError) {
    Future<int> empty;
    EXPECT_FALSE(static_cast<bool>(empty));
    EXPECT_THROW((void)empty.done(), InvalidStateError);
    EXPECT_THROW(empty.result(), InvalidStateError);
    EXPECT_THROW(empty.cancel(), InvalidStateError);
    EXPECT_THROW(empty.add_done_callback([](const Future<int>&) {}), InvalidStateError);
}

// ---------------------------------------------------------------------------------------
// wrap_future

ASYNCIO_TEST(WrapFuture, AwaitsAConcurrentFutureWithoutBlockingTheLoop) {
    auto cf = Future<int>::create();
    Gate go;
    std::thread producer([cf, &go] {
        go.wait();
        cf.set_result(5);
    });
    auto f = asyncio::wrap_future(cf);
    auto other = asyncio::create_task([]() -> Coro<int> {
        for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0);
        co_return 10;
    });
    EXPECT_EQ(co_await other, 10);  // the loop runs other tasks while the future is pending
    EXPECT_FALSE(f.done());
    go.open();
    EXPECT_EQ(co_await f, 5);
    producer.join();
}

ASYNCIO_TEST(WrapFuture, ExceptionsAndCancellationCarryOver) {
    auto cf = Future<void>::create();
    std::thread([cf] { cf.set_exception(std::invalid_argument("bad")); }).join();
    try {
        co_await asyncio::wrap_future(cf);
        ADD_FAILURE();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "bad");
    }
    // Cancelling the asyncio future cancels the concurrent one (CPython's _chain_future).
    auto source = Future<int>::create();
    auto f = asyncio::wrap_future(source);
    f.cancel();
    co_await asyncio::testing::run_until_idle();
    EXPECT_TRUE(source.cancelled());
    // And a concurrent future cancelled elsewhere cancels the asyncio one.
    auto other = Future<int>::create();
    auto g = asyncio::wrap_future(other);
    std::thread([other] { other.cancel(); }).join();
    try {
        co_await g;
        ADD_FAILURE();
    } catch (const CancelledError&) {
    }
    EXPECT_TRUE(g.cancelled());
}

// ---------------------------------------------------------------------------------------
// run_coroutine_threadsafe

TEST(RunCoroutineThreadsafe, FromEightThreadsIntoOneLoop) {
    LoopThread lt;
    std::atomic<long> sum{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) sum += asyncio::run_coroutine_threadsafe(add_after(t, i), *lt.loop).result(10);
        });
    for (auto& t : threads) t.join();
    // sum over t of (100 t + 0..99) = 100 * 28 + 8 * 4950
    EXPECT_EQ(sum.load(), 100L * 28 + 8L * 4950);
}

TEST(RunCoroutineThreadsafe, LoopToLoopThroughWrapFuture) {
    LoopThread other;
    int got = asyncio::run([](asyncio::EventLoop& target) -> Coro<int> {
        auto cf = asyncio::run_coroutine_threadsafe(add_after(20, 22), target);
        co_return co_await asyncio::wrap_future(cf);
    }(*other.loop));
    EXPECT_EQ(got, 42);
}

TEST(RunCoroutineThreadsafe, ExceptionsAndCancellation) {
    LoopThread lt;
    auto failing = asyncio::run_coroutine_threadsafe([]() -> Coro<int> {
        co_await asyncio::sleep(0);
        throw std::domain_error("from the loop");
    }(),
                                                     *lt.loop);
    EXPECT_THROW(failing.result(10), std::domain_error);

    // Cancelling the concurrent future cancels the task (CPython: loop.call_soon_threadsafe(
    // task.cancel)).
    Gate started;
    std::atomic<bool> task_cancelled{false};
    auto long_one = asyncio::run_coroutine_threadsafe([](Gate& g, std::atomic<bool>& c) -> Coro<int> {
        g.open();
        try {
            co_await asyncio::sleep(3600);
        } catch (const CancelledError&) {
            c = true;
            throw;
        }
        co_return 0;
    }(started, task_cancelled),
                                                      *lt.loop);
    EXPECT_TRUE(started.wait());
    EXPECT_TRUE(long_one.cancel());
    EXPECT_THROW(long_one.result(10), CancelledError);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!task_cancelled && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(task_cancelled.load());
}

// CPython deadlocks here; the library raises.
TEST(RunCoroutineThreadsafe, ResultOnTheLoopsOwnThreadRaises) {
    std::string message = asyncio::run([]() -> Coro<std::string> {
        auto cf = asyncio::run_coroutine_threadsafe(add_after(1, 2), asyncio::get_running_loop());
        try {
            (void)cf.result();
        } catch (const RuntimeError& e) {
            co_return e.what();
        }
        co_return "no error";
    }());
    EXPECT_NE(message.find("would never return"), std::string::npos) << message;
}

TEST(RunCoroutineThreadsafe, SubmittingToAClosedLoopRaisesAtOnce) {
    auto loop = asyncio::new_event_loop();
    loop->close();
    try {
        (void)asyncio::run_coroutine_threadsafe(add_after(1, 1), *loop);
        ADD_FAILURE();
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
}

// The loop closes with the submission still queued: the future fails instead of never
// completing.
TEST(RunCoroutineThreadsafe, ALoopClosedBeforeTheTaskIsMadeFailsTheFuture) {
    auto loop = asyncio::new_event_loop();
    auto cf = asyncio::run_coroutine_threadsafe(add_after(1, 1), *loop);
    loop->close();
    EXPECT_THROW(cf.result(10), RuntimeError);
}

// A loop closed while its task is pending: the task's frame is destroyed; the future stays
// pending, as CPython's does, but nothing leaks or crashes (ASan) and a waiter with a
// timeout gets TimeoutError.
TEST(RunCoroutineThreadsafe, ALoopClosedWithTheTaskPending) {
    auto loop = asyncio::new_event_loop();
    auto cf = asyncio::run_coroutine_threadsafe([]() -> Coro<int> {
        co_await asyncio::sleep(3600);
        co_return 1;
    }(),
                                                *loop);
    loop->run_until_complete(asyncio::sleep(0));
    testing::internal::CaptureStderr();
    loop->close();
    (void)testing::internal::GetCapturedStderr();
    EXPECT_THROW(cf.result(0.01), TimeoutError);
    loop.reset();
    EXPECT_FALSE(cf.done());
}

// Loops on four threads at once, each with its own tasks, passing a token around a ring
// through run_coroutine_threadsafe.
TEST(ManyLoops, ARingOfLoopsPassesAToken) {
    constexpr int n = 4, laps = 50;
    std::vector<std::unique_ptr<LoopThread>> ring;
    for (int i = 0; i < n; ++i) ring.push_back(std::make_unique<LoopThread>());
    std::atomic<int> hops{0};
    struct Hop {
        static Coro<int> run(std::vector<std::unique_ptr<LoopThread>>& ring, int at, int left, std::atomic<int>& hops) {
            ++hops;
            if (left == 0) co_return at;
            int next = (at + 1) % static_cast<int>(ring.size());
            auto cf = asyncio::run_coroutine_threadsafe(run(ring, next, left - 1, hops), *ring[static_cast<std::size_t>(next)]->loop);
            co_return co_await asyncio::wrap_future(cf);
        }
    };
    auto cf = asyncio::run_coroutine_threadsafe(Hop::run(ring, 0, n * laps, hops), *ring[0]->loop);
    EXPECT_EQ(cf.result(30), 0);
    EXPECT_EQ(hops.load(), n * laps + 1);
}
