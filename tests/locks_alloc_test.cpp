// docs/design/memory.md for asyncio/locks.hpp and asyncio/queues.hpp: the uncontended paths allocate
// nothing. This file replaces the global operator new and delete with versions that count
// the allocations made on this thread while counting is switched on, so it is a test
// executable of its own (the counting must not leak into other tests). The "does not
// suspend" half of the rule is in locks_*_test.cpp and queues_test.cpp.
#include <asyncio/locks.hpp>
#include <asyncio/queues.hpp>

#include "support/async_test.hpp"

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace {

thread_local bool t_counting = false;
thread_local std::size_t t_allocations = 0;

void* counted_alloc(std::size_t n) noexcept {
    if (t_counting) ++t_allocations;
    return std::malloc(n == 0 ? 1 : n);
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) noexcept {
    if (t_counting) ++t_allocations;
    auto align = static_cast<std::size_t>(al);
    if (align < sizeof(void*)) align = sizeof(void*);
    std::size_t size = (n + align - 1) / align * align;  // aligned_alloc wants a multiple
    return std::aligned_alloc(align, size == 0 ? align : size);
}

// Counts the allocations this thread makes between start() and stop().
class AllocationCounter {
public:
    static void start() noexcept {
        t_allocations = 0;
        t_counting = true;
    }
    static std::size_t stop() noexcept {
        t_counting = false;
        return t_allocations;
    }
};

// Out of line, so that g++ -O2 does not see free() inlined into a delete paired with a new
// and warn (-Wmismatched-new-delete): the replacements below are malloc/free pairs.
[[gnu::noinline]] void counted_free(void* p) noexcept { std::free(p); }

}  // namespace

// The replaceable global allocation functions ([new.delete]): every form, so that a
// mismatched pair cannot reach the real allocator's free.
void* operator new(std::size_t n) {
    if (void* p = counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t al) {
    if (void* p = counted_aligned_alloc(n, al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
    if (void* p = counted_aligned_alloc(n, al)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return counted_aligned_alloc(n, al); }
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return counted_aligned_alloc(n, al); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

// The counter itself: one allocation is seen as one.
// Explicit calls of the allocation functions: clang may elide a new-expression whose
// result does not escape (it did at -O1 under ASan), but not these calls.
ASYNCIO_TEST(NoAlloc, CounterCountsAllocations) {
    AllocationCounter::start();
    void* p = ::operator new(sizeof(int));
    void* q = ::operator new[](4 * sizeof(long));
    std::size_t n = AllocationCounter::stop();
    ::operator delete(p);
    ::operator delete[](q);
    EXPECT_EQ(n, 2u);
    co_return;
}

// docs/design/memory.md: Lock acquire and release, uncontended, allocate nothing (scoped() as well).
ASYNCIO_TEST(NoAlloc, LockAcquireReleaseUncontended) {
    asyncio::Lock lock;
    AllocationCounter::start();
    bool ok = co_await lock.acquire();
    lock.release();
    {
        auto guard = co_await lock.scoped();
    }
    std::size_t n = AllocationCounter::stop();
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(ok);
    EXPECT_FALSE(lock.locked());
}

// docs/design/memory.md: waiting on an event that is set allocates nothing.
ASYNCIO_TEST(NoAlloc, EventWaitOnSetEvent) {
    asyncio::Event ev;
    ev.set();
    AllocationCounter::start();
    bool ok = co_await ev.wait();
    std::size_t n = AllocationCounter::stop();
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(ok);
}

// Semaphore acquire and release, uncontended, allocate nothing (scoped() as well).
ASYNCIO_TEST(NoAlloc, SemaphoreAcquireReleaseUncontended) {
    asyncio::Semaphore sem(2);
    asyncio::BoundedSemaphore bounded(1);
    AllocationCounter::start();
    bool a = co_await sem.acquire();
    bool b = co_await sem.acquire();
    sem.release();
    sem.release();
    bool c = co_await bounded.acquire();
    bounded.release();
    {
        auto guard = co_await sem.scoped();
        auto bounded_guard = co_await bounded.scoped();
    }
    std::size_t n = AllocationCounter::stop();
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(a && b && c);
    EXPECT_EQ(sem.value(), 2);
}

// docs/design/memory.md: put and get of an int on a queue that has already grown allocate nothing:
// unbounded, bounded with room, and a get with an item there.
ASYNCIO_TEST(NoAlloc, QueuePutGetOnAGrownQueue) {
    asyncio::Queue<int> q;
    asyncio::Queue<int> bounded(4);
    co_await q.put(0);  // grow the storage once before measuring
    (void)co_await q.get();
    co_await bounded.put(0);
    (void)co_await bounded.get();

    AllocationCounter::start();
    co_await q.put(1);
    q.put_nowait(2);
    int a = co_await q.get();
    int b = q.get_nowait();
    co_await bounded.put(3);  // not full
    int c = co_await bounded.get();
    q.task_done();
    q.task_done();
    std::size_t n = AllocationCounter::stop();
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    EXPECT_EQ(c, 3);
}

// The same for LifoQueue and PriorityQueue once their vectors have grown.
ASYNCIO_TEST(NoAlloc, LifoAndPriorityQueuePutGetOnAGrownQueue) {
    asyncio::LifoQueue<int> lifo;
    asyncio::PriorityQueue<int> prio;
    co_await lifo.put(0);
    co_await prio.put(0);
    (void)co_await lifo.get();
    (void)co_await prio.get();

    AllocationCounter::start();
    co_await lifo.put(1);
    int a = co_await lifo.get();
    co_await prio.put(2);
    int b = co_await prio.get();
    std::size_t n = AllocationCounter::stop();
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
}
