// Stress test for asyncio/queues.hpp and asyncio/locks.hpp (docs/design/cancellation.md, "leaves nothing
// behind when cancelled"): 10,000 tasks contend on a Semaphore(10) and a Queue(100) while a
// third of them are cancelled at random points (seeded std::mt19937: the run is the same
// every time). A late wave of producers then fills the queue and is shut out by
// shutdown(). At the end every item is accounted for exactly once: consumed exactly once
// (by a consumer or by the final drain) if its producer's `co_await q.put(x)` returned,
// never seen otherwise; the semaphore is back at 10 and was never held by more than 10
// tasks at once.
#include <asyncio/queues.hpp>

#include "support/async_test.hpp"

#include <asyncio/locks.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <random>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Queue;
using asyncio::QueueShutDown;
using asyncio::Semaphore;
using asyncio_test::elapsed;

namespace {

// Task ids: [0, kProducers) produce from the start, [kProducers, kFirstLate) consume, and
// [kFirstLate, kTasks) are a late wave of producers started after the consumers are gone,
// so that the queue fills up and shutdown() finds putters blocked. A producer puts its id.
constexpr int kTasks = 10'000;
constexpr int kProducers = 5'850;
constexpr int kLate = 150;
constexpr int kFirstLate = kTasks - kLate;
constexpr long kPermits = 10;
constexpr long kQueueSize = 100;

// Where a task is, so that a cancellation can be classified when it lands.
// not_started: before the first step or in the start delay.
enum class Phase : unsigned char {
    not_started,
    acquiring,
    holding,
    putting,
    getting,
    done
};

struct Ledger {
    std::vector<char> put_returned = std::vector<char>(kTasks, 0);  // by item = producer id
    std::vector<int> consumed = std::vector<int>(kTasks, 0);
    std::vector<Phase> phase = std::vector<Phase>(kTasks, Phase::not_started);
    int holders = 0;
    int max_holders = 0;
    long holds = 0;
    int producers_shut_out = 0;  // put raised QueueShutDown: never put
    // Cancellations, by the phase they landed in (a cancel of a finished task is a no-op).
    int cancelled_in[6] = {};
};

// Takes a permit, holds it for `work`, gives it back (also when cancelled while holding).
Coro<void> hold_permit(Semaphore& sem, Ledger& ledger, int id, std::chrono::microseconds work) {
    ledger.phase[static_cast<std::size_t>(id)] = Phase::acquiring;
    co_await sem.acquire();
    ledger.phase[static_cast<std::size_t>(id)] = Phase::holding;
    ++ledger.holds;
    ledger.max_holders = std::max(ledger.max_holders, ++ledger.holders);
    std::exception_ptr error;
    try {
        co_await asyncio::sleep(work);
    } catch (...) {
        error = std::current_exception();
    }
    --ledger.holders;
    sem.release();
    if (error) std::rethrow_exception(error);
}

// Starts at `start`, does `work` under the semaphore, then puts its own id.
Coro<void> producer(Queue<int>& q, Semaphore& sem, Ledger& ledger, int id, std::chrono::microseconds start, std::chrono::microseconds work) {
    co_await asyncio::sleep(start);
    co_await hold_permit(sem, ledger, id, work);
    ledger.phase[static_cast<std::size_t>(id)] = Phase::putting;
    bool shut_out = false;
    try {
        co_await q.put(id);
        ledger.put_returned[static_cast<std::size_t>(id)] = 1;  // only once put() returned
    } catch (const QueueShutDown&) {
        shut_out = true;
    }
    if (shut_out) ++ledger.producers_shut_out;
    ledger.phase[static_cast<std::size_t>(id)] = Phase::done;
}

// Starts at `start`, then gets items and works on each under the semaphore until the
// queue is shut down and drained.
Coro<void> consumer(Queue<int>& q, Semaphore& sem, Ledger& ledger, int id, std::chrono::microseconds start, std::chrono::microseconds work) {
    co_await asyncio::sleep(start);
    for (;;) {
        ledger.phase[static_cast<std::size_t>(id)] = Phase::getting;
        bool shut_down = false;
        int item = -1;
        try {
            item = co_await q.get();
        } catch (const QueueShutDown&) {
            shut_down = true;
        }
        if (shut_down) break;
        ++ledger.consumed[static_cast<std::size_t>(item)];
        q.task_done();
        co_await hold_permit(sem, ledger, id, work);
    }
    ledger.phase[static_cast<std::size_t>(id)] = Phase::done;
}

}  // namespace

