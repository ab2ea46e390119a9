// Tests for the loop's timers (detail/timer_queue.hpp: the in-order run, the wheel, the batch
// and the soon heap): whatever the order, scale and timing of call_at / call_later / sleep and of
// their cancellations, timers fire in (deadline, scheduling order), each exactly once, at its
// exact virtual time, checked against a sorted model. Not in CPython (its heap has no parts
// to get wrong), but the order it checks is CPython's.
#include <asyncio/events.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/testing.hpp>

#include "support/async_test.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

using namespace std::chrono_literals;
using asyncio::EventLoop;

namespace {

using Duration = EventLoop::duration;

// A delay at a random scale: nanoseconds to days, so that timers land in the soon heap, in
// every level of the wheel, and in the run; a fifth are whole ticks (2^20 ns) or one
// nanosecond either side, the wheel's boundaries.
Duration random_delay(std::mt19937_64& rng) {
    static constexpr std::int64_t scales[] = {1000, 1'000'000, 50'000'000, 2'000'000'000, 300'000'000'000, 86'400'000'000'000};
    std::int64_t scale = scales[rng() % std::size(scales)];
    auto ns = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(scale)) + 1;
    if (rng() % 5 == 0) ns = std::max<std::int64_t>(1, ((ns >> 20) << 20) + static_cast<std::int64_t>(rng() % 3) - 1);
    return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ns));
}

struct Timer {
    EventLoop::time_point when;
    std::uint64_t order;  // the scheduling order: ties fire in it
    asyncio::TimerHandle handle;
    bool cancelled = false;
    bool fired = false;
    EventLoop::time_point fired_at{};
};

// The model: a soak of `initial` timers and what their callbacks add and cancel, on a loop
// whose clock starts at `start`. Returns the number of timers that fired.
std::size_t soak(std::uint64_t seed, int initial, EventLoop::time_point start) {
    auto loop = asyncio::testing::new_event_loop();
    std::mt19937_64 rng(seed);
    std::vector<std::unique_ptr<Timer>> timers;  // stable addresses: callbacks hold them
    std::vector<const Timer*> fired;
    std::uint64_t next_order = 0;
    std::size_t budget = 20'000;  // timers added by callbacks, at most

    // Schedules a timer at `when` (strictly after the loop's time once running: then the
    // global firing order is the sorted order of every timer that was not cancelled).
    std::function<void(EventLoop::time_point)> schedule;
    schedule = [&](EventLoop::time_point when) {
        auto t = std::make_unique<Timer>();
        Timer* raw = t.get();
        raw->when = when;
        raw->order = next_order++;
        raw->handle = loop->call_at(when, [&, raw] {
            raw->fired = true;
            raw->fired_at = loop->time();
            fired.push_back(raw);
            // Now and then: more timers (some tied with a pending one), and a cancellation.
            int more = static_cast<int>(rng() % 3);
            for (int i = 0; i < more && budget > 0; ++i, --budget) {
                EventLoop::time_point at = loop->time() + random_delay(rng);
                if (rng() % 8 == 0) {
                    const Timer& other = *timers[rng() % timers.size()];
                    if (!other.fired && !other.cancelled && other.when > loop->time()) at = other.when;
                }
                schedule(at);
            }
            if (rng() % 3 == 0) {
                Timer& victim = *timers[rng() % timers.size()];
                if (!victim.fired && !victim.cancelled && victim.when > loop->time()) {
                    victim.handle.cancel();
                    victim.cancelled = true;
                }
            }
        });
        timers.push_back(std::move(t));
    };

    if (start > loop->time()) {  // the clock to `start` first
        loop->call_at(start, [&] { loop->stop(); });
        loop->run_forever();
    }
    // Before the loop runs: runs in order (a constant delay, ties), and the rest at random.
    EventLoop::time_point rising = loop->time();
    for (int i = 0; i < initial; ++i) {
        switch (rng() % 4) {
            case 0:
                rising += std::chrono::microseconds(rng() % 3);
                schedule(rising);
                break;
            case 1:  // a constant timeout from a clock that barely moves
                schedule(loop->time() + 30s + std::chrono::nanoseconds(i));
                break;
            default:
                schedule(loop->time() + random_delay(rng));
        }
    }
    // A third of the first ones cancelled before anything runs.
    for (std::size_t i = 0; i < timers.size(); i += 3) {
        if (rng() % 2 == 0) {
            timers[i]->handle.cancel();
            timers[i]->cancelled = true;
        }
    }
    loop->call_at(loop->time() + std::chrono::hours(24 * 400), [&] { loop->stop(); });
    loop->run_forever();

    std::vector<const Timer*> expected;
    for (const auto& t : timers)
        if (!t->cancelled) expected.push_back(t.get());
    std::sort(expected.begin(), expected.end(), [](const Timer* a, const Timer* b) {
        return a->when < b->when || (a->when == b->when && a->order < b->order);
    });
    EXPECT_EQ(fired.size(), expected.size()) << "seed " << seed;
    std::size_t n = std::min(fired.size(), expected.size());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (fired[i] != expected[i] || fired[i]->fired_at != fired[i]->when) {
            if (wrong++ == 0)
                ADD_FAILURE() << "seed " << seed << ": at " << i << " fired timer #" << fired[i]->order << " (due "
                              << fired[i]->when.time_since_epoch().count() << " ns, fired at "
                              << fired[i]->fired_at.time_since_epoch().count() << " ns), expected #"
                              << expected[i]->order << " (due " << expected[i]->when.time_since_epoch().count()
                              << " ns)";
        }
    }
    EXPECT_EQ(wrong, 0u) << "seed " << seed;
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    loop->close();
    return fired.size();
}

}  // namespace

