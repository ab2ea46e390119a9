// Tests for asyncio/locks.hpp's Barrier and BrokenBarrierError. A port of CPython's
// Lib/test/test_asyncio/test_locks.py (3.13) BarrierTests.
//
// Skipped from test_locks.py:
//   BarrierTests.test_repr                                no repr() in C++.
//   BarrierTests.test_draining_state                      reads the state out of repr(); the
//                                                         C++ Barrier has no state accessor.
//   BarrierTests.test_barrier                             repr() and `await barrier`.
//
// Adapted on purpose:
//   - Barrier has no guard (CPython's `async with barrier as i`): wait().
//
// The helpers name a co_await's result before testing it: the kIfCoAwait note in
// support/scenario.hpp.
#include <asyncio/locks.hpp>

#include "support/async_test.hpp"
#include "support/scenario.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Barrier;
using asyncio::BrokenBarrierError;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Task;
using asyncio::testing::run_until_idle;
using asyncio_test::elapsed;
using asyncio_test::value_error_of;

// ---------------------------------------------------------------------------------------
// Barrier (test_locks: BarrierTests, with N = 5 unless the test sets it)

namespace {

constexpr std::size_t kParties = 5;

Coro<std::size_t> barrier_wait(Barrier& barrier) { co_return co_await barrier.wait(); }

}  // namespace

// test_locks: BarrierTests.test_barrier_parties (-4 is an error, not 2**64 - 4 parties)
ASYNCIO_TEST(Barrier, PartiesMustBePositive) {
    EXPECT_EQ(value_error_of([] { Barrier b(0); }), "parties must be > 0");
    EXPECT_EQ(value_error_of([] { Barrier b(-4); }), "parties must be > 0");
    EXPECT_EQ(value_error_of([] { Barrier b(-1); }), "parties must be > 0");
    Barrier one(1);
    EXPECT_EQ(one.parties(), 1u);
    Barrier b(kParties);
    EXPECT_EQ(b.parties(), kParties);
    co_return;
}

namespace {

Coro<void> wait_and_record(Barrier& barrier, std::vector<std::size_t>& results) {
    std::size_t i = co_await barrier.wait();
    results.push_back(i);
}

}  // namespace

// test_locks: BarrierTests.test_context_manager (`async with barrier as i` is wait())
ASYNCIO_TEST(Barrier, WaitReturnsTheArrivalIndex) {
    Barrier barrier(3);
    std::vector<std::size_t> results;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(wait_and_record(barrier, results)));
    co_await asyncio::gather(tasks);
    std::sort(results.begin(), results.end());
    EXPECT_EQ(results, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_locks: BarrierTests.test_filling_one_task
ASYNCIO_TEST(Barrier, FillingOneTask) {
    Barrier barrier(1);
    EXPECT_EQ(co_await barrier.wait(), 0u);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(elapsed(), 0s);
}

// test_locks: BarrierTests.test_filling_one_task_twice
ASYNCIO_TEST(Barrier, FillingOneTaskTwice) {
    Barrier barrier(1);
    auto t1 = asyncio::create_task(barrier_wait(barrier));
    co_await run_until_idle();
    EXPECT_EQ(barrier.n_waiting(), 0u);
    auto t2 = asyncio::create_task(barrier_wait(barrier));
    co_await run_until_idle();
    EXPECT_EQ(t1.result(), t2.result());
    EXPECT_EQ(t1.done(), t2.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_locks: BarrierTests.test_filling_task_by_task
ASYNCIO_TEST(Barrier, FillingTaskByTask) {
    Barrier barrier(3);
    auto t1 = asyncio::create_task(barrier_wait(barrier));
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 1u);
    auto t2 = asyncio::create_task(barrier_wait(barrier));
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 2u);
    auto t3 = asyncio::create_task(barrier_wait(barrier));
    co_await asyncio::sleep(0);
    std::vector<Task<std::size_t>> all{t1, t2, t3};  // named: g++ 12 and co_await f({...})
    co_await asyncio::wait(all);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<void> wait_twice(Barrier& barrier, std::vector<bool>& results) {
    co_await barrier.wait();
    results.push_back(true);
    co_await barrier.wait();
    results.push_back(false);
}

}  // namespace

// test_locks: BarrierTests.test_filling_tasks_wait_twice
ASYNCIO_TEST(Barrier, FillingTasksWaitTwice) {
    Barrier barrier(kParties);
    std::vector<bool> results;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(wait_twice(barrier, results)));
    co_await asyncio::gather(tasks);
    EXPECT_EQ(results.size(), kParties * 2);
    EXPECT_EQ(std::count(results.begin(), results.end(), true), static_cast<long>(kParties));
    // Nobody passes the second wait before everyone passed the first.
    EXPECT_TRUE(std::all_of(results.begin(), results.begin() + kParties, [](bool b) { return b; }));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<std::size_t> wait_twice_return(Barrier& barrier, int& results1, int& results2) {
    co_await barrier.wait();
    ++results1;
    std::size_t i = co_await barrier.wait();
    ++results2;
    co_return i;
}

}  // namespace

