// Out of memory: every public operation, run with its 1st, 2nd, 3rd... allocation failing
// (Seastar's with_allocation_failures), either completes with the right result or throws
// std::bad_alloc to its caller; and whatever it throws, the loop, its timers, task groups,
// queues and locks are intact and usable afterwards: a normal workload run right after on
// the same loop gives its exact result, at its exact virtual times.
//
// The failing allocator (support/failing_allocator.hpp) replaces the global operator new
// and fails the frame pool's refills too, so this is a test executable of its own. Each
// sweep goes N = 1, 2, ... until the operation runs with no failure injected (bounded by
// kMaxN, so a sweep that never ends is a failure, not a hang).
#include <asyncio/locks.hpp>
#include <asyncio/queues.hpp>
#include <asyncio/taskgroups.hpp>
#include <asyncio/timeouts.hpp>

#include "support/async_test.hpp"
#include "support/failing_allocator.hpp"
#include "support/scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio_test::elapsed;
using asyncio_test::FailingAllocator;
using asyncio_test::Ints;
using asyncio_test::value_after;

namespace {

constexpr std::size_t kMaxN = 2000;

// What one run under failure did.
struct Attempt {
    bool injected = false;   // an allocation was failed
    bool completed = false;  // the operation returned (and checked its own result)
    bool threw = false;      // it threw std::bad_alloc to its caller
};

// Runs `make_op()` (a callable returning the operation's Coro: creating it allocates its
// frame, so it is created with the failure armed) with the `n`th allocation failing.
template <class F>
Coro<Attempt> with_failure_at(std::size_t n, F make_op) {
    Attempt a;
    FailingAllocator::arm(n);
    try {
        co_await make_op();
        a.completed = true;
    } catch (const std::bad_alloc&) {
        a.threw = true;
    }
    a.injected = FailingAllocator::disarm();
    co_return a;
}

// Drives `attempt(n)` (a Coro<Attempt> on a fresh virtual-clock loop) for n = 1, 2, ...
// until a run fails nothing; each run must complete or throw std::bad_alloc, and nothing
// may escape the loop. Returns the number of allocations the operation makes.
template <class F>
std::size_t sweep(F attempt) {
    for (std::size_t n = 1; n <= kMaxN; ++n) {
        Attempt a;
        try {
            a = asyncio::testing::run(attempt(n));
        } catch (const std::exception& e) {
            ADD_FAILURE() << "allocation " << n << " failed: run() threw " << e.what();
            return n;
        }
        EXPECT_TRUE(a.completed || a.threw) << "allocation " << n;
        if (!a.injected) {
            EXPECT_TRUE(a.completed) << "no failure injected at " << n;
            EXPECT_FALSE(a.threw);
            return n - 1;
        }
    }
    ADD_FAILURE() << "the operation still allocates after " << kMaxN << " allocations";
    return kMaxN;
}

// No task an operation starts outlives it when the operation throws (a gather or a task
// group that runs out of memory while starting its children, a create_task that cannot
// name its task): a child may point into the caller's frame, which is gone once the error
// propagates. The children count themselves here.
struct ChildWatch {
    bool returned = false;  // the operation has returned or thrown
    int started_after = 0;  // children whose body started after that
    int running = 0;        // children whose body is running now
};

struct Running {
    explicit Running(int& n) : n_(n) { ++n_; }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    ~Running() { --n_; }
    int& n_;
};

Coro<int> watched_child(ChildWatch& w, int v) {
    if (w.returned) ++w.started_after;
    Running running(w.running);
    co_await asyncio::sleep(1ms);
    co_return v;
}

// ---------------------------------------------------------------------------------------
// The workload run after every failure, with nothing failing: timers out of order (the run
// and the heap), tasks, a task group, gather, a queue, a lock, an event, a semaphore.

Coro<void> sleep_record(std::chrono::milliseconds d, int tag, Ints& order) {
    co_await asyncio::sleep(d);
    order.push_back(tag);
}

Coro<int> produce(asyncio::Queue<int>& q, int n) {
    for (int i = 1; i <= n; ++i) co_await q.put(i);
    co_return n;
}

Coro<int> consume(asyncio::Queue<int>& q, int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await q.get();
    co_return sum;
}

Coro<int> locked_increment(asyncio::Lock& lock, int& counter) {
    auto guard = co_await lock.scoped();
    int seen = counter;
    co_await asyncio::sleep(1ms);
    counter = seen + 1;
    co_return seen;
}

Coro<void> workload() {
    auto start = asyncio::get_running_loop().time();
    Ints order;
    std::vector<Task<void>> timers;
    for (int d : {5, 1, 4, 2, 3}) timers.push_back(asyncio::create_task(sleep_record(std::chrono::milliseconds(d), d, order)));

    asyncio::Queue<int> q(2);
    asyncio::Lock lock;
    int counter = 0;
    auto [produced, consumed, a, b] = co_await asyncio::gather(produce(q, 40), consume(q, 40), locked_increment(lock, counter), locked_increment(lock, counter));
    EXPECT_EQ(produced, 40);
    EXPECT_EQ(consumed, 40 * 41 / 2);
    EXPECT_EQ(a + b, 1);  // one saw 0, the other 1
    EXPECT_EQ(counter, 2);

    int total = co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<int> {
        auto x = tg.create_task(value_after(1ms, 10));
        auto y = tg.create_task(value_after(2ms, 20));
        co_await asyncio::sleep(3ms);
        co_return x.result() + y.result();
    });
    EXPECT_EQ(total, 30);

