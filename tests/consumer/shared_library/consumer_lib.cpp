// tests/consumer/shared_library/consumer_lib.cpp: a shared library whose implementation runs
// asyncio (the library's thread-local loop and task pointers live in this .so).
#include "consumer_lib.hpp"

#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <chrono>
#include <vector>

namespace {

asyncio::Coro<long long> sum_with_workers(int workers, int n) {
    asyncio::Queue<int> queue;
    for (int i = 1; i <= n; ++i) queue.put_nowait(i);
    long long sum = 0;
    auto worker = [&]() -> asyncio::Coro<> {
        while (!queue.empty()) {
            sum += queue.get_nowait();
            co_await asyncio::sleep(0.0001);
        }
    };
    std::vector<asyncio::Task<void>> tasks;
    for (int w = 0; w < workers; ++w) tasks.push_back(asyncio::create_task(worker()));
    co_await asyncio::gather(tasks);
    co_return sum;
}

asyncio::Coro<long long> timeout_ms() {
    try {
        co_await asyncio::timeout(30, asyncio::sleep(3600));
    } catch (const asyncio::TimeoutError&) {
        auto t = asyncio::get_running_loop().time().time_since_epoch();
        co_return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
    }
    co_return -1;
}

}  // namespace

long long consumer_lib_run(int workers, int n) {
    long long sum = asyncio::run(sum_with_workers(workers, n));
    return sum + asyncio::testing::run(timeout_ms()) * 1000000;
}
