// W8 spawn (docs/design/benchmarks-method.md), this library: N runs of /bin/true, C at a time (C workers, each
// spawning and awaiting one child after another), every exit code checked.
#include <asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<void> worker(int& next, int n, int& ok) {
    const std::vector<std::string> no_args;
    while (next < n) {
        ++next;
        asyncio::Process p = co_await asyncio::create_subprocess_exec("/bin/true", no_args);
        if (co_await p.wait() == 0) ++ok;
    }
}

asyncio::Coro<int> amain(int n, int c) {
    auto start = std::chrono::steady_clock::now();
    int next = 0;
    int ok = 0;
    std::vector<asyncio::Coro<void>> workers;
    for (int i = 0; i < c; ++i) workers.push_back(worker(next, n, ok));
    co_await asyncio::gather(std::move(workers));
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    if (ok != n) {
        std::fprintf(stderr, "w8 asyncio: %d of %d children exited 0\n", ok, n);
        co_return 1;
    }
    std::printf("RESULT workload=w8_spawn runtime=asyncio n=%d ns_per_op=%.2f\n", n, elapsed.count() / n);
    co_return 0;
}

int main(int argc, char** argv) { return asyncio::run(amain(argc > 1 ? std::atoi(argv[1]) : 1000, argc > 2 ? std::atoi(argv[2]) : 16)); }