// test_locks: BarrierTests.test_filling_tasks_check_return_value
ASYNCIO_TEST(Barrier, FillingTasksCheckReturnValue) {
    Barrier barrier(kParties);
    int results1 = 0;
    int results2 = 0;
    std::vector<Task<std::size_t>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(wait_twice_return(barrier, results1, results2)));
    auto res = co_await asyncio::gather(tasks);
    EXPECT_EQ(results1, static_cast<int>(kParties));
    EXPECT_EQ(results2, static_cast<int>(kParties));
    std::sort(res.begin(), res.end());
    std::vector<std::size_t> expected(kParties);
    std::iota(expected.begin(), expected.end(), std::size_t{0});
    EXPECT_EQ(res, expected);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<void> blocking_while_draining(Barrier& barrier, Barrier& barrier_nowaiting, int& rewait_n) {
    co_await barrier.wait();  // first time waiting
    if (rewait_n > 0) {
        --rewait_n;
        co_await barrier.wait();  // wait again only for rewait tasks
    } else {
        co_await barrier_nowaiting.wait();  // wait for the end of the draining state
        co_await barrier.wait();            // wait for the other waiting tasks
    }
}

}  // namespace

// test_locks: BarrierTests.test_blocking_tasks_while_draining
ASYNCIO_TEST(Barrier, BlockingTasksWhileDraining) {
    const int rewait = 2;
    Barrier barrier(kParties);
    Barrier barrier_nowaiting(kParties - rewait);
    int rewait_n = rewait;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(blocking_while_draining(barrier, barrier_nowaiting, rewait_n)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));  // a deadlock would time out
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

namespace {

Coro<void> wait_then_record(Barrier& barrier, std::vector<bool>& results) {
    co_await barrier.wait();
    results.push_back(true);
}

}  // namespace

// test_locks: BarrierTests.test_filling_tasks_cancel_one
ASYNCIO_TEST(Barrier, FillingTasksCancelOne) {
    Barrier barrier(3);
    std::vector<bool> results;
    auto t1 = asyncio::create_task(wait_then_record(barrier, results));
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 1u);
    auto t2 = asyncio::create_task(wait_then_record(barrier, results));
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 2u);

    t1.cancel();
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 1u);
    EXPECT_THROW(co_await t1, CancelledError);
    EXPECT_TRUE(t1.cancelled());

    auto t3 = asyncio::create_task(wait_then_record(barrier, results));
    co_await asyncio::sleep(0);
    EXPECT_EQ(barrier.n_waiting(), 2u);
    auto t4 = asyncio::create_task(wait_then_record(barrier, results));
    co_await asyncio::gather(t2, t3, t4);
    EXPECT_EQ(results.size(), 3u);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

// test_locks: BarrierTests.test_reset_barrier
ASYNCIO_TEST(Barrier, ResetBarrier) {
    Barrier barrier(1);
    auto t = asyncio::create_task(barrier.reset());
    co_await run_until_idle();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<void> wait_catch_broken(Barrier& barrier, std::vector<bool>& results) {
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        results.push_back(true);
    }
}

}  // namespace

// test_locks: BarrierTests.test_reset_barrier_while_tasks_waiting
ASYNCIO_TEST(Barrier, ResetBarrierWhileTasksWaiting) {
    Barrier barrier(kParties);
    std::vector<bool> results;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i + 1 < kParties; ++i) tasks.push_back(asyncio::create_task(wait_catch_broken(barrier, results)));
    co_await run_until_idle();
    auto reset = asyncio::create_task(barrier.reset());
    co_await asyncio::gather(tasks);
    co_await reset;
    EXPECT_EQ(results.size(), kParties - 1);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

// CPython compares barrier._count (the tasks still inside) with rest_of_tasks; the tasks
// leave one at a time, so "the k-th to leave sees N - k inside".
Coro<void> half_draining(Barrier& barrier, std::size_t rest_of_tasks, std::size_t& left, std::vector<bool>& results1) {
    bool broken = false;
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        broken = true;  // the waiting tasks get here
    }
    if (broken) {
        results1.push_back(true);
        co_return;
    }
    ++left;
    if (barrier.parties() - left == rest_of_tasks) co_await barrier.reset();
}

}  // namespace

