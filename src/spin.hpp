// src/spin.hpp: a bounded busy wait, for the two places where a thread hands work to another
// and the answer usually comes back within microseconds (a to_thread call: the loop waiting
// for the result, the worker waiting for the next call). Sleeping there costs a futex or an
// eventfd wake-up on each side, about 5 us each; spinning a little first costs CPU only while
// it spins, and never longer than `limit`. Never installed.
#pragma once

#include <chrono>

namespace asyncio::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// True as soon as `ready()` is; false once `limit` has passed without it.
template <class Ready>
bool spin_until(Ready ready, std::chrono::nanoseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= deadline) return ready();
    }
}

}  // namespace asyncio::detail
