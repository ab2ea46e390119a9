// Tests for asyncio/testing.hpp: the virtual clock and loop probes.
#include <asyncio/testing.hpp>

#include "support/async_test.hpp"

#include <unistd.h>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio_test::elapsed;

// A test of a long wait takes no real time and reads exact virtual times.
ASYNCIO_TEST(VirtualClock, StartsAtZeroAndJumpsExactly) {
    EXPECT_EQ(elapsed(), 0s);
    auto real0 = std::chrono::steady_clock::now();
    co_await asyncio::sleep(3600s);
    EXPECT_EQ(elapsed(), 3600s);
    co_await asyncio::sleep(1.5);
    EXPECT_EQ(elapsed(), 3601500ms);
    EXPECT_LT(std::chrono::steady_clock::now() - real0, 3600s);  // far less, in fact
}

// Time does not move while there is work to do.
ASYNCIO_TEST(VirtualClock, StandsStillWhileTasksAreReady) {
    for (int i = 0; i < 1000; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(elapsed(), 0s);
}

// With an fd registered, the loop polls it first and jumps only if nothing is ready.
ASYNCIO_TEST(VirtualClock, PollsRegisteredFdsBeforeJumping) {
    auto& loop = asyncio::get_running_loop();
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::chrono::nanoseconds read_at{-1};
    loop.add_reader(fds[0], [&] {
        char c;
        EXPECT_EQ(::read(fds[0], &c, 1), 1);
        read_at = elapsed();
    });
    EXPECT_EQ(::write(fds[1], "x", 1), 1);
    co_await asyncio::sleep(10s);
    EXPECT_EQ(read_at, 0s);  // served before the jump to 10 s
    EXPECT_EQ(elapsed(), 10s);
    loop.remove_reader(fds[0]);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(VirtualClock, ProbesCountTimersAndFds) {
    auto loop = asyncio::testing::new_event_loop();
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    auto h = loop->call_later(1s, [] {});
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 1u);
    h.cancel();
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
}

// run_until_idle: everything that can happen without time passing has happened.
ASYNCIO_TEST(RunUntilIdle, RunsEveryoneUntilBlockedWithoutMovingTime) {
    std::vector<std::string> log;
    asyncio::Event ev;
    asyncio::Queue<int> q;
    auto chain = [&](int depth) -> asyncio::Coro<void> {
        for (int i = 0; i < depth; ++i) co_await asyncio::sleep(0);
        log.push_back("chain " + std::to_string(depth));
        q.put_nowait(depth);
    };
    auto waiter = [&]() -> asyncio::Coro<void> {
        co_await ev.wait();
        log.push_back("event");
    };
    auto sleeper = [&]() -> asyncio::Coro<void> {
        co_await asyncio::sleep(1);
        log.push_back("slept");
    };
    asyncio::Task<void> a = asyncio::create_task(chain(7));
    asyncio::Task<void> b = asyncio::create_task(chain(3));
    asyncio::Task<void> w = asyncio::create_task(waiter());
    asyncio::Task<void> s = asyncio::create_task(sleeper());
    asyncio::get_running_loop().call_soon([&] { ev.set(); });
    co_await asyncio::testing::run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"event", "chain 3", "chain 7"}));
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_EQ(asyncio_test::elapsed(), std::chrono::nanoseconds(0));
    EXPECT_FALSE(s.done());
    co_await s;
    EXPECT_EQ(log.back(), "slept");
    co_await asyncio::testing::run_until_idle();  // nothing left: returns after one step
    EXPECT_EQ(asyncio_test::elapsed(), std::chrono::seconds(1));
}