    for (auto& t : timers) co_await t;
    EXPECT_EQ(order, (Ints{1, 2, 3, 4, 5}));

    bool timed_out = false;
    try {
        co_await asyncio::timeout(1ms, asyncio::sleep(10ms));
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(elapsed(start), 6ms);  // 2 ms of locked increments, then 3 in the group, then 1
}

// ---------------------------------------------------------------------------------------
// create_task

Coro<int> add(int a, int b) { co_return a + b; }

Coro<std::string> long_string() { co_return std::string(100, 'x'); }  // not inside the task

Coro<void> op_create_task(ChildWatch& w) {
    try {
        auto t = asyncio::create_task(add(2, 3));
        auto named = asyncio::create_task(long_string(), "a task with a long name, not short");
        auto watched = asyncio::create_task(watched_child(w, 4), "another long name, for the extras");
        int v = co_await t;
        std::string s = co_await named;
        int u = co_await watched;
        EXPECT_EQ(v, 5);
        EXPECT_EQ(u, 4);
        EXPECT_EQ(s, std::string(100, 'x'));
        EXPECT_EQ(named.get_name(), "a task with a long name, not short");
    } catch (...) {
        w.returned = true;
        throw;
    }
    w.returned = true;
}

}  // namespace

// Lets what an interrupted operation left running (its tasks sleep a few ms) finish.
Coro<void> settle() { co_await asyncio::sleep(1s); }

// An ExceptionGroup of a TaskGroup whose child ran out of memory is how the group reports
// std::bad_alloc (CPython: ExceptionGroup([MemoryError()])): the operation's caller sees
// std::bad_alloc through it.
void rethrow_out_of_memory(const asyncio::ExceptionGroup& eg) {
    if (eg.subgroup<std::bad_alloc>()) throw std::bad_alloc();
}

TEST(OutOfMemory, CreateTask) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        ChildWatch w;
        Attempt a = co_await with_failure_at(n, [&w] { return op_create_task(w); });
        co_await settle();
        EXPECT_EQ(w.started_after, 0) << "allocation " << n;
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// sleep, call_soon, call_later: the timer run and the timer heap

