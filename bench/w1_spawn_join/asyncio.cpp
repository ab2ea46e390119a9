// W1 spawn-join (docs/design/benchmarks-method.md), this library: create N tasks that each return their index at
// once, keep the handles, then await each in order and sum the results.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<std::int64_t> value(std::int64_t i) { co_return i; }

asyncio::Coro<int> amain(std::int64_t n) {
    auto start = std::chrono::steady_clock::now();

    std::vector<asyncio::Task<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(value(i)));
    std::int64_t sum = 0;
    for (auto& task : tasks) sum += co_await std::move(task);  // consumes the handle, as Tokio's handle.await does

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (sum != n * (n - 1) / 2) {
        std::fprintf(stderr, "w1 asyncio: wrong sum %lld\n", static_cast<long long>(sum));
        co_return 1;
    }
    std::printf("RESULT workload=w1_spawn_join runtime=asyncio n=%lld ns_per_op=%.2f\n",
                static_cast<long long>(n), elapsed.count() / static_cast<double>(n));
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    return asyncio::run(amain(n));
}
