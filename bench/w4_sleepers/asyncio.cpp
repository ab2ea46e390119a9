// W4 sleepers (docs/design/benchmarks-method.md), this library: N tasks each sleep(1 s) once; spawn all, then await
// all. The figure is the overhead: wall time minus the 1 s every task sleeps. With a second argument J > 0, W4j: each
// sleep is lengthened by a jitter of 0 to J-1 µs from the benchmark's shared generator (the same sequence in every
// runtime), and the overhead is the wall time minus the longest sleep.
#include <asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<void> sleeper(std::int64_t& woken, std::chrono::microseconds delay) {
    co_await asyncio::sleep(delay);
    ++woken;
}

// The jitter generator every W4j program shares: a 32-bit LCG (Numerical Recipes' constants) from seed 12345, its
// bits 8-31 modulo J.
std::uint32_t lcg_state = 12345;
std::int64_t next_jitter_us(std::int64_t j) {
    lcg_state = lcg_state * 1664525U + 1013904223U;
    return static_cast<std::int64_t>(lcg_state >> 8) % j;
}

asyncio::Coro<int> amain(std::int64_t n, std::int64_t j) {
    auto start = std::chrono::steady_clock::now();

    std::int64_t woken = 0;
    std::chrono::microseconds longest{0};
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        std::chrono::microseconds delay = std::chrono::seconds(1) + std::chrono::microseconds(j > 0 ? next_jitter_us(j) : 0);
        longest = std::max(longest, delay);
        tasks.push_back(asyncio::create_task(sleeper(woken, delay)));
    }
    for (auto& task : tasks) co_await task;

    std::chrono::duration<double, std::nano> overhead = std::chrono::steady_clock::now() - start - longest;
    if (woken != n) {
        std::fprintf(stderr, "w4 asyncio: %lld woke, expected %lld\n", static_cast<long long>(woken),
                     static_cast<long long>(n));
        co_return 1;
    }
    std::printf("RESULT workload=%s runtime=asyncio n=%lld ns_per_op=%.2f overhead_ms=%.3f\n",
                j > 0 ? "w4j_jitter" : "w4_sleepers", static_cast<long long>(n), overhead.count() / static_cast<double>(n),
                overhead.count() / 1e6);
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    std::int64_t j = argc > 2 ? std::atoll(argv[2]) : 0;
    return asyncio::run(amain(n, j));
}
