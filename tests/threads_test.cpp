// to_thread and loop.run_in_executor (CPython's test_threads.py and the run_in_executor
// cases of test_base_events.py): values and exceptions come back from the worker, the pool
// stays bounded, and cancellation ends the await at once while the call finishes on its own.
// CI runs this file under ThreadSanitizer too.
#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/gate.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::RuntimeError;
using asyncio::concurrent::ThreadPoolExecutor;
using asyncio_test::Gate;

namespace {

// Polls `done` between loop iterations for at most 10 s of wall time.
Coro<bool> eventually(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        co_await asyncio::to_thread([] { std::this_thread::sleep_for(1ms); });
    }
    co_return true;
}

}  // namespace

ASYNCIO_TEST(ToThread, RunsTheFunctionOnAnotherThreadAndReturnsItsValue) {
    auto loop_thread = std::this_thread::get_id();
    auto [value, where] = co_await asyncio::to_thread([](int a, int b) { return std::pair(a * b, std::this_thread::get_id()); }, 6, 7);
    EXPECT_EQ(value, 42);
    EXPECT_NE(where, loop_thread);
}

ASYNCIO_TEST(ToThread, TheExceptionComesBackToTheTask) {
    try {
        co_await asyncio::to_thread([] { throw std::out_of_range("no such key"); });
        ADD_FAILURE() << "no exception";
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "no such key");
    }
}

ASYNCIO_TEST(ToThread, VoidAndMoveOnlyResults) {
    std::atomic<int> ran{0};
    co_await asyncio::to_thread([&] { ++ran; });
    EXPECT_EQ(ran.load(), 1);
    auto p = co_await asyncio::to_thread([] { return std::make_unique<std::string>("moved"); });
    EXPECT_EQ(*p, "moved");
}

// CPython's to_thread is a coroutine: nothing runs until it is awaited, and a coroutine
// never awaited never runs.
ASYNCIO_TEST(ToThread, NothingRunsUntilAwaited) {
    std::atomic<int> ran{0};
    {
        auto never = asyncio::to_thread([&] { ++ran; });
        auto later = asyncio::to_thread([&] { ++ran; });
        co_await asyncio::testing::run_until_idle();
        EXPECT_EQ(ran.load(), 0);
        co_await std::move(later);
    }
    EXPECT_EQ(ran.load(), 1);
}

// Python: create_task(to_thread(f)), gather(to_thread(f), to_thread(g)), wait_for(...).
ASYNCIO_TEST(ToThread, IsAnAwaitableLikeAnyOther) {
    auto t = asyncio::create_task(asyncio::to_thread([] { return 1; }));
    auto [a, b] = co_await asyncio::gather(asyncio::to_thread([] { return 2; }), asyncio::to_thread([] { return std::string("3"); }));
    EXPECT_EQ(co_await t, 1);
    EXPECT_EQ(a, 2);
    EXPECT_EQ(b, "3");
    EXPECT_EQ(co_await asyncio::wait_for(asyncio::to_thread([] { return 4; }), 10), 4);
}

ASYNCIO_TEST(ToThread, TenThousandCallsOnABoundedPool) {
    auto pool = std::make_shared<ThreadPoolExecutor>(4);
    asyncio::get_running_loop().set_default_executor(pool);
    std::mutex m;
    std::set<std::thread::id> threads;
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 0; i < 10'000; ++i)
        tasks.push_back(asyncio::create_task(asyncio::to_thread([&m, &threads](int v) {
            std::lock_guard lock(m);
            threads.insert(std::this_thread::get_id());
            return v;
        },
                                                                i)));
    long long sum = 0;
    for (auto& t : tasks) sum += co_await t;
    EXPECT_EQ(sum, 10'000LL * 9'999 / 2);
    EXPECT_LE(threads.size(), 4u);
    EXPECT_GE(threads.size(), 1u);
    EXPECT_LE(pool->thread_count(), 4u);
}

// Cancelling the awaiting task ends the await at once (CPython: the asyncio future is
// cancelled, the thread goes on); the call finishes later and its result is destroyed.
ASYNCIO_TEST(ToThread, CancelledMidCallTheAwaitEndsAtOnceAndTheResultIsDropped) {
    Counted::reset();
    Gate entered, release;
    std::atomic<bool> finished{false};
    auto t = asyncio::create_task(asyncio::to_thread([&] {
        entered.open();
        release.wait();
        finished = true;
        return Counted();
    }));
    EXPECT_TRUE(co_await asyncio::to_thread([&] { return entered.wait(); }));
    t.cancel();
    co_await asyncio::testing::run_until_idle();
    EXPECT_TRUE(t.cancelled());     // at once,
    EXPECT_FALSE(finished.load());  // while the call still runs
    release.open();
    EXPECT_TRUE(co_await eventually([&] { return finished.load(); }));
    co_await asyncio::testing::run_until_idle();
    EXPECT_TRUE(co_await eventually([] { return Counted::alive() == 0; }));
    EXPECT_GT(Counted::constructed.load(), 0);
}

