// W6 call_soon_threadsafe throughput (docs/design/benchmarks-method.md), this library: 4 threads each post M
// callbacks to the running loop as fast as they can; the loop runs them all. ns per callback.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

asyncio::Coro<int> amain(std::int64_t per_thread) {
    constexpr int threads = 4;
    const std::int64_t total = per_thread * threads;
    auto& loop = asyncio::get_running_loop();
    auto done = loop.create_future<void>();
    std::int64_t count = 0;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
        posters.emplace_back([&] {
            for (std::int64_t i = 0; i < per_thread; ++i)
                loop.call_soon_threadsafe([&] {
                    if (++count == total) done.set_result();
                });
        });
    co_await done;
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    for (auto& p : posters) p.join();
    std::printf("RESULT workload=w6_threadsafe runtime=asyncio n=%lld ns_per_op=%.2f\n", static_cast<long long>(total),
                elapsed.count() / static_cast<double>(total));
    co_return 0;
}

int main(int argc, char** argv) { return asyncio::run(amain(argc > 1 ? std::atoll(argv[1]) : 250'000)); }
