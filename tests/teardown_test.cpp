// Tests of the loop's teardown: close() destroying deep chains of suspended frames, frames
// whose destructors throw, and the frame pool giving its memory back.
#include <asyncio/detail/frame_pool.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio_test::value_of;

namespace {

// A million frames deep, at -O0 and under ASan alike (about 3 s there).
constexpr int deep = 1'000'000;

// Records the order in which the levels of a chain are destroyed: level 0 is the innermost.
struct Order {
    int next = 0;          // the level expected to be destroyed next
    int out_of_order = 0;  // levels destroyed when another was expected
    int destroyed = 0;
};

struct Level {
    Order* order;
    int n;
    Level(Order* o, int level) : order(o), n(level) {}
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    ~Level() {
        if (n != order->next) ++order->out_of_order;
        order->next = n + 1;
        ++order->destroyed;
    }
};

// A chain of `n + 1` frames awaiting each other inline, the innermost asleep.
Coro<void> chain(Order& order, int n) {
    Level level(&order, n);
    if (n == 0)
        co_await asyncio::sleep(1h);
    else
        co_await chain(order, n - 1);
}

// Runs the loop one iteration: every ready task takes its first step.
void step(asyncio::EventLoop& loop) {
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
}

}  // namespace

// close() destroys a suspended chain a million frames deep innermost first, without
// recursing (each frame's destruction used to destroy its child from inside it).
TEST(Teardown, CloseDestroysADeepChainWithoutRecursion) {
    Order order;
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    auto t = loop->create_task(chain(order, deep));
    step(*loop);
    EXPECT_EQ(order.destroyed, 0);
    loop->close();
    EXPECT_EQ(order.destroyed, deep + 1);
    EXPECT_EQ(order.out_of_order, 0);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(reports, (std::vector<std::string>{"Task was destroyed but it is pending!"}));
}

// Cancelling the same chain unwinds it through the task's trampoline, innermost first.
TEST(Teardown, CancelUnwindsADeepChainWithoutRecursion) {
    Order order;
    auto loop = asyncio::testing::new_event_loop();
    auto t = loop->create_task(chain(order, deep));
    step(*loop);
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(loop->run_until_complete(t), asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(order.destroyed, deep + 1);
    EXPECT_EQ(order.out_of_order, 0);
    loop->close();
}

// A task that never started has only its root frame, destroyed unstarted.
TEST(Teardown, CloseDestroysATaskThatNeverStarted) {
    Order order;
    auto loop = asyncio::testing::new_event_loop();
    loop->set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
    auto t = loop->create_task(chain(order, 3));
    loop->close();
    EXPECT_EQ(order.destroyed, 0);  // the body never ran: no Level was constructed
    EXPECT_TRUE(t.cancelled());
}

namespace {

struct Throws {
    std::string what;
    explicit Throws(std::string w) : what(std::move(w)) {}
    Throws(const Throws&) = delete;
    Throws& operator=(const Throws&) = delete;
    ~Throws() noexcept(false) { throw asyncio::ValueError(what); }
};

struct Alive {
    int* count;
    explicit Alive(int* c) : count(c) { ++*count; }
    Alive(const Alive&) = delete;
    Alive& operator=(const Alive&) = delete;
    ~Alive() { --*count; }
};

// A root frame whose local throws when destroyed, with locals on either side of it.
Coro<void> throws_in_root(int* alive) {
    Alive before(alive);
    Throws t("root");
    Alive after(alive);
    co_await asyncio::sleep(1h);
}

Coro<void> throws_below(int* alive, int n) {
    Alive here(alive);
    if (n == 0) {
        Throws t("inner");
        co_await asyncio::sleep(1h);
    } else {
        co_await throws_below(alive, n - 1);
    }
}

Coro<void> holds(int* alive) {
    Alive a(alive);
    co_await asyncio::sleep(1h);
}

}  // namespace

// A destructor that throws while close() destroys a pending frame is reported through the
// exception handler; the rest of that frame, the frames above it and the other tasks are
// destroyed all the same, and the loop ends up closed.
TEST(Teardown, DestructorThrowingDuringCloseIsReported) {
    int alive = 0;
    auto loop = asyncio::testing::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        reports.push_back(c.message + " | " + c.task_name + " | " + (c.exception ? asyncio::describe(c.exception) : ""));
    });
    auto a = loop->create_task(holds(&alive));
    auto b = loop->create_task(throws_in_root(&alive));
    b.set_name("b");
    auto c = loop->create_task(throws_below(&alive, 5));
    c.set_name("c");
    auto d = loop->create_task(holds(&alive));
    step(*loop);
    EXPECT_EQ(alive, 2 + 2 + 6);
    loop->close();
    EXPECT_TRUE(loop->is_closed());
    EXPECT_EQ(alive, 0);
    EXPECT_TRUE(a.cancelled() && b.cancelled() && c.cancelled() && d.cancelled());
    auto count = [&](const std::string& s) { return std::count(reports.begin(), reports.end(), s); };
    EXPECT_EQ(count("Exception in a destructor of a pending task's frame | b | asyncio::ValueError: root"), 1);
    EXPECT_EQ(count("Exception in a destructor of a pending task's frame | c | asyncio::ValueError: inner"), 1);
    EXPECT_EQ(reports.size(), 6u);  // and four "Task was destroyed but it is pending!"
}