TEST(Timers, FireInOrderAtEveryScaleWhateverTheOrderOfScheduling) {
    std::size_t total = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) total += soak(seed, 3000, EventLoop::time_point{});
    EXPECT_GT(total, 10'000u);  // the soak did soak
}

// The same with the clock started far from zero (a steady clock's time since boot), so that
// the wheel's higher digits are not all zero.
TEST(Timers, FireInOrderFromALateStart) {
    std::size_t total = 0;
    for (std::uint64_t seed = 11; seed <= 13; ++seed)
        total += soak(seed, 3000, EventLoop::time_point{} + std::chrono::hours(24 * 17) + 123'456'789ns);
    EXPECT_GT(total, 5'000u);
}

// A deadline before the clock's epoch (call_later(-1 s) on a loop at virtual time 0, or a
// call_at far in the past) is due at once, behind what is due already, in deadline order.
TEST(Timers, PastAndNegativeDeadlinesAmongOutOfOrderOnes) {
    auto loop = asyncio::testing::new_event_loop();
    std::vector<int> order;
    loop->call_later(5s, [&] { order.push_back(5); });
    loop->call_later(3s, [&] { order.push_back(3); });  // out of order: the wheel
    loop->call_at(EventLoop::time_point{} - 2s, [&] { order.push_back(-2); });
    loop->call_at(EventLoop::time_point{} - 1h, [&] { order.push_back(-3600); });
    loop->call_later(4s, [&] { order.push_back(4); });
    loop->call_later(5s, [&] { order.push_back(6); });  // tied with the first: after it
    loop->call_later(6s, [&] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(order, (std::vector<int>{-3600, -2, 3, 4, 5, 6}));
    EXPECT_EQ(loop->time() - EventLoop::time_point{}, 6s);
}

// A sleep and a timeout far in the future and many near ones out of order: the virtual clock
// jumps to each deadline exactly, not to the start of a wheel slot.
namespace {

asyncio::Coro<void> sleeper(Duration d, std::vector<Duration>& woke) {
    co_await asyncio::sleep(d);
    woke.push_back(asyncio::get_running_loop().time() - EventLoop::time_point{});
}

asyncio::Coro<void> far_and_near_sleepers() {
    std::vector<Duration> woke;
    std::vector<asyncio::Task<void>> tasks;
    tasks.push_back(asyncio::create_task(sleeper(std::chrono::hours(10), woke)));
    const Duration near[] = {7'777'777ns, 1'048'577ns, 3s + 1ns, 1'048'575ns, 65s, 2'000'000'000ns};
    for (Duration d : near) tasks.push_back(asyncio::create_task(sleeper(d, woke)));
    for (auto& t : tasks) co_await t;
    std::vector<Duration> expected(std::begin(near), std::end(near));
    expected.push_back(std::chrono::hours(10));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(woke, expected);
    EXPECT_EQ(asyncio::get_running_loop().time() - EventLoop::time_point{}, std::chrono::hours(10));
}

}  // namespace

TEST(Timers, TheVirtualClockJumpsToTheExactDeadline) { asyncio::testing::run(far_and_near_sleepers()); }
