// asyncio/detail/frame_pool.hpp: the per-thread pool that coroutine frames and task states
// come from: size-classed free lists (16-byte classes, so blocks keep the 16-byte alignment
// operator new promises) refilled from arenas of 64 KiB growing to 2 MiB, faulted in one
// system call each; a finished task's memory is reused by the next without malloc.
//
// Memory comes back (src/frame_pool.cpp): each arena starts with a header that counts its
// live blocks and names its owning pool (arenas are aligned to 2 MiB, so a block finds its
// header by masking its address). A block freed on another thread goes back to its owner;
// when a thread ends, its empty arenas are unmapped and the others are orphaned, unmapped
// when their last block comes back; after a burst, empty arenas beyond a small cache are
// unmapped when the loop is about to wait, and when asyncio::run ends (pool_trim).
#pragma once

#include <asyncio/detail/visibility.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

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
#endif

namespace asyncio::detail {

// Marks a free block (poison) and a block handed out again (unpoison); no-ops without ASan.
inline void asan_poison([[maybe_unused]] const volatile void* p, [[maybe_unused]] std::size_t n) noexcept {
#ifdef ASYNCIO_ASAN
    __asan_poison_memory_region(p, n);
#endif
}
inline void asan_unpoison([[maybe_unused]] const volatile void* p, [[maybe_unused]] std::size_t n) noexcept {
#ifdef ASYNCIO_ASAN
    __asan_unpoison_memory_region(p, n);
#endif
}

inline constexpr std::size_t frame_pool_granule = 16;
inline constexpr std::size_t frame_pool_max = 1024;  // larger blocks go to ::operator new
// Every arena lies inside one aligned span of this size, its header at the start.
inline constexpr std::size_t frame_pool_arena_align = std::size_t{2} << 20;
inline constexpr std::size_t frame_pool_header = 64;

void* pool_allocate_slow(std::size_t size);

// For tests of out-of-memory (tests/support/failing_allocator.hpp): when set, the pool calls
// it before each refill and refills one block at a time, so that every allocation no free
// list serves is a refill the hook may fail by throwing std::bad_alloc, as a failed mmap
// would. Null otherwise; only the slow path reads it.
inline void (*pool_refill_hook)() = nullptr;
void pool_deallocate_large(void* p, std::size_t size) noexcept;
void pool_deallocate_remote(void* p, std::size_t size) noexcept;

struct FramePool;

// The start of every arena.
struct PoolArena {
    std::atomic<FramePool*> owner;  // null once the owning thread ended (an orphan)
    std::size_t live;               // blocks handed out and not yet back
    std::size_t size;               // bytes mapped, this header included
    PoolArena* next;                // the owner's arenas
    bool release;                   // pool_trim's mark
};
static_assert(sizeof(PoolArena) <= frame_pool_header);

inline PoolArena* arena_of(const void* p) noexcept {
    return reinterpret_cast<PoolArena*>(reinterpret_cast<std::uintptr_t>(p) & ~(frame_pool_arena_align - 1));
}

struct FramePool {
    struct FreeBlock {
        FreeBlock* next;
    };
    static constexpr std::size_t classes = frame_pool_max / frame_pool_granule;
    FreeBlock* free[classes] = {};
    // The arena being carved (src/frame_pool.cpp refills it).
    char* arena_next = nullptr;
    char* arena_end = nullptr;  // the end of its populated part

    // Slow paths only.
    char* arena_limit = nullptr;  // the end of the arena being carved
    std::size_t arena_size = 0;
    PoolArena* current = nullptr;
    PoolArena* arenas = nullptr;
    std::size_t bytes = 0;  // mapped by this pool
    // Blocks other threads freed, under the pool's global mutex (src/frame_pool.cpp).
    void* remote = nullptr;
    std::atomic<bool> has_remote{false};
};

// Constant-initialised thread_local: no guard or constructor call on the hot path.
ASYNCIO_SHARED_STATE inline thread_local FramePool t_frame_pool;

inline std::size_t pool_class(std::size_t size) noexcept { return (size + frame_pool_granule - 1) / frame_pool_granule - 1; }

inline void* pool_allocate(std::size_t size) {
    if (size > frame_pool_max || size == 0) return pool_allocate_slow(size);
    FramePool::FreeBlock*& head = t_frame_pool.free[pool_class(size)];
    if (FramePool::FreeBlock* b = head) {
        asan_unpoison(b, size);
        head = b->next;
        ++arena_of(b)->live;
        return b;
    }
    std::size_t rounded = (pool_class(size) + 1) * frame_pool_granule;
    FramePool& pool = t_frame_pool;
    if (static_cast<std::size_t>(pool.arena_end - pool.arena_next) >= rounded) {
        void* p = pool.arena_next;
        pool.arena_next += rounded;
        ++arena_of(p)->live;
        return p;
    }
    return pool_allocate_slow(size);
}

inline void pool_deallocate(void* p, std::size_t size) noexcept {
    if (size > frame_pool_max || size == 0) return pool_deallocate_large(p, size);
    PoolArena* arena = arena_of(p);
    FramePool& pool = t_frame_pool;
    // Another thread's block, or an orphan's: a predictable branch.
    if (arena->owner.load(std::memory_order_relaxed) != &pool) [[unlikely]]
        return pool_deallocate_remote(p, size);
    auto* b = static_cast<FramePool::FreeBlock*>(p);
    FramePool::FreeBlock*& head = pool.free[pool_class(size)];
    b->next = head;
    head = b;
    asan_poison(b, size);
    --arena->live;
}

// Unmaps the empty arenas of this thread's pool beyond a small cache (after a burst). A
// look at each arena's header when none can go; the free lists are walked only when some
// can (or not at all, when every arena is empty).
void pool_trim_slow() noexcept;
inline void pool_trim() noexcept {
    if (t_frame_pool.arenas) pool_trim_slow();
}
// The empty arenas this thread's pool keeps for reuse, at most.
inline constexpr std::size_t frame_pool_cache = std::size_t{4} << 20;

// Introspection, for tests: bytes of arena memory this thread's pool holds, and all pools
// together (orphans included).
std::size_t pool_arena_bytes() noexcept;
std::size_t pool_arena_bytes_all_threads() noexcept;

// Mixed into promises and task states: class-level allocation from the pool.
struct PoolAllocated {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
};

}  // namespace asyncio::detail
