// src/frame_pool.cpp: refilling the per-thread frame pool from 2 MiB arenas.
#include <asyncio/detail/frame_pool.hpp>

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace asyncio::detail {
namespace {

constexpr std::size_t arena_size = std::size_t{2} << 20;

// The arena being carved, per thread. Arenas are kept for the thread's lifetime: their
// blocks circulate through the free lists (a pool that never shrinks, as tcmalloc's
// per-thread caches do not for small classes).
struct Arena {
    char* next = nullptr;
    char* end = nullptr;
};
thread_local Arena t_arena;

char* new_arena() {
    void* p = std::aligned_alloc(arena_size, arena_size);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    // One fault per 2 MiB instead of one per 4 KiB page; a hint, ignored where unsupported.
    ::madvise(p, arena_size, MADV_HUGEPAGE);
#endif
    return static_cast<char*>(p);
}

}  // namespace

void* pool_allocate_slow(std::size_t size) {
    if (size > frame_pool_max || size == 0) return ::operator new(size);
    std::size_t rounded = (pool_class(size) + 1) * frame_pool_granule;
    Arena& a = t_arena;
    if (static_cast<std::size_t>(a.end - a.next) < rounded) {
        a.next = new_arena();
        a.end = a.next + arena_size;
    }
    void* p = a.next;
    a.next += rounded;
    return p;
}

// Unsized: clang 14 declares the global sized delete only with -fsized-deallocation.
void pool_deallocate_large(void* p, std::size_t) noexcept { ::operator delete(p); }

}  // namespace asyncio::detail
