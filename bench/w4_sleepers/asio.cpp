// W4 sleepers (docs/design/benchmarks-method.md), asio with C++20 coroutines on a single-threaded io_context: N
// coroutines each wait on a 1 s steady_timer; spawn all, then run until all are done. With a second argument J > 0,
// W4j: each wait lengthened by 0 to J-1 µs from the shared generator (see bench/w4_sleepers/asyncio.cpp).
#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

asio::awaitable<void> sleeper(std::int64_t& woken, std::chrono::microseconds delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    ++woken;
}

std::uint32_t lcg_state = 12345;
std::int64_t next_jitter_us(std::int64_t j) {
    lcg_state = lcg_state * 1664525U + 1013904223U;
    return static_cast<std::int64_t>(lcg_state >> 8) % j;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    std::int64_t j = argc > 2 ? std::atoll(argv[2]) : 0;
    auto start = std::chrono::steady_clock::now();

    asio::io_context ctx(ASIO_CONCURRENCY_HINT_UNSAFE);  // asio's documented hint for one thread: no locking
    std::int64_t woken = 0;
    std::chrono::microseconds longest{0};
    for (std::int64_t i = 0; i < n; ++i) {
        std::chrono::microseconds delay = std::chrono::seconds(1) + std::chrono::microseconds(j > 0 ? next_jitter_us(j) : 0);
        longest = std::max(longest, delay);
        asio::co_spawn(ctx, sleeper(woken, delay), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    }
    ctx.run();

    std::chrono::duration<double, std::nano> overhead = std::chrono::steady_clock::now() - start - longest;
    if (woken != n) {
        std::fprintf(stderr, "w4 asio: %lld woke, expected %lld\n", static_cast<long long>(woken),
                     static_cast<long long>(n));
        return 1;
    }
    std::printf("RESULT workload=%s runtime=asio n=%lld ns_per_op=%.2f overhead_ms=%.3f\n",
                j > 0 ? "w4j_jitter" : "w4_sleepers", static_cast<long long>(n), overhead.count() / static_cast<double>(n), overhead.count() / 1e6);
    return 0;
}
