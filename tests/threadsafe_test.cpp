// Cross-thread tests: call_soon_threadsafe, loops on several threads. CI runs this file
// under ThreadSanitizer too (the tsan preset builds only threadsafe_test).
#include "support/async_test.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;

// test_base_events: test_call_soon_threadsafe (from another thread, wakes a blocked loop)
TEST(Threadsafe, CallSoonThreadsafeWakesTheLoop) {
    auto loop = asyncio::new_event_loop();  // real clock: the loop really blocks in epoll
    std::atomic<int> value{0};
    std::thread other;
    loop->call_soon([&] {
        other = std::thread([&] {
            loop->call_soon_threadsafe([&](int v) {
                value = v;
                loop->stop();
            }, 7);
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
        std::atomic<bool> go{false};
        std::function<void()> spin = [&] {
            go.store(true, std::memory_order_release);
            loop->call_soon(spin);
        };
        loop->call_soon(spin);
        std::thread poster([&] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
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
