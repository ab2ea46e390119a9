// tests/support/counted.hpp: Counted, a value that counts its live copies (cppcoro's
// counted.hpp), to prove that a frame and its arguments were destroyed; and the sleepers
// that hold one in their frame.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/tasks.hpp>

#include <atomic>
#include <chrono>

struct Counted {
    // Atomic: the cross-thread tests make and destroy them on worker threads.
    static inline std::atomic<int> alive_count = 0;
    static inline std::atomic<int> constructed = 0;

    Counted() { ++alive_count, ++constructed; }
    Counted(const Counted&) { ++alive_count, ++constructed; }
    Counted(Counted&&) noexcept { ++alive_count, ++constructed; }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) noexcept = default;
    ~Counted() { --alive_count; }

    static int alive() { return alive_count; }
    static void reset() { alive_count = 0, constructed = 0; }
};

namespace asyncio_test {

// Sleeps `d` with `c` in its frame: Counted::alive() shows whether the frame is gone.
inline asyncio::Coro<void> counted_sleep(Counted c, std::chrono::nanoseconds d) {
    (void)c;
    co_await asyncio::sleep(d);
}

// counted_sleep that returns 1.
inline asyncio::Coro<int> counted_sleeper(Counted c, std::chrono::nanoseconds d) {
    (void)c;
    co_await asyncio::sleep(d);
    co_return 1;
}

}  // namespace asyncio_test
