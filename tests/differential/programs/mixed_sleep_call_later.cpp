// Twin of mixed_sleep_call_later.py.
#include "../diff.hpp"

#include <vector>

using asyncio::Coro;
using diff::log;

static Coro<std::string> worker(std::string name, std::vector<double> steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        co_await asyncio::sleep(steps[i]);
        log(name + " step " + std::to_string(i));
    }
    co_return name;
}

DIFF_PROGRAM(mixed_sleep_call_later) {
    auto& loop = asyncio::get_running_loop();
    loop.call_soon([] { log("soon 1"); });
    auto t1 = asyncio::create_task(worker("w1", {0, 0.25, 0, 0.5}));
    loop.call_later(0.5, [] { log("later 0.5 a"); });
    auto t2 = asyncio::create_task(worker("w2", {0.5, 0, 0.5}));
    loop.call_later(0.5, [] { log("later 0.5 b"); });
    loop.call_soon([] { log("soon 2"); });
    loop.call_later(1, [] { asyncio::create_task(worker("w3", {0, 0})); });
    auto h = loop.call_later(1, [] { log("never"); });
    h.cancel();
    co_await asyncio::sleep(0);
    log("main after sleep(0)");
    auto [r1, r2] = co_await asyncio::gather(t1, t2);
    log("gather -> ['" + r1 + "', '" + r2 + "']");
    co_await asyncio::sleep(1);
    log("main done");
}