namespace {

// What the tasks and callbacks an operation starts write to lives in the attempt's frame,
// not the operation's: when the operation throws, they may still run.
struct SleepState {
    Ints order;
    bool soon = false;
    bool later = false;
    bool cancelled_fired = false;
};

Coro<void> op_sleep(SleepState& st) {
    auto& loop = asyncio::get_running_loop();
    auto start = loop.time();
    co_await asyncio::sleep(0);
    Ints& order = st.order;
    // Deadlines out of order: 3 goes to the run, 1 (earlier) into the heap, 2 too.
    auto t3 = asyncio::create_task(sleep_record(3ms, 3, order));
    auto t1 = asyncio::create_task(sleep_record(1ms, 1, order));
    auto t2 = asyncio::create_task(sleep_record(2ms, 2, order));
    bool& soon = st.soon;
    bool& later = st.later;
    bool& cancelled_fired = st.cancelled_fired;
    auto h = loop.call_soon([&soon] { soon = true; });
    auto th = loop.call_later(2500us, [&later] { later = true; });
    auto dropped = loop.call_later(1500us, [&cancelled_fired] { cancelled_fired = true; });
    dropped.cancel();
    int v = co_await asyncio::sleep(4ms, 42);
    co_await t1;
    co_await t2;
    co_await t3;
    EXPECT_EQ(v, 42);
    EXPECT_EQ(order, (Ints{1, 2, 3}));
    EXPECT_TRUE(soon && later);
    EXPECT_FALSE(cancelled_fired);
    EXPECT_EQ(loop.time() - start, 4ms);
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 0u);
    (void)h;
    (void)th;
}

}  // namespace

TEST(OutOfMemory, SleepAndTimers) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        SleepState st;
        Attempt a = co_await with_failure_at(n, [&st] { return op_sleep(st); });
        co_await settle();
        EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
        co_await workload();
        EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// timeout, wait_for