// Beyond CPython: a function that takes a std::stop_token first is asked to stop.
ASYNCIO_TEST(ToThread, AStopTokenIsStoppedWhenTheAwaitingTaskIsCancelled) {
    Gate entered;
    std::atomic<bool> stopped_early{false};
    auto t = asyncio::create_task(asyncio::to_thread([&](std::stop_token st, int limit_s) {
        entered.open();
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
        while (!st.stop_requested() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
        stopped_early = st.stop_requested();
        return 0;
    },
                                                     10));
    EXPECT_TRUE(co_await asyncio::to_thread([&] { return entered.wait(); }));
    t.cancel();
    EXPECT_TRUE(co_await eventually([&] { return stopped_early.load(); }));
    try {
        co_await t;
        ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError&) {
    }
    EXPECT_TRUE(t.cancelled());
}

// CPython: cancelling the asyncio future of a call still queued cancels the concurrent
// future, so the call never starts.
ASYNCIO_TEST(ToThread, ACallCancelledBeforeItStartsNeverRuns) {
    ThreadPoolExecutor one(1);
    Gate entered, release;
    std::atomic<int> second_ran{0};
    auto first = asyncio::create_task(asyncio::to_thread_on(one, [&] {
        entered.open();
        release.wait();
    }));
    auto second = asyncio::create_task(asyncio::to_thread_on(one, [&] { ++second_ran; }));
    EXPECT_TRUE(co_await asyncio::to_thread([&] { return entered.wait(); }));
    second.cancel();
    co_await asyncio::testing::run_until_idle();
    EXPECT_TRUE(second.cancelled());
    release.open();
    co_await first;
    one.shutdown(true);  // the queue is empty and the thread gone: the second never ran
    EXPECT_EQ(second_ran.load(), 0);
}

ASYNCIO_TEST(ToThread, AFutureOfTheExecutorCancelledByShutdownRaisesCancelledError) {
    ThreadPoolExecutor one(1);
    Gate entered, release;
    auto first = asyncio::create_task(asyncio::to_thread_on(one, [&] {
        entered.open();
        release.wait();
    }));
    auto second = asyncio::create_task(asyncio::to_thread_on(one, [] { return 2; }));
    EXPECT_TRUE(co_await asyncio::to_thread([&] { return entered.wait(); }));
    one.shutdown(false, true);  // cancel_futures: the second never runs
    release.open();
    co_await first;
    try {
        co_await second;
        ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError&) {
    }
}

ASYNCIO_TEST(RunInExecutor, ReturnsAFutureOfTheLoop) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Future<int> f = loop.run_in_executor(
        nullptr, [](int x) { return x + 1; }, 41);
    EXPECT_EQ(&f.get_loop(), &loop);
    EXPECT_EQ(co_await f, 42);
    ThreadPoolExecutor two(2);
    asyncio::Future<std::string> g = loop.run_in_executor(&two, [] { return std::string("mine"); });
    EXPECT_EQ(co_await g, "mine");
    asyncio::Future<void> h = loop.run_in_executor(&two, [] { throw std::runtime_error("boom"); });
    try {
        co_await h;
        ADD_FAILURE();
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
}

ASYNCIO_TEST(RunInExecutor, CancellingTheFutureStopsTheCall) {
    auto& loop = asyncio::get_running_loop();
    Gate entered;
    std::atomic<bool> stopped{false};
    auto f = loop.run_in_executor(nullptr, [&](std::stop_token st) {
        entered.open();
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!st.stop_requested() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
        stopped = st.stop_requested();
    });
    EXPECT_TRUE(co_await asyncio::to_thread([&] { return entered.wait(); }));
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(co_await eventually([&] { return stopped.load(); }));
    EXPECT_TRUE(f.cancelled());
}

ASYNCIO_TEST(RunInExecutor, AShutDownExecutorRaisesAtOnce) {
    auto& loop = asyncio::get_running_loop();
    ThreadPoolExecutor ex(1);
    ex.shutdown();
    try {
        (void)loop.run_in_executor(&ex, [] {});
        ADD_FAILURE();
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
    }
    co_await loop.shutdown_default_executor();
    try {
        co_await asyncio::to_thread([] {});
        ADD_FAILURE();
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Executor shutdown has been called");
    }
}

ASYNCIO_TEST(DefaultExecutor, ThreadsAreNamedAndStartedOnlyWhenNeeded) {
    auto& loop = asyncio::get_running_loop();
    auto name = co_await asyncio::to_thread([] {
        char buf[16] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        return std::string(buf);
    });
    EXPECT_EQ(name, "asyncio_0");
    auto pool = std::make_shared<ThreadPoolExecutor>(8, "mine");
    loop.set_default_executor(pool);
    EXPECT_EQ(pool->thread_count(), 0u);  // lazily
    for (int i = 0; i < 5; ++i) co_await asyncio::to_thread([] {});
    EXPECT_EQ(pool->thread_count(), 1u);  // one idle thread serves calls one after another
    try {
        loop.set_default_executor(nullptr);
        ADD_FAILURE();
    } catch (const asyncio::ValueError&) {
    }
}

TEST(DefaultExecutor, RunShutsItDownAndJoinsItsThreads) {
    auto pool = std::make_shared<ThreadPoolExecutor>(3);
    std::atomic<int> done{0};
    asyncio::run([](std::shared_ptr<ThreadPoolExecutor> p, std::atomic<int>& d) -> Coro<void> {
        asyncio::get_running_loop().set_default_executor(p);
        // Left running when main returns: run() waits for them (shutdown_default_executor).
        for (int i = 0; i < 3; ++i)
            (void)asyncio::get_running_loop().run_in_executor(nullptr, [&d] {
                std::this_thread::sleep_for(20ms);
                ++d;
            });
        co_return;
    }(pool, done));
    EXPECT_EQ(done.load(), 3);
    EXPECT_EQ(pool->thread_count(), 0u);
}

TEST(ThreadPool, MaxWorkersAsCPython) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_EQ(ThreadPoolExecutor().max_workers(), std::min<std::size_t>(32, cores + 4));
    EXPECT_EQ(ThreadPoolExecutor(3).max_workers(), 3u);
    try {
        ThreadPoolExecutor bad(-1);
        ADD_FAILURE();
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "max_workers must be greater than 0");
    }
}