// ---------------------------------------------------------------- the frame pool gives back

namespace {

using asyncio::detail::pool_arena_bytes;

constexpr std::size_t MiB = std::size_t{1} << 20;

// `n` tasks made at once and then awaited: a burst. Returns the pool's bytes at its peak.
Coro<std::size_t> burst(int n) {
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(value_of(i)));
    std::size_t peak = pool_arena_bytes();
    long sum = 0;
    for (auto& t : tasks) sum += co_await std::move(t);
    EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
    co_return peak;
}

// Runs `f` on a fresh thread, whose pool starts empty.
template <class F>
void on_fresh_thread(F f) {
    std::thread t(f);
    t.join();
}

}  // namespace

// After asyncio::run, the arenas a burst of 200,000 tasks needed go back to the system, but
// for the one the pool carves from (at most 2 MiB).
TEST(FramePool, BurstIsGivenBackWhenTheRunEnds) {
    on_fresh_thread([] {
        EXPECT_EQ(pool_arena_bytes(), 0u);
        std::size_t peak = asyncio::testing::run(burst(200'000));
        EXPECT_GT(peak, 20 * MiB);
        EXPECT_LE(pool_arena_bytes(), 2 * MiB);
    });
}

// Inside a run that goes on, the loop gives the empty arenas back (beyond a cache of
// 4 MiB) when it next has nothing to run.
TEST(FramePool, BurstIsGivenBackWhileTheLoopRunsOn) {
    on_fresh_thread([] {
        auto main = []() -> Coro<void> {
            std::size_t peak = co_await burst(200'000);
            EXPECT_GT(peak, 20 * MiB);
            co_await asyncio::sleep(1s);  // the loop waits: nothing is ready
            // Still held: the arenas with live blocks in them (the main task's frame and
            // state, the ready queue's spare block), the one being carved, and the cache.
            EXPECT_LE(pool_arena_bytes(), asyncio::detail::frame_pool_cache + 4 * MiB);
            // A second burst reuses the cache, then gives back again.
            co_await burst(200'000);
            co_await asyncio::sleep(1s);
            EXPECT_LE(pool_arena_bytes(), asyncio::detail::frame_pool_cache + 6 * MiB);
        };
        asyncio::testing::run(main());
    });
}

// A small program keeps a small pool: nothing is given back that will be needed at once.
TEST(FramePool, SmallRunsKeepTheirArena) {
    on_fresh_thread([] {
        asyncio::testing::run(burst(100));
        std::size_t after_first = pool_arena_bytes();
        EXPECT_GT(after_first, 0u);
        EXPECT_LE(after_first, 64u << 10);
        asyncio::testing::run(burst(100));
        EXPECT_EQ(pool_arena_bytes(), after_first);
    });
}
