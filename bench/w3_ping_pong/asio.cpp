// W3 ping-pong (docs/design/benchmarks-method.md), asio with C++20 coroutines on a single-threaded io_context: two
// coroutines pass a token through two channels of capacity 1 (asio::experimental::channel,
// asio's queue between coroutines); the ponger adds one on each round trip. Each send and receive tries the channel's
// synchronous try_send / try_receive first and suspends (async_send / async_receive) only when it must wait, as
// asio's channel documentation suggests for a hot path.
#include <asio.hpp>
#include <asio/experimental/channel.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

using Channel = asio::experimental::channel<void(asio::error_code, std::int64_t)>;

asio::awaitable<void> ping(Channel& out, Channel& in, std::int64_t m, std::int64_t& result) {
    std::int64_t token = 0;
    auto take = [&token](asio::error_code, std::int64_t t) { token = t; };
    for (std::int64_t i = 0; i < m; ++i) {
        if (!out.try_send(asio::error_code{}, token))
            co_await out.async_send(asio::error_code{}, token, asio::use_awaitable);
        if (!in.try_receive(take)) token = co_await in.async_receive(asio::use_awaitable);
    }
    result = token;
}

asio::awaitable<void> pong(Channel& in, Channel& out, std::int64_t m) {
    std::int64_t token = 0;
    auto take = [&token](asio::error_code, std::int64_t t) { token = t; };
    for (std::int64_t i = 0; i < m; ++i) {
        if (!in.try_receive(take)) token = co_await in.async_receive(asio::use_awaitable);
        if (!out.try_send(asio::error_code{}, token + 1))
            co_await out.async_send(asio::error_code{}, token + 1, asio::use_awaitable);
    }
}

int main(int argc, char** argv) {
    std::int64_t m = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    auto start = std::chrono::steady_clock::now();

    asio::io_context ctx(ASIO_CONCURRENCY_HINT_UNSAFE);  // asio's documented hint for one thread: no locking
    Channel there(ctx, 1);
    Channel back(ctx, 1);
    std::int64_t token = -1;
    auto rethrow = [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    };
    asio::co_spawn(ctx, ping(there, back, m, token), rethrow);
    asio::co_spawn(ctx, pong(there, back, m), rethrow);
    ctx.run();

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (token != m) {
        std::fprintf(stderr, "w3 asio: token %lld, expected %lld\n", static_cast<long long>(token),
                     static_cast<long long>(m));
        return 1;
    }
    std::printf("RESULT workload=w3_ping_pong runtime=asio n=%lld ns_per_op=%.2f\n", static_cast<long long>(m),
                elapsed.count() / static_cast<double>(m));
    return 0;
}
