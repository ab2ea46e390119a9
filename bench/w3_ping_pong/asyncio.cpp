// W3 ping-pong (docs/design/benchmarks-method.md), this library: two tasks pass a token through two queues of size 1;
// the ponger adds one on each round trip, so the token comes back as M.
#include <asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

asyncio::Coro<std::int64_t> ping(asyncio::Queue<std::int64_t>& out, asyncio::Queue<std::int64_t>& in, std::int64_t m) {
    std::int64_t token = 0;
    for (std::int64_t i = 0; i < m; ++i) {
        co_await out.put(token);
        token = co_await in.get();
    }
    co_return token;
}

asyncio::Coro<void> pong(asyncio::Queue<std::int64_t>& in, asyncio::Queue<std::int64_t>& out, std::int64_t m) {
    for (std::int64_t i = 0; i < m; ++i) {
        std::int64_t token = co_await in.get();
        co_await out.put(token + 1);
    }
}

asyncio::Coro<int> amain(std::int64_t m) {
    auto start = std::chrono::steady_clock::now();

    asyncio::Queue<std::int64_t> there(1);
    asyncio::Queue<std::int64_t> back(1);
    auto pinger = asyncio::create_task(ping(there, back, m));
    auto ponger = asyncio::create_task(pong(there, back, m));
    std::int64_t token = co_await pinger;
    co_await ponger;

    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (token != m) {
        std::fprintf(stderr, "w3 asyncio: token %lld, expected %lld\n", static_cast<long long>(token),
                     static_cast<long long>(m));
        co_return 1;
    }
    std::printf("RESULT workload=w3_ping_pong runtime=asyncio n=%lld ns_per_op=%.2f\n", static_cast<long long>(m),
                elapsed.count() / static_cast<double>(m));
    co_return 0;
}

int main(int argc, char** argv) {
    std::int64_t m = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    return asyncio::run(amain(m));
}
