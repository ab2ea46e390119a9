// Twin of as_completed_timeout.py.
#include "../diff.hpp"

#include <vector>

using asyncio::Coro;
using diff::log;

static Coro<int> value(double d, int v) {
    co_await asyncio::sleep(d);
    log("value " + std::to_string(v) + " ready");
    co_return v;
}

DIFF_PROGRAM(as_completed_timeout) {
    auto& loop = asyncio::get_running_loop();
    auto a = asyncio::create_task(value(0.5, 1));
    auto b = asyncio::create_task(value(2, 2));
    co_await asyncio::sleep(0);
    auto it = asyncio::as_completed(std::vector{a, b}, 1.0);
    loop.call_later(1, [] { log("cb at the deadline"); });
    for (auto aw : it) {
        try {
            int r = co_await std::move(aw);
            log("as_completed -> " + std::to_string(r));
        } catch (const asyncio::TimeoutError&) {
            log("as_completed -> TimeoutError");
        }
    }
    co_await b;
    log("main done");
}
