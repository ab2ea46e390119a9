// tests/support/failing_allocator.hpp: an allocator that fails the Nth allocation, and
// with_allocation_failures(), which runs an operation once for every N until it succeeds
// with nothing failed (Seastar's with_allocation_failures).
//
// It replaces the global operator new and delete ([new.delete], every form), so include it
// in exactly one test executable, and in one of its files only: the replacement is the whole
// program's. Besides operator new, it counts the frame pool's refills: with
// FailingAllocator armed, asyncio::detail::pool_refill_hook is set, the pool carves one block
// per refill and every pool allocation that no free list serves goes through the hook (see
// include/asyncio/detail/frame_pool.hpp); arming also empties the pool's free lists (the
// blocks on them are abandoned: test memory, a few kilobytes per run).
//
//     FailingAllocator::arm(n);          // the nth allocation from now throws std::bad_alloc
//     ... the operation ...
//     bool injected = FailingAllocator::disarm();
#pragma once

#include <asyncio/detail/frame_pool.hpp>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace asyncio_test {

class FailingAllocator {
public:
    // Starts counting; the `fail_at`-th allocation from now (1-based) throws std::bad_alloc,
    // and so does every one after it until disarm() (as a heap that stays full would) if
    // `keep_failing`; 0 only counts.
    static void arm(std::size_t fail_at, bool keep_failing = false) noexcept {
        count_ = 0;
        fail_at_ = fail_at;
        keep_failing_ = keep_failing;
        injected_ = false;
        asyncio::detail::FramePool& pool = asyncio::detail::t_frame_pool;
        for (auto& head : pool.free) head = nullptr;
        pool.arena_end = pool.arena_next;  // nothing left to carve without a refill
        asyncio::detail::pool_refill_hook = &on_pool_refill;
        armed_ = true;
    }
    // Stops; true if a failure was injected since arm().
    static bool disarm() noexcept {
        armed_ = false;
        asyncio::detail::pool_refill_hook = nullptr;
        return injected_;
    }
    // Whether a failure was injected since arm() (while armed).
    [[nodiscard]] static bool injected() noexcept { return injected_; }
    // Allocations (operator new and pool refills) seen since arm().
    [[nodiscard]] static std::size_t count() noexcept { return count_; }
    [[nodiscard]] static bool armed() noexcept { return armed_; }

    // One allocation: false if it is to fail.
    static bool allow() noexcept {
        if (!armed_) return true;
        ++count_;
        if (fail_at_ != 0 && (count_ == fail_at_ || (keep_failing_ && count_ > fail_at_))) {
            injected_ = true;
            return false;
        }
        return true;
    }

private:
    static void on_pool_refill() {
        if (!allow()) throw std::bad_alloc();
    }

    static inline bool armed_ = false;
    static inline bool keep_failing_ = false;
    static inline bool injected_ = false;
    static inline std::size_t count_ = 0;
    static inline std::size_t fail_at_ = 0;
};

namespace failing_allocator_detail {

inline void* allocate(std::size_t n) noexcept {
    if (!FailingAllocator::allow()) return nullptr;
    return std::malloc(n == 0 ? 1 : n);
}

inline void* allocate_aligned(std::size_t n, std::align_val_t al) noexcept {
    if (!FailingAllocator::allow()) return nullptr;
    auto align = static_cast<std::size_t>(al);
    if (align < sizeof(void*)) align = sizeof(void*);
    std::size_t size = (n + align - 1) / align * align;  // aligned_alloc wants a multiple
    return std::aligned_alloc(align, size == 0 ? align : size);
}

// Out of line, so that g++ -O2 does not see free() inlined into a delete paired with a new
// and warn (-Wmismatched-new-delete): the replacements below are malloc/free pairs.
[[gnu::noinline]] inline void deallocate(void* p) noexcept { std::free(p); }

}  // namespace failing_allocator_detail

}  // namespace asyncio_test

// The replaceable global allocation functions: every form, so that a mismatched pair cannot
// reach the real allocator's free. Defined in the header on purpose: it is included once per
// program (see the top of this file).
// NOLINTBEGIN(misc-definitions-in-headers)
void* operator new(std::size_t n) {
    if (void* p = asyncio_test::failing_allocator_detail::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = asyncio_test::failing_allocator_detail::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return asyncio_test::failing_allocator_detail::allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return asyncio_test::failing_allocator_detail::allocate(n); }
void* operator new(std::size_t n, std::align_val_t al) {
    if (void* p = asyncio_test::failing_allocator_detail::allocate_aligned(n, al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
    if (void* p = asyncio_test::failing_allocator_detail::allocate_aligned(n, al)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    return asyncio_test::failing_allocator_detail::allocate_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    return asyncio_test::failing_allocator_detail::allocate_aligned(n, al);
}
void operator delete(void* p) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete(void* p, std::align_val_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p, std::align_val_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { asyncio_test::failing_allocator_detail::deallocate(p); }
// NOLINTEND(misc-definitions-in-headers)
