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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

// The arena being carved, per thread. Arenas are kept for the thread's lifetime: their
// blocks circulate through the free lists (a pool that never shrinks, as tcmalloc's
// per-thread caches do not for small classes).
struct Arena {
    char* next = nullptr;
    char* end = nullptr;
    std::size_t size = 0;  // of the last arena
};
thread_local Arena t_arena;

// A fresh arena, its pages faulted in with one system call: the pool carves it front to
// back right away, and one MADV_POPULATE_WRITE costs less than a page fault per 4 KiB (about
// 1.0 against 1.4 us per page measured here). Transparent huge pages are not asked for: on
// this kind of virtual machine a huge page always comes from memory the host has taken back
// and is slower to fault in than recycled small pages (docs/benchmarks.md).
char* new_arena(std::size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, size, MADV_POPULATE_WRITE);  // a hint: where unsupported, pages fault lazily
    return static_cast<char*>(p);
}

}  // namespace

void* pool_allocate_slow(std::size_t size) {
    if (size > frame_pool_max || size == 0) return ::operator new(size);
    std::size_t rounded = (pool_class(size) + 1) * frame_pool_granule;
    Arena& a = t_arena;
    if (static_cast<std::size_t>(a.end - a.next) < rounded) {
        a.size = a.size ? std::min(a.size * 2, max_arena_size) : first_arena_size;
        a.next = new_arena(a.size);
        a.end = a.next + a.size;
    }
    void* p = a.next;
    a.next += rounded;
    return p;
}

// Unsized: clang 14 declares the global sized delete only with -fsized-deallocation.
void pool_deallocate_large(void* p, std::size_t) noexcept { ::operator delete(p); }

}  // namespace asyncio::detail
