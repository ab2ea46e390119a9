// W6 offload (docs/design/benchmarks-method.md), this library: N `co_await to_thread(f)` round trips, one after
// another, of a trivial function, on the loop's default executor.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

asyncio::Coro<int> amain(std::int64_t n) {
    auto start = std::chrono::steady_clock::now();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += co_await asyncio::to_thread([](std::int64_t v) { return v + 1; }, i);
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (sum != n * (n + 1) / 2) {
        std::fprintf(stderr, "w6 asyncio: sum %lld, expected %lld\n", static_cast<long long>(sum), static_cast<long long>(n * (n + 1) / 2));
        co_return 1;
    }
    std::printf("RESULT workload=w6_offload runtime=asyncio n=%lld ns_per_op=%.2f\n", static_cast<long long>(n),
                elapsed.count() / static_cast<double>(n));
    co_return 0;
}

int main(int argc, char** argv) { return asyncio::run(amain(argc > 1 ? std::atoll(argv[1]) : 100'000)); }
