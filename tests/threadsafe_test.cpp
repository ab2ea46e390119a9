// Cross-thread tests: call_soon_threadsafe, loops on several threads. CI runs this file
// under ThreadSanitizer too (the tsan preset builds only threadsafe_test).
#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio_test::value_of;

// test_base_events: test_call_soon_threadsafe (from another thread, wakes a blocked loop)
TEST(Threadsafe, CallSoonThreadsafeWakesTheLoop) {
    auto loop = asyncio::new_event_loop();  // real clock: the loop really blocks in epoll
    std::atomic<int> value{0};
    std::thread other;
    loop->call_soon([&] {
        other = std::thread([&] {
            auto set_and_stop = [&](int v) {
                value = v;
                loop->stop();
            };
            loop->call_soon_threadsafe(set_and_stop, 7);
        });
    });
    loop->run_forever();
    other.join();
    EXPECT_EQ(value.load(), 7);
}

TEST(Threadsafe, CallSoonThreadsafeFromManyThreads) {
    auto loop = asyncio::new_event_loop();
    constexpr int threads = 4, per_thread = 1000;
    int count = 0;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i)
                loop->call_soon_threadsafe([&] {
                    if (++count == threads * per_thread) loop->stop();
                });
        });
    loop->run_forever();
    for (auto& t : pool) t.join();
    EXPECT_EQ(count, threads * per_thread);
}

// Coalesced wake-ups (libuv's uv_async_send): 8 threads posting flat out while the loop is
// not running cost one eventfd write, the first; the loop then runs all 80,000 in order per
// thread.
TEST(Threadsafe, EightThreadsPostingFlatOutCostOneWakeUp) {
    auto loop = asyncio::new_event_loop();
    constexpr int threads = 8, per_thread = 10'000;
    std::vector<int> last(threads, -1);
    bool in_order = true;
    int count = 0;
    auto before = asyncio::testing::reactor_syscalls(*loop);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                loop->call_soon_threadsafe([&, t, i] {
                    in_order = in_order && last[static_cast<std::size_t>(t)] == i - 1;
                    last[static_cast<std::size_t>(t)] = i;
                    if (++count == threads * per_thread) loop->stop();
                });
        });
    for (auto& t : pool) t.join();
    EXPECT_EQ(asyncio::testing::reactor_syscalls(*loop) - before, 1u);  // one write
    loop->run_forever();
    EXPECT_EQ(count, threads * per_thread);
    EXPECT_TRUE(in_order);
}

// CPython's call_soon_threadsafe checks for a closed loop first, from any thread.
TEST(Threadsafe, PostingToAClosedLoopRaises) {
    auto loop = asyncio::new_event_loop();
    loop->close();
    std::string message;
    std::thread other([&] {
        try {
            loop->call_soon_threadsafe([] {});
        } catch (const asyncio::RuntimeError& e) {
            message = e.what();
        }
    });
    other.join();
    EXPECT_EQ(message, "Event loop is closed");
}

// A thread posts its last callback while the loop thread runs it, closes and destroys the
// loop: the wake-up that goes with the post must not reach the loop's eventfd (or the loop)
// after it was closed. The loop spins on call_soon meanwhile, so it picks the post up from
// the queue's flag at once, without waiting for the wake-up: the widest window there is.
// (Before the fix TSan reported the eventfd's write racing with its close, and the loop's
// deletion racing with the poster's reads, in most runs of 3000 rounds.)
TEST(Threadsafe, LastPostRacesWithLoopDestruction) {
    constexpr int rounds = 3000;
    int ran = 0;
    for (int round = 0; round < rounds; ++round) {
        auto loop = asyncio::new_event_loop();
        std::atomic<bool> go{false}, posting{false};
        std::function<void()> spin = [&] {
            go.store(true, std::memory_order_release);
            // Lets the poster run on a busy machine; then spins hot to catch the post.
            if (!posting.load(std::memory_order_relaxed)) std::this_thread::yield();
            loop->call_soon(spin);
        };
        loop->call_soon(spin);
        std::thread poster([&] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            posting.store(true, std::memory_order_relaxed);
            loop->call_soon_threadsafe([&] {
                ++ran;
                loop->stop();
            });
        });
        loop->run_forever();
        loop.reset();  // close() and destroy while the poster may still be inside its post
        poster.join();
    }
    EXPECT_EQ(ran, rounds);
}

