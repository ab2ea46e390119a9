// W6 call_soon_threadsafe throughput (docs/design/benchmarks-method.md), asio: 4 threads each asio::post M handlers
// to a single-threaded io_context; it runs them all. ns per handler.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    std::int64_t per_thread = argc > 1 ? std::atoll(argv[1]) : 250'000;
    constexpr int threads = 4;
    const std::int64_t total = per_thread * threads;
    asio::io_context ctx(1);
    auto guard = asio::make_work_guard(ctx);
    std::int64_t count = 0;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
        posters.emplace_back([&] {
            for (std::int64_t i = 0; i < per_thread; ++i)
                asio::post(ctx, [&] {
                    if (++count == total) guard.reset();
                });
        });
    ctx.run();
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    for (auto& p : posters) p.join();
    if (count != total) return 1;
    std::printf("RESULT workload=w6_threadsafe runtime=asio n=%lld ns_per_op=%.2f\n", static_cast<long long>(total),
                elapsed.count() / static_cast<double>(total));
    return 0;
}
