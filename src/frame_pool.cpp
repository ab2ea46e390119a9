// src/frame_pool.cpp: refilling the per-thread frame pool from arenas, and giving the
// arenas back: when the thread ends, after a burst, and for blocks freed elsewhere.
#include <asyncio/detail/frame_pool.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <mutex>
#include <new>

namespace asyncio::detail {
namespace {

// Arenas grow geometrically, 64 KiB to 2 MiB, so that a small program stays small and a
// program with a million tasks asks the kernel for memory a few hundred times.
constexpr std::size_t first_arena_size = std::size_t{64} << 10;
constexpr std::size_t max_arena_size = frame_pool_arena_align;
// Pages are faulted in this much at a time, as the carving reaches them: small enough that
// the freshly zeroed memory is still in the cache when the pool hands it out.
constexpr std::size_t populate_step = std::size_t{128} << 10;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

// Guards what crosses threads: every pool's `remote` list and the orphans' live counts
// (taken only off the hot path: a block freed on a thread other than its owner's, a
// thread's end, a trim that finds remote blocks).
std::mutex g_mutex;
std::atomic<std::size_t> g_bytes{0};  // all arenas mapped, orphans included

// A block on a pool's remote list remembers its size class.
struct RemoteBlock {
    RemoteBlock* next;
    std::size_t cls;
};
static_assert(sizeof(RemoteBlock) <= frame_pool_granule);

// A fresh arena of `size` bytes at the start of a 2 MiB-aligned span (so that its blocks
// find the header by masking), its first pages faulted in with one system call: the pool
// carves it front to back right away, and one MADV_POPULATE_WRITE costs less than a page
// fault per 4 KiB (about 1.0 against 1.4 us per page measured here). Transparent huge
// pages are not asked for: on this kind of virtual machine a huge page always comes from
// memory the host has taken back and is slower to fault in than recycled small pages
// (docs/benchmarks.md).
PoolArena* new_arena(std::size_t size, PoolArena* previous) {
    std::uintptr_t start = 0;
    if (previous) {
        // The kernel maps downwards: the aligned slot below the last arena is usually free,
        // and then one system call does (a hint, not MAP_FIXED: nothing is replaced).
        auto hint = reinterpret_cast<std::uintptr_t>(previous) - frame_pool_arena_align;
        void* p = ::mmap(reinterpret_cast<void*>(hint), size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED && reinterpret_cast<std::uintptr_t>(p) == hint)
            start = hint;
        else if (p != MAP_FAILED)
            ::munmap(p, size);
    }
    if (!start) {
        std::size_t span = size + frame_pool_arena_align;
        void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        auto raw = reinterpret_cast<std::uintptr_t>(p);
        start = (raw + frame_pool_arena_align - 1) & ~(frame_pool_arena_align - 1);
        if (start > raw) ::munmap(p, start - raw);
        if (raw + span > start + size) ::munmap(reinterpret_cast<void*>(start + size), raw + span - (start + size));
    }
    auto* a = reinterpret_cast<PoolArena*>(start);
    a->owner.store(nullptr, std::memory_order_relaxed);
    a->live = 0;
    a->size = size;
    a->next = nullptr;
    a->release = false;
    g_bytes.fetch_add(size, std::memory_order_relaxed);
    return a;
}

void unmap_arena(PoolArena* a) noexcept {
    std::size_t size = a->size;
    asan_unpoison(a, size);  // the shadow must not outlive the mapping
    g_bytes.fetch_sub(size, std::memory_order_relaxed);
    ::munmap(a, size);
}

void push_free(FramePool& pool, void* p, std::size_t cls) noexcept {
    auto* b = static_cast<FramePool::FreeBlock*>(p);
    b->next = pool.free[cls];
    pool.free[cls] = b;
    asan_poison(b, (cls + 1) * frame_pool_granule);
}

// Takes back the blocks other threads freed (owner thread only).
void collect_remote(FramePool& pool) noexcept {
    if (!pool.has_remote.load(std::memory_order_acquire)) return;
    RemoteBlock* list;
    {
        std::lock_guard lock(g_mutex);
        list = static_cast<RemoteBlock*>(pool.remote);
        pool.remote = nullptr;
        pool.has_remote.store(false, std::memory_order_relaxed);
    }
    while (list) {
        RemoteBlock* next = list->next;
        std::size_t cls = list->cls;
        PoolArena* a = arena_of(list);
        push_free(pool, list, cls);
        --a->live;
        list = next;
    }
}

void forget_arenas(FramePool& pool) noexcept {
    for (auto& head : pool.free) head = nullptr;
    pool.arena_next = pool.arena_end = pool.arena_limit = nullptr;
    pool.arena_size = 0;
    pool.current = nullptr;
    pool.arenas = nullptr;
    pool.bytes = 0;
}

// At the thread's end: empty arenas are unmapped; the others become orphans, unmapped by
// pool_deallocate_remote when their last block comes back (from any thread, or from this
// one's later thread_local destructors).
struct PoolReaper {
    bool armed = false;
    PoolReaper() = default;
    PoolReaper(const PoolReaper&) = delete;
    PoolReaper& operator=(const PoolReaper&) = delete;
    ~PoolReaper() {
        FramePool& pool = t_frame_pool;
        PoolArena* to_unmap = nullptr;
        {
            std::lock_guard lock(g_mutex);
            for (auto* b = static_cast<RemoteBlock*>(pool.remote); b; b = b->next) --arena_of(b)->live;
            pool.remote = nullptr;
            pool.has_remote.store(false, std::memory_order_relaxed);
            for (PoolArena* a = pool.arenas; a;) {
                PoolArena* next = a->next;
                if (a->live == 0) {
                    a->next = to_unmap;
                    to_unmap = a;
                } else {
                    a->owner.store(nullptr, std::memory_order_relaxed);
                }
                a = next;
            }
        }
        while (to_unmap) {
            PoolArena* next = to_unmap->next;
            unmap_arena(to_unmap);
            to_unmap = next;
        }
        forget_arenas(pool);
    }
};
thread_local PoolReaper t_reaper;

}  // namespace

void* pool_allocate_slow(std::size_t size) {
    if (size > frame_pool_max || size == 0) return ::operator new(size);
    if (pool_refill_hook) pool_refill_hook();  // tests: may throw std::bad_alloc here
    FramePool& a = t_frame_pool;
    std::size_t cls = pool_class(size);
    if (a.has_remote.load(std::memory_order_relaxed)) {
        collect_remote(a);
        if (a.free[cls]) return pool_allocate(size);
    }
    std::size_t rounded = (cls + 1) * frame_pool_granule;
    if (static_cast<std::size_t>(a.arena_limit - a.arena_next) < rounded) {
        t_reaper.armed = true;  // registers the thread's end
        std::size_t next_size = a.arena_size ? std::min(a.arena_size * 2, max_arena_size) : first_arena_size;
        PoolArena* arena = new_arena(next_size, a.current);
        arena->owner.store(&a, std::memory_order_relaxed);
        arena->next = a.arenas;
        a.arenas = arena;
        a.bytes += next_size;
        a.arena_size = next_size;
        a.current = arena;
        a.arena_next = a.arena_end = reinterpret_cast<char*>(arena) + frame_pool_header;
        a.arena_limit = reinterpret_cast<char*>(arena) + next_size;
    }
    if (static_cast<std::size_t>(a.arena_end - a.arena_next) < rounded) {
        // From a page boundary (the first step starts at the header): the kernel refuses
        // an unaligned range.
        char* from = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(a.arena_end) & ~std::uintptr_t{4095});
        a.arena_end = std::min(from + populate_step, a.arena_limit);
        // A hint: where unsupported, the pages fault in one by one.
        ::madvise(from, static_cast<std::size_t>(a.arena_end - from), MADV_POPULATE_WRITE);
    }
    void* p = a.arena_next;
    a.arena_next += rounded;
    ++arena_of(p)->live;
    if (pool_refill_hook) a.arena_end = a.arena_next;  // the next carve comes here again
    return p;
}