TEST(ThreadPool, SubmitReturnsAConcurrentFuture) {
    ThreadPoolExecutor ex(2);
    auto f = ex.submit([](int a) { return a * 2; }, 21);
    EXPECT_EQ(f.result(10), 42);
    auto g = ex.submit([] { throw std::logic_error("bad"); });
    EXPECT_THROW(g.result(10), std::logic_error);
    EXPECT_TRUE(g.done());
    EXPECT_NE(g.exception(), nullptr);
}

TEST(ThreadPool, ShutdownWaitsForThePendingWork) {
    std::atomic<int> ran{0};
    std::vector<asyncio::concurrent::Future<void>> fs;
    {
        ThreadPoolExecutor ex(2);
        for (int i = 0; i < 20; ++i)
            fs.push_back(ex.submit([&] {
                std::this_thread::sleep_for(1ms);
                ++ran;
            }));
        ex.shutdown(true);
        EXPECT_EQ(ran.load(), 20);
        EXPECT_EQ(ex.thread_count(), 0u);
        EXPECT_THROW(ex.submit([] {}), RuntimeError);
    }
    for (auto& f : fs) EXPECT_TRUE(f.done() && !f.cancelled());
}

TEST(ThreadPool, ShutdownWithCancelFuturesCancelsWhatHasNotStarted) {
    Gate entered, release;
    ThreadPoolExecutor ex(1);
    auto first = ex.submit([&] {
        entered.open();
        release.wait();
        return 1;
    });
    std::vector<asyncio::concurrent::Future<int>> queued;
    for (int i = 0; i < 5; ++i) queued.push_back(ex.submit([] { return 2; }));
    EXPECT_TRUE(entered.wait());
    ex.shutdown(false, true);
    for (auto& f : queued) EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(queued[0].result(), CancelledError);
    EXPECT_TRUE(first.running());
    release.open();
    EXPECT_EQ(first.result(10), 1);
}

// Ctrl-C while run() waits for the default executor's threads (CPython's gh-111358: a
// process that cannot exit): the wait ends, run() raises KeyboardInterrupt, and the thread
// still running is left to end on its own.
TEST(DefaultExecutor, CtrlCDuringItsShutdownStillEndsRunWithKeyboardInterrupt) {
    Gate release;
    auto pool = std::make_shared<ThreadPoolExecutor>(1);
    std::atomic<bool> sent{false};
    std::thread ctrl_c([&] {
        // Once run() has begun shutting the executor down, submit() refuses.
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                (void)pool->submit([] {});
            } catch (const RuntimeError&) {
                sent = true;
                ::kill(::getpid(), SIGINT);
                return;
            }
            std::this_thread::sleep_for(1ms);
        }
    });
    EXPECT_THROW(asyncio::run([](std::shared_ptr<ThreadPoolExecutor> p, Gate& g) -> Coro<void> {
                     asyncio::get_running_loop().set_default_executor(p);
                     (void)asyncio::get_running_loop().run_in_executor(nullptr, [&g] { g.wait(); });
                     co_return;
                 }(pool, release)),
                 asyncio::KeyboardInterrupt);
    EXPECT_TRUE(sent.load());
    release.open();
    ctrl_c.join();
    EXPECT_TRUE(pool->shutdown_and_wait_for(10s));
}
