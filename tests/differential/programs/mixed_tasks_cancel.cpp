// Twin of mixed_tasks_cancel.py.
#include "../diff.hpp"

#include <vector>

using asyncio::Coro;
using asyncio::TaskGroup;
using diff::log;

static Coro<std::string> leaf(std::string name, double d) {
    try {
        co_await asyncio::sleep(d);
        log(name + " done");
        co_return name;
    } catch (const asyncio::CancelledError&) {
        log(name + " cancelled");
        throw;
    }
}

static Coro<std::string> middle(std::string name, double d) {
    auto t = asyncio::create_task(leaf(name + ".leaf", d));
    std::string r = co_await t;
    log(name + " got " + r);
    co_return r;
}

static Coro<void> group(TaskGroup& tg) {
    const double ds[] = {0.5, 0.25, 0.5, 0};
    for (int i = 0; i < 4; ++i) {
        auto t = tg.create_task(leaf("g" + std::to_string(i), ds[i]));
        t.add_done_callback([i](const asyncio::AnyTask&) { log("g" + std::to_string(i) + " callback"); });
    }
    log("body done");
    co_return;
}

DIFF_PROGRAM(mixed_tasks_cancel) {
    auto m = asyncio::create_task(middle("m", 2));
    m.add_done_callback([](const asyncio::AnyTask& t) { log(std::string("m callback cancelled=") + (t.cancelled() ? "True" : "False")); });
    co_await asyncio::sleep(1);
    m.cancel();
    try {
        co_await m;
    } catch (const asyncio::CancelledError&) {
        log("main saw m cancelled");
    }
    co_await TaskGroup::run(group);
    log("after group");
    auto x = asyncio::create_task(leaf("x", 0.5));
    auto y = asyncio::create_task(middle("y", 0.5));
    auto [a, b, c] = co_await asyncio::gather(x, y, leaf("z", 0.5));
    log("gather -> ['" + a + "', '" + b + "', '" + c + "']");
    log("main done");
}