// docs/design/cancellation.md: no item lost, duplicated or invented, no permit leaked, under 10,000 tasks and
// random cancellations (see the top of the file).
ASYNCIO_TEST(QueueStress, TenThousandTasksWithRandomCancellations) {
    auto& loop = asyncio::get_running_loop();
    Queue<int> q(kQueueSize);
    Semaphore sem(kPermits);
    Ledger ledger;
    std::mt19937 rng(12345);
    auto micros = [&rng](int lo, int hi) { return std::chrono::microseconds(std::uniform_int_distribution<int>(lo, hi)(rng)); };

    // Producers start over the first 0.6 s, consumers over 0.4..1.2 s: the queue fills and
    // putters block first, then getters outnumber the items and block in their turn.
    std::vector<asyncio::AnyTask> tasks;
    tasks.reserve(kTasks);
    for (int id = 0; id < kFirstLate; ++id) {
        if (id < kProducers)
            tasks.push_back(asyncio::create_task(producer(q, sem, ledger, id, micros(0, 600'000), micros(0, 2'000))));
        else
            tasks.push_back(asyncio::create_task(consumer(q, sem, ledger, id, micros(400'000, 1'200'000), micros(0, 2'000))));
    }

    // Cancel a third of them at random times over the busy period: a tenth of those before
    // they ever run; another tenth aimed, when it fires, at a task that holds a permit (only
    // ten of thousands do at any time, which a blind pick would rarely hit).
    std::vector<int> ids(kFirstLate);
    for (int i = 0; i < kFirstLate; ++i) ids[static_cast<std::size_t>(i)] = i;
    std::shuffle(ids.begin(), ids.end(), rng);
    const int n_cancel = kTasks / 3;
    for (int k = 0; k < n_cancel; ++k) {
        int id = ids[static_cast<std::size_t>(k)];
        if (k % 10 == 1) {
            // The first task holding a permit at or after `id`, wrapping around.
            auto cancel_a_holder = [&tasks, &ledger, id] {
                for (int i = 0; i < kFirstLate; ++i) {
                    int j = (id + i) % kFirstLate;
                    if (ledger.phase[static_cast<std::size_t>(j)] != Phase::holding) continue;
                    if (tasks[static_cast<std::size_t>(j)].cancel()) ++ledger.cancelled_in[static_cast<int>(Phase::holding)];
                    return;
                }
            };
            loop.call_later(micros(0, 2'000'000), cancel_a_holder);
            continue;
        }
        auto victim = tasks[static_cast<std::size_t>(id)];
        auto cancel = [victim, id, &ledger] {
            if (victim.cancel()) ++ledger.cancelled_in[static_cast<int>(ledger.phase[static_cast<std::size_t>(id)])];
        };
        if (k % 10 == 0)
            loop.call_soon(cancel);
        else
            loop.call_later(micros(0, 2'000'000), cancel);
    }

    // Long after everything that could run has run, every consumer left waits in get():
    // cancel them, and start the late producers, which fill the queue and block.
    co_await asyncio::sleep(30s);
    int consumers_left = 0;
    for (int id = kProducers; id < kFirstLate; ++id) consumers_left += tasks[static_cast<std::size_t>(id)].cancel() ? 1 : 0;
    for (int id = kFirstLate; id < kTasks; ++id)
        tasks.push_back(asyncio::create_task(producer(q, sem, ledger, id, micros(0, 1'000), micros(0, 2'000))));
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(q.full());

    // Shut the queue down: the blocked putters give up (their items were never put).
    q.shutdown();
    auto [done, pending] = co_await asyncio::wait(tasks);
    EXPECT_EQ(done.size(), static_cast<std::size_t>(kTasks));
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(elapsed(), 31s);
    EXPECT_GT(consumers_left, 0);

    // What is left in the queue counts as consumed by this drain.
    int drained = 0;
    while (!q.empty()) {
        ++ledger.consumed[static_cast<std::size_t>(q.get_nowait())];
        ++drained;
    }

    int lost = 0;        // put, never consumed
    int duplicated = 0;  // consumed more than once
    int phantom = 0;     // consumed, never put
    int put_count = 0;
    for (int id = 0; id < kTasks; ++id) {
        bool put = ledger.put_returned[static_cast<std::size_t>(id)] != 0;
        int seen = ledger.consumed[static_cast<std::size_t>(id)];
        put_count += put ? 1 : 0;
        if (put && seen == 0) ++lost;
        if (seen > 1) ++duplicated;
        if (!put && seen > 0) ++phantom;
    }
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(phantom, 0);

    EXPECT_EQ(sem.value(), kPermits);
    EXPECT_FALSE(sem.locked());
    EXPECT_EQ(ledger.holders, 0);
    EXPECT_LE(ledger.max_holders, kPermits);
    EXPECT_EQ(ledger.max_holders, kPermits);  // the semaphore was contended
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(drained, static_cast<int>(kQueueSize));

    // The run exercised every path: cancellations landed before the first step, while
    // waiting for a permit, while holding one, while blocked in put() and in get().
    EXPECT_GT(ledger.cancelled_in[static_cast<int>(Phase::not_started)], 0);
    EXPECT_GT(ledger.cancelled_in[static_cast<int>(Phase::acquiring)], 0);
    EXPECT_GT(ledger.cancelled_in[static_cast<int>(Phase::holding)], 0);
    EXPECT_GT(ledger.cancelled_in[static_cast<int>(Phase::putting)], 0);
    EXPECT_GT(ledger.cancelled_in[static_cast<int>(Phase::getting)], 0);
    EXPECT_EQ(ledger.producers_shut_out, kLate - static_cast<int>(kQueueSize));
    EXPECT_GT(put_count, 0);
    std::printf("[ stress   ] put %d, shut out %d, drained at the end %d, permits held %ld times; "
                "cancelled: before or in the start delay %d, acquiring %d, holding %d, in put %d, in get %d, done %d\n",
                put_count, ledger.producers_shut_out, drained, ledger.holds, ledger.cancelled_in[0], ledger.cancelled_in[1],
                ledger.cancelled_in[2], ledger.cancelled_in[3], ledger.cancelled_in[4], ledger.cancelled_in[5]);
}
