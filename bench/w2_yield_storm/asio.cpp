// W2 yield storm (docs/design/benchmarks-method.md), asio with C++20 coroutines on a single-threaded io_context:
// T coroutines each yield to the io_context Y times by posting themselves back to it.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

asio::awaitable<void> yielder(std::int64_t yields, std::int64_t& count) {
    auto ex = co_await asio::this_coro::executor;
    for (std::int64_t i = 0; i < yields; ++i) {
        co_await asio::post(ex, asio::use_awaitable);
        ++count;
    }
}

int main(int argc, char** argv) {
    std::int64_t n_tasks = argc > 1 ? std::atoll(argv[1]) : 1'000;
    std::int64_t yields = argc > 2 ? std::atoll(argv[2]) : 1'000;
    auto start = std::chrono::steady_clock::now();

    asio::io_context ctx(ASIO_CONCURRENCY_HINT_UNSAFE);  // asio's documented hint for one thread: no locking
    std::int64_t count = 0;
    std::int64_t finished = 0;
    for (std::int64_t i = 0; i < n_tasks; ++i) {
        asio::co_spawn(ctx, yielder(yields, count), [&](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            ++finished;
        });
    }
    ctx.run();  // returns once every coroutine has finished

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    std::int64_t total = n_tasks * yields;
    if (count != total || finished != n_tasks) {
        std::fprintf(stderr, "w2 asio: %lld yields, expected %lld\n", static_cast<long long>(count),
                     static_cast<long long>(total));
        return 1;
    }
    std::printf("RESULT workload=w2_yield_storm runtime=asio n=%lld ns_per_op=%.2f\n", static_cast<long long>(total),
                elapsed.count() / static_cast<double>(total));
    return 0;
}
