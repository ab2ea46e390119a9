// tests/consumer/common/consumer.cpp: what every consumer project runs, through the public
// headers only: coroutines on the real clock and on the virtual clock, each result checked.
// Prints one line per check; exits 1 if any result is not the expected one.
#include <asyncio.hpp>
#include <asyncio/testing.hpp>
#include <asyncio/version.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>

#include "consumer_checks.hpp"

namespace {

asyncio::Coro<int> add_after(double delay, int a, int b) {
    co_await asyncio::sleep(delay);
    co_return a + b;
}

// Real clock, a few milliseconds: gather, a TaskGroup and a Queue.
asyncio::Coro<int> real_main() {
    auto [x, y] = co_await asyncio::gather(add_after(0.002, 1, 2), add_after(0.001, 3, 4));
    asyncio::Queue<int> queue;
    int total = 0;
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        tg.create_task([&]() -> asyncio::Coro<> {
            for (int i = 1; i <= 4; ++i) co_await queue.put(i);
        });
        tg.create_task([&]() -> asyncio::Coro<> {
            for (int i = 0; i < 4; ++i) total += co_await queue.get();
        });
        co_return;
    });
    co_return x * 100 + y + total * 1000;  // 3 * 100 + 7 + 10 * 1000
}

// Virtual clock: a 30-second timeout over a 60-second sleep fires at exactly 30 s.
asyncio::Coro<long long> virtual_main() {
    auto& loop = asyncio::get_running_loop();
    try {
        co_await asyncio::timeout(30, asyncio::sleep(60));
    } catch (const asyncio::TimeoutError&) {
        co_return std::chrono::duration_cast<std::chrono::milliseconds>(loop.time().time_since_epoch()).count();
    }
    co_return -1;
}

}  // namespace

int main() {
    consumer::Checks checks;
    checks.expect_eq("asyncio::run", asyncio::run(real_main()), 10307);
    checks.expect_eq("asyncio::testing::run, virtual ms", asyncio::testing::run(virtual_main()), 30000LL);
    checks.expect_eq("version string", std::string(asyncio::version), std::string(ASYNCIO_VERSION_STRING));
    checks.expect_eq("version macros",
                     std::to_string(ASYNCIO_VERSION_MAJOR) + "." + std::to_string(ASYNCIO_VERSION_MINOR) + "." +
                         std::to_string(ASYNCIO_VERSION_PATCH),
                     std::string(ASYNCIO_VERSION_STRING));
#ifdef CONSUMER_EXPECT_VERSION
    // The build system's idea of the version (find_package / pkg-config) is the header's.
    checks.expect_eq("version seen by the build", std::string(CONSUMER_EXPECT_VERSION), std::string(asyncio::version));
#endif
    return checks.exit_code();
}
