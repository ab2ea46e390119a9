// Allocation and system-call budgets of the hot paths (docs/design/memory.md, issue 5): counts, not
// timings, so they belong in the test suite. This file replaces the global operator new.
#include <asyncio/tasks.hpp>

#include "support/async_test.hpp"

#include <cstdlib>
#include <new>

namespace {

thread_local bool t_counting = false;
thread_local long t_allocations = 0;

// Counts the operator new calls made while alive, on this thread.
class AllocationCounter {
public:
    AllocationCounter() {
        t_allocations = 0;
        t_counting = true;
    }
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;
    ~AllocationCounter() { t_counting = false; }
    [[nodiscard]] long count() const { return t_allocations; }
};

void* counted_alloc(std::size_t n) {
    if (t_counting) ++t_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}

// Out of line, so that g++ -O2 does not see free() inlined into a delete paired with a new
// and warn (-Wmismatched-new-delete): the replacements below are malloc/free pairs.
[[gnu::noinline]] void counted_free(void* p) noexcept { std::free(p); }

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return t_counting ? (++t_allocations, std::malloc(n ? n : 1)) : std::malloc(n ? n : 1); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

using namespace std::chrono_literals;
using asyncio::Coro;

namespace {

Coro<long> returns(long i) { co_return i; }

}  // namespace

// A sleep(0) yield allocates nothing and makes no system call.
ASYNCIO_TEST(Budget, YieldAllocatesNothingAndMakesNoSyscall) {
    auto& loop = asyncio::get_running_loop();
    co_await asyncio::sleep(0);  // warm the ready queue
    long allocations;
    auto syscalls = asyncio::testing::reactor_syscalls(loop);
    {
        AllocationCounter counter;
        for (int i = 0; i < 1000; ++i) co_await asyncio::sleep(0);
        allocations = counter.count();
    }
    EXPECT_EQ(allocations, 0);
    EXPECT_EQ(asyncio::testing::reactor_syscalls(loop), syscalls);
}

// Spawning and finishing a task allocates at most once (the frame) in steady state; with
// the frame pool it allocates nothing at all once the pool has warmed up.
ASYNCIO_TEST(Budget, SpawnAndJoinAllocatesAtMostOncePerTask) {
    constexpr int n = 1000;
    for (int round = 0; round < 2; ++round) {  // warm the pool and the ready queue
        for (int i = 0; i < n; ++i) co_await asyncio::create_task(returns(i));
    }
    long allocations;
    long sum = 0;
    {
        AllocationCounter counter;
        for (int i = 0; i < n; ++i) sum += co_await asyncio::create_task(returns(i));
        allocations = counter.count();
    }
    EXPECT_EQ(sum, long{n} * (n - 1) / 2);
    EXPECT_LE(allocations, n);
    EXPECT_EQ(allocations, 0);
}

// Awaiting a Coro that finishes at once allocates nothing in steady state.
ASYNCIO_TEST(Budget, AwaitingACoroAllocatesNothingInSteadyState) {
    (void)co_await returns(0);
    long allocations;
    {
        AllocationCounter counter;
        for (int i = 0; i < 1000; ++i) (void)co_await returns(i);
        allocations = counter.count();
    }
    EXPECT_EQ(allocations, 0);
}

// A sleep with a real delay allocates nothing: the timer lives in the awaiting frame.
ASYNCIO_TEST(Budget, TimedSleepAllocatesNothing) {
    co_await asyncio::sleep(1ms);
    long allocations;
    {
        AllocationCounter counter;
        for (int i = 0; i < 100; ++i) co_await asyncio::sleep(1ms);
        allocations = counter.count();
    }
    EXPECT_EQ(allocations, 0);
}
