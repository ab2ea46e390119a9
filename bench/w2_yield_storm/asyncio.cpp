// W2 yield storm (docs/design/benchmarks-method.md), this library: T tasks each yield to the loop (sleep(0)) Y times.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<void> yielder(std::int64_t yields, std::int64_t& count) {
    for (std::int64_t i = 0; i < yields; ++i) {
        co_await asyncio::sleep(0);
        ++count;
    }
}

asyncio::Coro<int> amain(std::int64_t n_tasks, std::int64_t yields) {
    auto start = std::chrono::steady_clock::now();

    std::int64_t count = 0;
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n_tasks));
    for (std::int64_t i = 0; i < n_tasks; ++i) tasks.push_back(asyncio::create_task(yielder(yields, count)));
    for (auto& task : tasks) co_await task;

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    std::int64_t total = n_tasks * yields;
    if (count != total) {
        std::fprintf(stderr, "w2 asyncio: %lld yields, expected %lld\n", static_cast<long long>(count),
                     static_cast<long long>(total));
        co_return 1;
    }
    std::printf("RESULT workload=w2_yield_storm runtime=asyncio n=%lld ns_per_op=%.2f\n",
                static_cast<long long>(total), elapsed.count() / static_cast<double>(total));
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t n_tasks = argc > 1 ? std::atoll(argv[1]) : 1'000;
    std::int64_t yields = argc > 2 ? std::atoll(argv[2]) : 1'000;
    return asyncio::run(amain(n_tasks, yields));
}
