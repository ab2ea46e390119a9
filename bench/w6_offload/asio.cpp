// W6 offload (docs/design/benchmarks-method.md), asio: N round trips from a coroutine on a single-threaded
// io_context to an asio::thread_pool and back (asio::post to the pool, the call, asio::post back), one after another.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

asio::awaitable<void> run(asio::thread_pool& pool, std::int64_t n, std::int64_t& sum) {
    auto home = co_await asio::this_coro::executor;
    for (std::int64_t i = 0; i < n; ++i) {
        co_await asio::post(pool.get_executor(), asio::use_awaitable);  // now on a pool thread
        std::int64_t v = i + 1;                                         // the call
        co_await asio::post(home, asio::use_awaitable);                 // back on the loop
        sum += v;
    }
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 100'000;
    auto start = std::chrono::steady_clock::now();
    asio::io_context ctx(1);
    asio::thread_pool pool;  // asio's default size: twice the cores
    std::int64_t sum = 0;
    asio::co_spawn(ctx, run(pool, n, sum), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    pool.join();
    if (sum != n * (n + 1) / 2) {
        std::fprintf(stderr, "w6 asio: sum %lld\n", static_cast<long long>(sum));
        return 1;
    }
    std::printf("RESULT workload=w6_offload runtime=asio n=%lld ns_per_op=%.2f\n", static_cast<long long>(n),
                elapsed.count() / static_cast<double>(n));
    return 0;
}
