// W4 sleepers (docs/design/benchmarks-method.md), this library: N tasks each sleep(1 s) once; spawn all, then await
// all. The figure is the overhead: wall time minus the 1 s every task sleeps.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<void> sleeper(std::int64_t& woken) {
    co_await asyncio::sleep(std::chrono::seconds(1));
    ++woken;
}

asyncio::Coro<int> amain(std::int64_t n) {
    auto start = std::chrono::steady_clock::now();

    std::int64_t woken = 0;
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleeper(woken)));
    for (auto& task : tasks) co_await task;

    std::chrono::duration<double, std::nano> overhead = std::chrono::steady_clock::now() - start - std::chrono::seconds(1);
    if (woken != n) {
        std::fprintf(stderr, "w4 asyncio: %lld woke, expected %lld\n", static_cast<long long>(woken),
                     static_cast<long long>(n));
        co_return 1;
    }
    std::printf("RESULT workload=w4_sleepers runtime=asyncio n=%lld ns_per_op=%.2f overhead_ms=%.3f\n",
                static_cast<long long>(n), overhead.count() / static_cast<double>(n), overhead.count() / 1e6);
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    return asyncio::run(amain(n));
}