// ------------------------------------------------ frame-pool memory across threads

namespace {

using asyncio::detail::pool_arena_bytes_all_threads;

Coro<long> spawn_and_join(int n) {
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(value_of(i)));
    long sum = 0;
    for (auto& t : tasks) sum += co_await std::move(t);
    co_return sum;
}

}  // namespace

// Every thread that runs a loop and ends gives its arenas back (they used to stay mapped:
// +39 MB of RSS per 10 threads of 20,000 tasks).
TEST(Threadsafe, ThreadsGiveTheirArenasBackWhenTheyEnd) {
    const std::size_t before = pool_arena_bytes_all_threads();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 10; ++i)
        threads.emplace_back([&] {
            if (asyncio::run(spawn_and_join(20'000)) == 20'000L * 19'999 / 2 && asyncio::detail::pool_arena_bytes() > 0) ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 10);
    EXPECT_EQ(pool_arena_bytes_all_threads(), before);
}

// Frames made on one thread and destroyed on another go back to the thread that made them;
// that thread's arenas still go back when it ends.
TEST(Threadsafe, FramesFreedOnAnotherThreadGoBackToTheirPool) {
    const std::size_t before = pool_arena_bytes_all_threads();
    std::vector<Coro<int>> coros;
    std::atomic<bool> handed{false}, freed{false};
    std::thread maker([&] {
        for (int i = 0; i < 10'000; ++i) coros.push_back(value_of(i));
        handed.store(true, std::memory_order_release);
        while (!freed.load(std::memory_order_acquire)) std::this_thread::yield();
        // The freed frames are this pool's again: a second batch reuses them.
        std::vector<Coro<int>> again;
        for (int i = 0; i < 10'000; ++i) again.push_back(value_of(i));
    });
    while (!handed.load(std::memory_order_acquire)) std::this_thread::yield();
    coros.clear();  // the frames of another thread, which is alive
    freed.store(true, std::memory_order_release);
    maker.join();
    EXPECT_EQ(pool_arena_bytes_all_threads(), before);
}

// Frames that outlive their thread keep their arenas (orphans) until the last of them is
// destroyed, here on the main thread; then those arenas go back too.
TEST(Threadsafe, ArenasOfAnEndedThreadGoBackWithTheirLastFrame) {
    const std::size_t before = pool_arena_bytes_all_threads();
    std::vector<Coro<int>> coros;
    std::thread maker([&] {
        for (int i = 0; i < 10'000; ++i) coros.push_back(value_of(i));
    });
    maker.join();
    EXPECT_GT(pool_arena_bytes_all_threads(), before);
    for (std::size_t i = 0; i + 1 < coros.size(); ++i) coros[i] = Coro<int>();
    EXPECT_GT(pool_arena_bytes_all_threads(), before);  // one frame still holds its arena
    coros.clear();
    EXPECT_EQ(pool_arena_bytes_all_threads(), before);
}

namespace {

// Made on a thread before its pool is: destroyed after the pool was given back.
struct LateFrames {
    std::vector<Coro<int>> coros;
};
thread_local LateFrames t_late;

}  // namespace

// A frame destroyed on its own thread after that thread's pool was given back (by a
// thread_local destroyed later): its arena goes back with it, nothing is touched twice.
TEST(Threadsafe, FrameFreedAfterItsThreadsPoolEndedGivesItsArenaBack) {
    const std::size_t before = pool_arena_bytes_all_threads();
    std::thread t([] {
        t_late.coros.reserve(100);  // t_late exists before the pool's first arena
        for (int i = 0; i < 100; ++i) t_late.coros.push_back(value_of(i));
    });
    t.join();
    EXPECT_EQ(pool_arena_bytes_all_threads(), before);
}