// test_locks: BarrierTests.test_reset_barrier_when_tasks_half_draining
ASYNCIO_TEST(Barrier, ResetBarrierWhenTasksHalfDraining) {
    Barrier barrier(kParties);
    std::vector<bool> results1;
    const std::size_t rest_of_tasks = kParties / 2;
    std::size_t left = 0;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(half_draining(barrier, rest_of_tasks, left, results1)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_EQ(results1, std::vector<bool>(rest_of_tasks, true));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<void> half_draining_half_blocking(Barrier& barrier, std::size_t blocking_tasks, std::size_t& count, std::vector<bool>& results1,
                                       std::vector<bool>& results2) {
    bool broken = false;
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        broken = true;
    }
    if (broken) {
        results1.push_back(true);  // the tasks still waiting
        co_await barrier.wait();   // wait again to reach the parties
        co_return;
    }
    ++count;
    if (count > blocking_tasks) {
        co_await barrier.reset();  // BrokenBarrierError for the waiting tasks
        co_await barrier.wait();
    } else {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            results2.push_back(true);  // never: blocked tasks go on waiting
        }
    }
}

}  // namespace

// test_locks: BarrierTests.test_reset_barrier_when_tasks_half_draining_half_blocking
ASYNCIO_TEST(Barrier, ResetBarrierWhenTasksHalfDrainingHalfBlocking) {
    Barrier barrier(kParties);
    std::vector<bool> results1;
    std::vector<bool> results2;
    const std::size_t blocking_tasks = kParties / 2;
    std::size_t count = 0;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i)
        tasks.push_back(asyncio::create_task(half_draining_half_blocking(barrier, blocking_tasks, count, results1, results2)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_EQ(results1, std::vector<bool>(blocking_tasks, true));
    EXPECT_EQ(results2, std::vector<bool>{});
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {

Coro<void> waiting_and_waiting_again(Barrier& barrier, std::vector<bool>& results1, std::vector<bool>& results2) {
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        results1.push_back(true);
    }
    co_await barrier.wait();  // CPython: in `finally`
    results2.push_back(true);
}

Coro<void> wait_then_record2(Barrier& barrier, std::vector<bool>& results2) {
    co_await barrier.wait();
    results2.push_back(true);
}

}  // namespace

// test_locks: BarrierTests.test_reset_barrier_while_tasks_waiting_and_waiting_again
ASYNCIO_TEST(Barrier, ResetBarrierWhileTasksWaitingAndWaitingAgain) {
    Barrier barrier(kParties);
    std::vector<bool> results1;
    std::vector<bool> results2;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i + 1 < kParties; ++i) tasks.push_back(asyncio::create_task(waiting_and_waiting_again(barrier, results1, results2)));
    auto reset = asyncio::create_task(barrier.reset());
    co_await asyncio::sleep(0);
    auto last = asyncio::create_task(wait_then_record2(barrier, results2));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    co_await reset;
    co_await last;
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(results1, std::vector<bool>(kParties - 1, true));
    EXPECT_EQ(results2, std::vector<bool>(kParties, true));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

namespace {

Coro<void> reset_while_draining(Barrier& barrier, std::size_t& count, int& results1, int& results2, int& results3) {
    co_await barrier.wait();
    ++count;
    if (count == barrier.parties()) {
        co_await barrier.reset();  // the last task out resets
        co_await barrier.wait();   // and waits to reach the parties
    } else {
        try {
            co_await barrier.wait();  // second wait
            ++results1;
        } catch (const std::exception&) {
            ++results2;  // never
        }
    }
    co_await barrier.wait();  // the last wait must complete
    ++results3;
}

}  // namespace

// test_locks: BarrierTests.test_reset_barrier_while_tasks_draining
ASYNCIO_TEST(Barrier, ResetBarrierWhileTasksDraining) {
    Barrier barrier(kParties);
    std::size_t count = 0;
    int results1 = 0;
    int results2 = 0;
    int results3 = 0;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(reset_while_draining(barrier, count, results1, results2, results3)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(results1, static_cast<int>(kParties) - 1);
    EXPECT_EQ(results2, 0);
    EXPECT_EQ(results3, static_cast<int>(kParties));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

// test_locks: BarrierTests.test_abort_barrier
ASYNCIO_TEST(Barrier, AbortBarrier) {
    Barrier barrier(1);
    auto t = asyncio::create_task(barrier.abort());
    co_await run_until_idle();
    EXPECT_TRUE(t.done());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_TRUE(barrier.broken());
    EXPECT_THROW(co_await barrier.wait(), BrokenBarrierError);
}

namespace {

Coro<void> abort_half_draining_half_blocking(Barrier& barrier, std::size_t blocking_tasks, std::size_t& count, std::vector<bool>& results1,
                                             std::vector<bool>& results2) {
    bool broken = false;
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        broken = true;
    }
    if (broken) {
        results1.push_back(true);  // the tasks waiting to drain
        co_return;
    }
    ++count;
    if (count > blocking_tasks) {
        co_await barrier.abort();  // BrokenBarrierError for all tasks
    } else {
        try {
            co_await barrier.wait();
        } catch (const BrokenBarrierError&) {
            results2.push_back(true);  // the blocked tasks (already drained)
        }
    }
}

}  // namespace

// test_locks: BarrierTests.test_abort_barrier_when_tasks_half_draining_half_blocking
ASYNCIO_TEST(Barrier, AbortBarrierWhenTasksHalfDrainingHalfBlocking) {
    Barrier barrier(kParties);
    std::vector<bool> results1;
    std::vector<bool> results2;
    const std::size_t blocking_tasks = kParties / 2;
    std::size_t count = 0;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i)
        tasks.push_back(asyncio::create_task(abort_half_draining_half_blocking(barrier, blocking_tasks, count, results1, results2)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(results1, std::vector<bool>(blocking_tasks, true));
    EXPECT_EQ(results2, std::vector<bool>(kParties - blocking_tasks - 1, true));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

namespace {

Coro<void> abort_when_exception(Barrier& barrier, std::vector<bool>& results1, std::vector<bool>& results2) {
    bool must_abort = false;
    try {
        std::size_t i = co_await barrier.wait();
        if (i == barrier.parties() / 2) throw std::runtime_error("boom");
        co_await barrier.wait();
        results1.push_back(true);
    } catch (const BrokenBarrierError&) {
        results2.push_back(true);
    } catch (const std::runtime_error&) {
        must_abort = true;  // CPython awaits abort() in the handler
    }
    if (must_abort) co_await barrier.abort();
}

}  // namespace

// test_locks: BarrierTests.test_abort_barrier_when_exception
ASYNCIO_TEST(Barrier, AbortBarrierWhenException) {
    Barrier barrier(kParties);
    std::vector<bool> results1;
    std::vector<bool> results2;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(abort_when_exception(barrier, results1, results2)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(results1.size(), 0u);
    EXPECT_EQ(results2, std::vector<bool>(kParties - 1, true));
    EXPECT_EQ(barrier.n_waiting(), 0u);
}

namespace {

Coro<void> abort_then_reset(Barrier& barrier1, Barrier& barrier2, int& results1, int& results2, int& results3) {
    bool must_abort = false;
    try {
        std::size_t i = co_await barrier1.wait();
        if (i == barrier1.parties() / 2) throw std::runtime_error("boom");
        co_await barrier1.wait();
        ++results1;
    } catch (const BrokenBarrierError&) {
        ++results2;
    } catch (const std::runtime_error&) {
        must_abort = true;
    }
    if (must_abort) co_await barrier1.abort();

    // Synchronize and reset the barrier: everyone has left it when it is reset, and
    // nobody enters it before.
    std::size_t i = co_await barrier2.wait();
    if (i == barrier2.parties() / 2) co_await barrier1.reset();
    co_await barrier2.wait();
    co_await barrier1.wait();
    ++results3;
}

}  // namespace

// test_locks: BarrierTests.test_abort_barrier_when_exception_then_resetting
ASYNCIO_TEST(Barrier, AbortBarrierWhenExceptionThenResetting) {
    Barrier barrier1(kParties);
    Barrier barrier2(kParties);
    int results1 = 0;
    int results2 = 0;
    int results3 = 0;
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < kParties; ++i) tasks.push_back(asyncio::create_task(abort_then_reset(barrier1, barrier2, results1, results2, results3)));
    co_await asyncio::timeout(1h, asyncio::gather(tasks));
    EXPECT_FALSE(barrier1.broken());
    EXPECT_EQ(results1, 0);
    EXPECT_EQ(results2, static_cast<int>(kParties) - 1);
    EXPECT_EQ(results3, static_cast<int>(kParties));
    EXPECT_EQ(barrier1.n_waiting(), 0u);
}
