// src/spin.hpp: a bounded busy wait, for the two places where a thread hands work to another
// and the answer usually comes back within microseconds (a to_thread call: the loop waiting
// for the result, the worker waiting for the next call). Sleeping there costs a futex or an
// eventfd wake-up on each side, about 5 us each; spinning a little first costs CPU only while
// it spins, and never longer than `limit`. Never installed.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

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
        // Let the other side run if it shares this core (a pause does not give it way).
        std::this_thread::yield();
    }
}

// A lock for critical sections of a few stores (the mailbox's queue), where std::mutex would
// put a contended poster to sleep in the kernel for longer than the section lasts. It yields
// after a short spin, so that a holder preempted on this core gets to finish. Lockable.
class SpinLock {
public:
    void lock() noexcept {
        for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
            while (locked_.load(std::memory_order_relaxed)) {
                if (++spins > 128) {
                    std::this_thread::yield();
                    spins = 0;
                } else {
                    cpu_relax();
                }
            }
        }
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace asyncio::detail
