// asyncio/detail/frame_pool.hpp: the per-thread pool that coroutine frames and task states
// come from (DESIGN §6): size-classed free lists (16-byte classes, so blocks keep the 16-byte
// alignment operator new promises) refilled from arenas of 64 KiB growing to 2 MiB, faulted
// in one system call each; a finished task's memory is reused by the next without malloc.
#pragma once

#include <cstddef>

// Under AddressSanitizer a pooled block is poisoned while free, so a use after free of a
// frame is still reported (until the block is reused).
#if defined(__SANITIZE_ADDRESS__)
#define ASYNCIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCIO_ASAN 1
#endif
#endif
#ifdef ASYNCIO_ASAN
#include <sanitizer/asan_interface.h>
#define ASYNCIO_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define ASYNCIO_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ASYNCIO_POISON(p, n) ((void)(p), (void)(n))
#define ASYNCIO_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace asyncio::detail {

inline constexpr std::size_t frame_pool_granule = 16;
inline constexpr std::size_t frame_pool_max = 1024;  // larger blocks go to ::operator new

void* pool_allocate_slow(std::size_t size);

// For tests of out-of-memory (tests/support/failing_allocator.hpp): when set, the pool calls
// it before each refill and refills one block at a time, so that every allocation no free
// list serves is a refill the hook may fail by throwing std::bad_alloc, as a failed mmap
// would. Null otherwise; only the slow path reads it.
inline void (*pool_refill_hook)() = nullptr;
void pool_deallocate_large(void* p, std::size_t size) noexcept;

struct FramePool {
    struct FreeBlock {
        FreeBlock* next;
    };
    static constexpr std::size_t classes = frame_pool_max / frame_pool_granule;
    FreeBlock* free[classes] = {};
    // The arena being carved (src/frame_pool.cpp refills it).
    char* arena_next = nullptr;
    char* arena_end = nullptr;
    std::size_t arena_size = 0;
};

// Zero-initialised thread_local: no guard or constructor call on the hot path.
inline thread_local FramePool t_frame_pool;

inline std::size_t pool_class(std::size_t size) noexcept { return (size + frame_pool_granule - 1) / frame_pool_granule - 1; }

inline void* pool_allocate(std::size_t size) {
    if (size > frame_pool_max || size == 0) return pool_allocate_slow(size);
    FramePool::FreeBlock*& head = t_frame_pool.free[pool_class(size)];
    if (FramePool::FreeBlock* b = head) {
        ASYNCIO_UNPOISON(b, size);
        head = b->next;
        return b;
    }
    std::size_t rounded = (pool_class(size) + 1) * frame_pool_granule;
    FramePool& pool = t_frame_pool;
    if (static_cast<std::size_t>(pool.arena_end - pool.arena_next) >= rounded) {
        void* p = pool.arena_next;
        pool.arena_next += rounded;
        return p;
    }
    return pool_allocate_slow(size);
}

inline void pool_deallocate(void* p, std::size_t size) noexcept {
    if (size > frame_pool_max || size == 0) return pool_deallocate_large(p, size);
    auto* b = static_cast<FramePool::FreeBlock*>(p);
    FramePool::FreeBlock*& head = t_frame_pool.free[pool_class(size)];
    b->next = head;
    head = b;
    ASYNCIO_POISON(b, size);
}

// Mixed into promises and task states: class-level allocation from the pool.
struct PoolAllocated {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
};

}  // namespace asyncio::detail
