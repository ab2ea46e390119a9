// W1 spawn-join (docs/design/benchmarks-method.md), asio with C++20 coroutines on a single-threaded io_context.
// co_spawn(..., use_awaitable) is lazy: a task starts only when awaited (footnote in
// docs/benchmarks.md), so "spawn all, then await each" runs each task at its await.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

asio::awaitable<std::int64_t> value(std::int64_t i) { co_return i; }

asio::awaitable<int> amain(std::int64_t n) {
    auto start = std::chrono::steady_clock::now();
    auto ex = co_await asio::this_coro::executor;

    std::vector<asio::awaitable<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asio::co_spawn(ex, value(i), asio::use_awaitable));
    std::int64_t sum = 0;
    for (auto& task : tasks) sum += co_await std::move(task);

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (sum != n * (n - 1) / 2) {
        std::fprintf(stderr, "w1 asio: wrong sum %lld\n", static_cast<long long>(sum));
        co_return 1;
    }
    std::printf("RESULT workload=w1_spawn_join runtime=asio n=%lld ns_per_op=%.2f\n", static_cast<long long>(n),
                elapsed.count() / static_cast<double>(n));
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    asio::io_context ctx(ASIO_CONCURRENCY_HINT_UNSAFE);  // asio's documented hint for one thread: no locking
    int rc = 1;
    asio::co_spawn(ctx, amain(n), [&](std::exception_ptr e, int r) {
        if (e) std::rethrow_exception(e);
        rc = r;
    });
    ctx.run();
    return rc;
}
