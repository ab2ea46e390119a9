// Twin of timeout_alarm_and_call_later.py.
#include "../diff.hpp"

using asyncio::Coro;
using diff::log;

static Coro<void> timed_body() {
    asyncio::get_running_loop().call_later(1, [] { log("cb"); });
    co_await asyncio::sleep(5);
}

static Coro<void> body() {
    try {
        co_await asyncio::timeout(1.0, timed_body());
    } catch (const asyncio::TimeoutError&) {
        log("body timed out");
    }
}

DIFF_PROGRAM(timeout_alarm_and_call_later) {
    auto& loop = asyncio::get_running_loop();
    auto t = asyncio::create_task(body());
    co_await asyncio::sleep(0);
    loop.call_later(1, [] { log("cb after"); });
    co_await t;
    log("main done");
}
