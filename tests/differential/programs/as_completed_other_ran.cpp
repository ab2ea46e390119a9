// Twin of as_completed_other_ran.py.
#include "../diff.hpp"

#include <vector>

using asyncio::Coro;
using asyncio::Task;
using diff::log;

static Coro<int> value(double d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}

static Coro<void> other(Task<int> x) {
    co_await x;
    log("other x ran");
}

DIFF_PROGRAM(as_completed_other_ran) {
    auto x = asyncio::create_task(value(0.5, 1));
    auto o = asyncio::create_task(other(x));  // awaits x after as_completed registered
    for (auto aw : asyncio::as_completed(std::vector{x})) {
        int r = co_await std::move(aw);
        log("as_completed -> " + std::to_string(r));
    }
    co_await o;
    auto done = asyncio::create_task(value(0, 2));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    auto later = asyncio::create_task(value(0, 3));
    for (auto aw : asyncio::as_completed(std::vector{done})) {
        log("awaiting an item already done");
        int r = co_await std::move(aw);
        log("as_completed -> " + std::to_string(r) + " later.done()=" + (later.done() ? "True" : "False"));
    }
    co_await later;
    log("main done");
}
