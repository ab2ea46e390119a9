// Twin of timers_due_together.py.
#include "../diff.hpp"

using asyncio::Coro;
using diff::log;

static Coro<void> sleeper(std::string name, double d) {
    co_await asyncio::sleep(d);
    log(name + " woke");
}

DIFF_PROGRAM(timers_due_together) {
    auto& loop = asyncio::get_running_loop();
    auto t1 = asyncio::create_task(sleeper("s1", 1));
    co_await asyncio::sleep(0);
    loop.call_later(1, [] { log("cb1"); });
    auto t2 = asyncio::create_task(sleeper("s2", 1));
    co_await asyncio::sleep(0);
    loop.call_later(1, [] { log("cb2"); });
    co_await t1;
    co_await t2;
    log("main done");
}