// Unsized: clang 14 declares the global sized delete only with -fsized-deallocation.
void pool_deallocate_large(void* p, std::size_t) noexcept { ::operator delete(p); }

// A block whose arena is not this thread's: back to its owner's remote list, or, for an
// orphan, one block fewer, and the arena unmapped with the last.
void pool_deallocate_remote(void* p, std::size_t size) noexcept {
    PoolArena* a = arena_of(p);
    {
        std::lock_guard lock(g_mutex);
        if (FramePool* owner = a->owner.load(std::memory_order_relaxed)) {
            auto* b = static_cast<RemoteBlock*>(p);
            b->next = static_cast<RemoteBlock*>(owner->remote);
            b->cls = pool_class(size);
            owner->remote = b;
            owner->has_remote.store(true, std::memory_order_release);
            return;
        }
        if (--a->live != 0) return;
    }
    unmap_arena(a);
}

void pool_trim_slow() noexcept {
    FramePool& pool = t_frame_pool;
    collect_remote(pool);
    bool all_empty = true;
    bool any = false;
    std::size_t kept = 0;
    for (PoolArena* a = pool.arenas; a; a = a->next) {
        a->release = false;
        if (a->live != 0) {
            all_empty = false;
        } else if (a == pool.current) {
        } else if (kept + a->size <= frame_pool_cache) {
            kept += a->size;
        } else {
            a->release = any = true;
        }
    }
    if (all_empty && pool.current) {
        // Nothing is live: forget every free list, carve the current arena again from its
        // start, and unmap all the others (no list to walk).
        for (auto& head : pool.free) head = nullptr;
        char* start = reinterpret_cast<char*>(pool.current) + frame_pool_header;
        asan_unpoison(start, static_cast<std::size_t>(pool.arena_limit - start));
        pool.arena_next = start;
        for (PoolArena* a = pool.arenas; a; a = a->next) a->release = a != pool.current;
        any = true;
    } else if (any) {
        // Rebuild the free lists without the blocks of the arenas to unmap, in order.
        for (std::size_t cls = 0; cls < FramePool::classes; ++cls) {
            std::size_t n = (cls + 1) * frame_pool_granule;
            FramePool::FreeBlock* kept_head = nullptr;
            FramePool::FreeBlock* tail = nullptr;
            for (FramePool::FreeBlock* b = pool.free[cls]; b;) {
                asan_unpoison(b, n);
                FramePool::FreeBlock* next = b->next;
                if (!arena_of(b)->release) {
                    b->next = nullptr;
                    asan_poison(b, n);
                    if (tail) {
                        asan_unpoison(tail, n);
                        tail->next = b;
                        asan_poison(tail, n);
                    } else {
                        kept_head = b;
                    }
                    tail = b;
                }
                b = next;
            }
            pool.free[cls] = kept_head;
        }
    }
    if (!any) return;
    PoolArena** link = &pool.arenas;
    while (PoolArena* a = *link) {
        if (a->release) {
            *link = a->next;
            pool.bytes -= a->size;
            unmap_arena(a);
        } else {
            link = &a->next;
        }
    }
}

std::size_t pool_arena_bytes() noexcept { return t_frame_pool.bytes; }
std::size_t pool_arena_bytes_all_threads() noexcept { return g_bytes.load(std::memory_order_relaxed); }

}  // namespace asyncio::detail