namespace {

Coro<void> op_timeout() {
    bool timed_out = false;
    try {
        co_await asyncio::timeout(1ms, asyncio::sleep(10ms));
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    int v = co_await asyncio::timeout(10ms, value_after(1ms, 5));
    EXPECT_EQ(v, 5);
    bool wait_for_timed_out = false;
    try {
        co_await asyncio::wait_for(value_after(5ms, 1), 1ms);
    } catch (const asyncio::TimeoutError&) {
        wait_for_timed_out = true;
    }
    EXPECT_TRUE(wait_for_timed_out);
    auto t = asyncio::create_task(value_after(1ms, 7));
    int w = co_await asyncio::wait_for(t, 5ms);
    EXPECT_EQ(w, 7);
}

}  // namespace

TEST(OutOfMemory, TimeoutAndWaitFor) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        Attempt a = co_await with_failure_at(n, [] { return op_timeout(); });
        co_await settle();
        EXPECT_EQ(asyncio::testing::scheduled_timers(asyncio::get_running_loop()), 0u);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// gather

namespace {

Coro<int> fail_after(std::chrono::milliseconds d) {
    co_await asyncio::sleep(d);
    throw std::runtime_error("child failed");
}

Coro<void> op_gather() {
    auto task = asyncio::create_task(value_after(2ms, 3));
    auto [x, y, z] = co_await asyncio::gather(add(1, 0), value_after(1ms, 2), task);
    EXPECT_EQ(x + y + z, 6);
    auto [ok, bad] = co_await asyncio::gather(asyncio::return_exceptions, value_after(1ms, 4), fail_after(1ms));
    EXPECT_EQ(ok.value(), 4);  // rethrows a std::bad_alloc held there
    bool failed = false;
    try {
        (void)bad.value();
    } catch (const std::runtime_error& e) {
        failed = std::string(e.what()) == "child failed";
    }
    EXPECT_TRUE(failed);
    bool raised = false;
    try {
        co_await asyncio::gather(value_after(5ms, 1), fail_after(1ms));
    } catch (const std::runtime_error& e) {
        raised = std::string(e.what()) == "child failed";
    }
    EXPECT_TRUE(raised);
}

Coro<void> op_gather_children(ChildWatch& w) {
    try {
        auto [a, b, c] = co_await asyncio::gather(watched_child(w, 1), watched_child(w, 2), watched_child(w, 3));
        EXPECT_EQ(a + b + c, 6);
        std::vector<Coro<int>> many;
        many.reserve(3);
        for (int i = 0; i < 3; ++i) many.push_back(watched_child(w, i));
        std::vector<int> values = co_await asyncio::gather(std::move(many));
        EXPECT_EQ(values, (Ints{0, 1, 2}));
    } catch (...) {
        w.returned = true;
        EXPECT_EQ(w.running, 0);
        throw;
    }
    w.returned = true;
}

}  // namespace

TEST(OutOfMemory, GatherLeavesNoChildBehind) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        ChildWatch w;
        Attempt a = co_await with_failure_at(n, [&w] { return op_gather_children(w); });
        co_await settle();
        EXPECT_EQ(w.started_after, 0) << "allocation " << n;
        EXPECT_EQ(w.running, 0);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

TEST(OutOfMemory, Gather) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        Attempt a = co_await with_failure_at(n, [] { return op_gather(); });
        co_await settle();
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// TaskGroup

namespace {

Coro<void> op_task_group(ChildWatch& w) {
    try {
        int watched = co_await TaskGroup::run([&w](TaskGroup& tg) -> Coro<int> {
            auto a = tg.create_task(watched_child(w, 1));
            auto b = tg.create_task(watched_child(w, 2));
            co_await asyncio::sleep(0);
            auto c = tg.create_task(watched_child(w, 3));
            co_await asyncio::sleep(2ms);
            co_return a.result() + b.result() + c.result();
        });
        EXPECT_EQ(watched, 6);
        int sum = co_await TaskGroup::run([](TaskGroup& tg) -> Coro<int> {
            auto a = tg.create_task(value_after(1ms, 1));
            auto b = tg.create_task(value_after(2ms, 2));
            auto c = tg.create_task(add(3, 0), "third");
            co_await asyncio::sleep(3ms);
            co_return a.result() + b.result() + c.result();
        });
        EXPECT_EQ(sum, 6);
        bool grouped = false;
        try {
            co_await TaskGroup::run([](TaskGroup& tg) -> Coro<void> {
                tg.create_task(value_after(10ms, 1));
                tg.create_task(fail_after(1ms));
                co_await asyncio::sleep(20ms);
            });
        } catch (const asyncio::ExceptionGroup& eg) {
            rethrow_out_of_memory(eg);
            grouped = eg.exceptions().size() == 1 && eg.subgroup<std::runtime_error>().has_value();
        }
        EXPECT_TRUE(grouped);
    } catch (const asyncio::ExceptionGroup& eg) {
        w.returned = true;
        EXPECT_EQ(w.running, 0);
        rethrow_out_of_memory(eg);
        throw;
    } catch (...) {
        w.returned = true;
        EXPECT_EQ(w.running, 0);
        throw;
    }
    w.returned = true;
}

}  // namespace

TEST(OutOfMemory, TaskGroup) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        ChildWatch w;
        Attempt a = co_await with_failure_at(n, [&w] { return op_task_group(w); });
        co_await settle();
        EXPECT_EQ(w.started_after, 0) << "allocation " << n;
        EXPECT_EQ(w.running, 0);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// Queue, LifoQueue, PriorityQueue: put and get, the storage growing

namespace {

template <class Q>
Coro<void> fill(Q& q, int from, int to, int& put) {
    for (int i = from; i < to; ++i) {
        co_await q.put(i);
        put = i + 1;
    }
}

// Puts 0..39 on an unbounded queue from a task (the storage grows twice) and gets them.
template <class Q>
Coro<void> op_queue(Q& q, int& put, Ints& got) {
    auto producer = asyncio::create_task(fill(q, 0, 40, put));
    co_await producer;
    for (int i = 0; i < 40; ++i) got.push_back(co_await q.get());
    EXPECT_EQ(put, 40);
    EXPECT_EQ(got.size(), 40u);
}

// What a FIFO queue holds after a failure: exactly the items put and not taken, in order;
// then it works as before.
template <class Q>
Coro<void> check_queue(Q& q, const int& put, Ints got) {
    // Drain until a producer the operation left blocked on a full queue has finished too.
    do {
        while (!q.empty()) got.push_back(q.get_nowait());
        co_await asyncio::sleep(1s);
    } while (!q.empty());
    EXPECT_EQ(static_cast<int>(got.size()), put);
    std::sort(got.begin(), got.end());
    for (int i = 0; i < static_cast<int>(got.size()); ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
    int ignored = 0;
    auto producer = asyncio::create_task(fill(q, 0, 100, ignored));
    int sum = 0;
    for (int i = 0; i < 100; ++i) sum += co_await q.get();
    co_await producer;
    EXPECT_EQ(sum, 99 * 100 / 2);
    EXPECT_TRUE(q.empty());
}

Coro<void> take(asyncio::Queue<int>& q, int n, Ints& got) {
    for (int i = 0; i < n; ++i) got.push_back(co_await q.get());
}

// A bounded queue: a producer blocked on put while the consumer gets. In a gather, so that
// a producer that ran out of memory does not leave the consumer waiting forever.
Coro<void> op_bounded_queue(asyncio::Queue<int>& q, int& put, Ints& got) {
    co_await asyncio::gather(fill(q, 0, 20, put), take(q, 20, got));
    EXPECT_EQ(got.size(), 20u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

template <class Q>
void sweep_queue(long maxsize) {
    std::size_t allocations = sweep([maxsize](std::size_t n) -> Coro<Attempt> {
        Q q(maxsize);
        int put = 0;
        Ints got;
        got.reserve(200);  // the test's own bookkeeping must not fail after a get took an item
        Attempt a;
        if constexpr (std::is_same_v<Q, asyncio::Queue<int>>) {
            if (maxsize > 0) {
                a = co_await with_failure_at(n, [&] { return op_bounded_queue(q, put, got); });
            } else {
                a = co_await with_failure_at(n, [&] { return op_queue(q, put, got); });
            }
        } else {
            a = co_await with_failure_at(n, [&] { return op_queue(q, put, got); });
        }
        co_await settle();
        co_await check_queue(q, put, got);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

}  // namespace

TEST(OutOfMemory, QueuePutGet) {
    sweep_queue<asyncio::Queue<int>>(0);
    sweep_queue<asyncio::Queue<int>>(4);
    sweep_queue<asyncio::LifoQueue<int>>(0);
    sweep_queue<asyncio::PriorityQueue<int>>(0);
}

// ---------------------------------------------------------------------------------------
// Lock, Event, Semaphore, Condition, Barrier: contended waits

namespace {

Coro<void> wait_event_record(asyncio::Event& ev, Ints& order, int tag) {
    co_await ev.wait();
    order.push_back(tag);
}

Coro<int> sem_hold(asyncio::Semaphore& sem, int& inside, int& most) {
    auto guard = co_await sem.scoped();
    most = std::max(most, ++inside);
    co_await asyncio::sleep(1ms);
    --inside;
    co_return 1;
}

Coro<void> cond_wait_value(asyncio::Condition& cond, int& value, int& seen) {
    auto guard = co_await cond.scoped();
    seen = co_await cond.wait_for([&value] { return value; });
}

Coro<std::size_t> barrier_wait(asyncio::Barrier& b) { co_return co_await b.wait(); }

struct Primitives {
    asyncio::Lock lock;
    asyncio::Event event;
    asyncio::Semaphore sem{2};
    asyncio::BoundedSemaphore bounded{1};
    asyncio::Condition cond;
    asyncio::Barrier barrier{3};
    // What op_primitives' tasks write to (see SleepState).
    int counter = 0;
    Ints order;
    int inside = 0;
    int most = 0;
    int value = 0;
    int seen = 0;
};

Coro<void> op_primitives(Primitives& p) {
    int& counter = p.counter;
    auto l1 = asyncio::create_task(locked_increment(p.lock, counter));
    auto l2 = asyncio::create_task(locked_increment(p.lock, counter));
    int first = co_await locked_increment(p.lock, counter);
    co_await l1;
    co_await l2;
    EXPECT_EQ(first, 0);
    EXPECT_EQ(counter, 3);

    Ints& order = p.order;
    auto e1 = asyncio::create_task(wait_event_record(p.event, order, 1));
    auto e2 = asyncio::create_task(wait_event_record(p.event, order, 2));
    co_await asyncio::sleep(0);
    p.event.set();
    co_await e1;
    co_await e2;
    EXPECT_EQ(order, (Ints{1, 2}));

    int& inside = p.inside;
    int& most = p.most;
    auto [s1, s2, s3, s4] = co_await asyncio::gather(sem_hold(p.sem, inside, most), sem_hold(p.sem, inside, most), sem_hold(p.bounded, inside, most), sem_hold(p.sem, inside, most));
    EXPECT_EQ(s1 + s2 + s3 + s4, 4);
    EXPECT_LE(most, 3);

    int& value = p.value;
    int& seen = p.seen;
    auto waiter = asyncio::create_task(cond_wait_value(p.cond, value, seen));
    co_await asyncio::sleep(0);
    {
        auto guard = co_await p.cond.scoped();
        value = 9;
        p.cond.notify_all();
    }
    co_await waiter;
    EXPECT_EQ(seen, 9);

    auto [i, j, k] = co_await asyncio::gather(barrier_wait(p.barrier), barrier_wait(p.barrier), barrier_wait(p.barrier));
    EXPECT_EQ(i + j + k, 3u);  // 0 + 1 + 2
}

// After a failure: each primitive can be taken within a virtual second (nothing is held by
// a task that is gone or lost its wake-up), and gives the normal results.
Coro<void> check_primitives(Primitives& p) {
    co_await asyncio::timeout(1s, p.lock.acquire());
    p.lock.release();
    EXPECT_FALSE(p.lock.locked());
    EXPECT_EQ(p.sem.value(), 2);
    EXPECT_EQ(p.bounded.value(), 1);
    EXPECT_FALSE(p.cond.locked());
    p.event.clear();
    Ints order;
    auto e1 = asyncio::create_task(wait_event_record(p.event, order, 1));
    co_await asyncio::sleep(0);
    p.event.set();
    co_await e1;
    EXPECT_EQ(order, Ints{1});
    int inside = 0;
    int most = 0;
    auto [s1, s2, s3] = co_await asyncio::gather(sem_hold(p.sem, inside, most), sem_hold(p.sem, inside, most), sem_hold(p.sem, inside, most));
    EXPECT_EQ(s1 + s2 + s3, 3);
    EXPECT_EQ(most, 2);
    if (p.barrier.broken() || p.barrier.n_waiting() > 0) {
        co_await p.barrier.reset();
    }
    auto [i, j, k] = co_await asyncio::gather(barrier_wait(p.barrier), barrier_wait(p.barrier), barrier_wait(p.barrier));
    EXPECT_EQ(i + j + k, 3u);
}

}  // namespace

TEST(OutOfMemory, LockEventSemaphoreConditionBarrier) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        Primitives p;
        Attempt a = co_await with_failure_at(n, [&p] { return op_primitives(p); });
        co_await settle();
        co_await check_primitives(p);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// cancel

namespace {

Coro<int> get_one(asyncio::Queue<int>& q) { co_return co_await q.get(); }

Coro<void> op_cancel(asyncio::Lock& lock, asyncio::Queue<int>& q, int& counter) {
    auto sleeper = asyncio::create_task(value_after(10s, 1));
    co_await asyncio::sleep(0);
    bool was_pending = sleeper.cancel("a message longer than the short-string buffer");
    std::string message;
    try {
        co_await sleeper;  // std::bad_alloc if the sleeper ran out of memory first
    } catch (const CancelledError& e) {
        message = e.message();
    }
    EXPECT_TRUE(was_pending);
    // Out of memory for the message, the task is cancelled all the same, without it
    // (TaskCore::cancel): that takes a failed allocation.
    if (message.empty())
        EXPECT_TRUE(FailingAllocator::injected());
    else
        EXPECT_EQ(message, "a message longer than the short-string buffer");
    EXPECT_TRUE(sleeper.cancelled());

    auto guard = co_await lock.scoped();
    auto locker = asyncio::create_task(locked_increment(lock, counter));
    auto getter = asyncio::create_task(get_one(q));
    co_await asyncio::sleep(0);
    locker.cancel();
    getter.cancel();
    guard.release();
    auto [l, g] = co_await asyncio::gather(asyncio::return_exceptions, locker, getter);
    EXPECT_THROW((void)l.value(), CancelledError);
    EXPECT_THROW((void)g.value(), CancelledError);
    EXPECT_EQ(counter, 0);

    auto child = asyncio::create_task(value_after(10s, 1));
    auto parent = asyncio::create_task(asyncio::gather(child, value_after(10s, 2)));
    co_await asyncio::sleep(0);
    parent.cancel();
    bool cancelled = false;
    try {
        co_await parent;
    } catch (const CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(child.cancelled());

    bool group_cancelled = false;
    auto group = asyncio::create_task(TaskGroup::run([](TaskGroup& tg) -> Coro<void> {
        tg.create_task(value_after(10s, 1));
        co_await asyncio::sleep(10s);
    }));
    co_await asyncio::sleep(0);
    group.cancel();
    try {
        co_await group;
    } catch (const CancelledError&) {
        group_cancelled = true;
    } catch (const asyncio::ExceptionGroup& eg) {
        rethrow_out_of_memory(eg);
        throw;
    }
    EXPECT_TRUE(group_cancelled);
}

}  // namespace

TEST(OutOfMemory, Cancel) {
    std::size_t allocations = sweep([](std::size_t n) -> Coro<Attempt> {
        asyncio::Lock lock;
        asyncio::Queue<int> q;
        int counter = 0;
        Attempt a = co_await with_failure_at(n, [&] { return op_cancel(lock, q, counter); });
        co_await settle();
        co_await asyncio::timeout(20s, lock.acquire());  // the sleepers may still run
        lock.release();
        q.put_nowait(5);
        EXPECT_EQ(co_await asyncio::timeout(20s, q.get()), 5);
        co_await workload();
        co_return a;
    });
    EXPECT_GT(allocations, 3u);
}

// ---------------------------------------------------------------------------------------
// Wake-ups need no memory
//
// A wake-up has no caller to give a std::bad_alloc to (Lock.release, Event.set, a future's
// completion queueing its callbacks and its awaiters, a due sleep, a child's end reaching
// gather and a task group): the ready queue keeps room for everything that may be queued so
// (ReadyQueue). Here every allocation fails while hundreds of tasks are woken at once, with
// the queue's tail first put at each offset of a block: nothing may be lost, and nothing may
// even ask for memory.

namespace {

Coro<void> wait_event(asyncio::Event& ev, int& woken) {
    co_await ev.wait();
    ++woken;
}

Coro<void> take_lock(asyncio::Lock& lock, int& woken) {
    co_await lock.acquire();
    ++woken;
    lock.release();
}

Coro<void> sleep_then_count(int& woken) {
    co_await asyncio::sleep(5ms);
    ++woken;
}

Coro<int> await_future(asyncio::Future<int> f) { co_return co_await f; }

Coro<void> wake_storm(std::size_t offset) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    asyncio::Event ev;
    asyncio::Lock lock;
    asyncio::Future<int> fut;
    int event_woken = 0, lock_woken = 0, slept = 0, callbacks = 0;
    std::vector<Task<void>> tasks;
    tasks.reserve(400);
    for (int i = 0; i < 300; ++i) tasks.push_back(asyncio::create_task(wait_event(ev, event_woken)));
    for (int i = 0; i < 50; ++i) tasks.push_back(asyncio::create_task(sleep_then_count(slept)));
    co_await lock.acquire();
    tasks.push_back(asyncio::create_task(take_lock(lock, lock_woken)));
    auto awaiter = asyncio::create_task(await_future(fut));
    for (int i = 0; i < 3; ++i) fut.add_done_callback([&callbacks](asyncio::Future<int>) { ++callbacks; });
    auto gathered = asyncio::create_task(asyncio::gather(await_future(fut), await_future(fut)));
    auto group = asyncio::create_task(TaskGroup::run([&fut](TaskGroup& tg) -> Coro<int> {
        auto t = tg.create_task(await_future(fut));
        co_await asyncio::sleep(0);
        co_return 0;
    }));
    co_await asyncio::sleep(1ms);  // every task waits now; the sleepers are due in 4 ms
    for (std::size_t i = 0; i < offset; ++i) loop.call_soon([] {});

    FailingAllocator::arm(1, /*keep_failing=*/true);
    lock.release();
    fut.set_result(7);
    ev.set();
    co_await asyncio::sleep(0);  // the no-ops, the lock's waiter, the event's 300 tasks...
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(10ms);  // ...and the sleepers, all due in the same step
    const bool asked = FailingAllocator::disarm();

    EXPECT_FALSE(asked) << "a wake-up asked for memory at offset " << offset;
    EXPECT_EQ(event_woken, 300);
    EXPECT_EQ(lock_woken, 1);
    EXPECT_EQ(slept, 50);
    EXPECT_EQ(callbacks, 3);
    EXPECT_EQ(co_await awaiter, 7);
    auto [a, b] = co_await gathered;
    EXPECT_EQ(a + b, 14);
    EXPECT_EQ(co_await group, 0);
}

}  // namespace

TEST(OutOfMemory, WakeUpsNeedNoMemoryAtAnyOffsetOfTheQueue) {
    for (std::size_t offset = 0; offset < 260; ++offset) asyncio::testing::run(wake_storm(offset));
}

// The room is given back: after a burst of a million tasks the loop, once idle, keeps a few
// blocks, not a million slots.
TEST(ReadyQueueRoom, ReservationsFollowTheLiveObjects) {
    asyncio::testing::run([]() -> Coro<void> {
        asyncio::EventLoop& loop = asyncio::get_running_loop();
        auto& ready = asyncio::detail::LoopAccess::ready(loop);
        const std::size_t base = ready.reservations();  // the main task
        {
            std::vector<Task<int>> many;
            many.reserve(100000);
            for (int i = 0; i < 100000; ++i) many.push_back(asyncio::create_task(add(i, 1)));
            EXPECT_EQ(ready.reservations(), base + 100000);
            EXPECT_GE(ready.capacity(), base + 100000);
            co_await asyncio::sleep(0);             // they all finish
            EXPECT_EQ(ready.reservations(), base);  // a done task holds no slot
            EXPECT_EQ(many[99999].result(), 100000);
        }
        co_await asyncio::sleep(1s);  // idle: the loop gives the room back
        EXPECT_LT(ready.capacity(), base + 3 * std::size_t{127});
        auto h = loop.call_soon([] {});
        EXPECT_EQ(ready.reservations(), base + 1);  // a queued handle counts while queued
        co_await asyncio::sleep(0);
        EXPECT_EQ(ready.reservations(), base);
    }());
}
