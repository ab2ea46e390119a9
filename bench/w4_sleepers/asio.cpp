// W4 sleepers (docs/design/benchmarks-method.md), asio with C++20 coroutines on a single-threaded io_context: N
// coroutines each wait on a 1 s steady_timer; spawn all, then run until all are done.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

asio::awaitable<void> sleeper(std::int64_t& woken) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    ++woken;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    auto start = std::chrono::steady_clock::now();

    asio::io_context ctx(1);  // concurrency hint: one thread runs this context
    std::int64_t woken = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        asio::co_spawn(ctx, sleeper(woken), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    }
    ctx.run();

    std::chrono::duration<double, std::nano> overhead = std::chrono::steady_clock::now() - start - std::chrono::seconds(1);
    if (woken != n) {
        std::fprintf(stderr, "w4 asio: %lld woke, expected %lld\n", static_cast<long long>(woken),
                     static_cast<long long>(n));
        return 1;
    }
    std::printf("RESULT workload=w4_sleepers runtime=asio n=%lld ns_per_op=%.2f overhead_ms=%.3f\n",
                static_cast<long long>(n), overhead.count() / static_cast<double>(n), overhead.count() / 1e6);
    return 0;
}
