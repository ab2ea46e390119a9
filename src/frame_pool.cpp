// src/frame_pool.cpp: refilling the per-thread frame pool from arenas.
#include <asyncio/detail/frame_pool.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace asyncio::detail {
namespace {

// Arenas grow geometrically, 64 KiB to 2 MiB, so that a small program stays small and a
// program with a million tasks asks the kernel for memory a few hundred times.
constexpr std::size_t first_arena_size = std::size_t{64} << 10;
constexpr std::size_t max_arena_size = std::size_t{2} << 20;
// Pages are faulted in this much at a time, as the carving reaches them: small enough that
// the freshly zeroed memory is still in the cache when the pool hands it out.
constexpr std::size_t populate_step = std::size_t{128} << 10;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

// Arenas are kept for the thread's lifetime: their blocks circulate through the free lists
// (a pool that never shrinks, as tcmalloc's per-thread caches do not for small classes).
// A fresh arena, its pages faulted in with one system call: the pool carves it front to
// back right away, and one MADV_POPULATE_WRITE costs less than a page fault per 4 KiB (about
// 1.0 against 1.4 us per page measured here). Transparent huge pages are not asked for: on
// this kind of virtual machine a huge page always comes from memory the host has taken back
// and is slower to fault in than recycled small pages (docs/benchmarks.md).
char* new_arena(std::size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<char*>(p);
}

// The end of the arena being carved; FramePool::arena_end is the end of its populated part.
thread_local char* t_arena_limit = nullptr;

}  // namespace

void* pool_allocate_slow(std::size_t size) {
    if (size > frame_pool_max || size == 0) return ::operator new(size);
    if (pool_refill_hook) pool_refill_hook();
    std::size_t rounded = (pool_class(size) + 1) * frame_pool_granule;
    FramePool& a = t_frame_pool;
    if (static_cast<std::size_t>(t_arena_limit - a.arena_next) < rounded) {
        a.arena_size = a.arena_size ? std::min(a.arena_size * 2, max_arena_size) : first_arena_size;
        a.arena_next = a.arena_end = new_arena(a.arena_size);
        t_arena_limit = a.arena_next + a.arena_size;
    }
    if (static_cast<std::size_t>(a.arena_end - a.arena_next) < rounded) {
        char* from = a.arena_end;
        a.arena_end = std::min(from + populate_step, t_arena_limit);
        // A hint: where unsupported, the pages fault in one by one.
        ::madvise(from, static_cast<std::size_t>(a.arena_end - from), MADV_POPULATE_WRITE);
    }
    void* p = a.arena_next;
    a.arena_next += rounded;
    if (pool_refill_hook) a.arena_end = a.arena_next;  // the next carve comes here again
    return p;
}

// Unsized: clang 14 declares the global sized delete only with -fsized-deallocation.
void pool_deallocate_large(void* p, std::size_t) noexcept { ::operator delete(p); }

}  // namespace asyncio::detail
