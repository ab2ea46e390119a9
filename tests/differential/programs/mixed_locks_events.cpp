// Twin of mixed_locks_events.py.
#include "../diff.hpp"

#include <vector>

using asyncio::Coro;
using asyncio::Task;
using diff::log;

static Coro<void> locker(std::string name, asyncio::Lock& lock, double d) {
    co_await asyncio::sleep(d);
    log(name + " wants");
    auto guard = co_await lock.scoped();
    log(name + " holds");
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0.25);
    log(name + " releases");
}

static Coro<void> waiter(std::string name, asyncio::Event& ev) {
    co_await ev.wait();
    log(name + " saw event");
}

static Coro<void> cond_waiter(std::string name, asyncio::Condition& cond) {
    auto guard = co_await cond.scoped();
    co_await cond.wait();
    log(name + " notified");
}

DIFF_PROGRAM(mixed_locks_events) {
    asyncio::Lock lock;
    co_await asyncio::gather(locker("l1", lock, 0), locker("l2", lock, 0), locker("l3", lock, 0.25));
    asyncio::Event ev;
    std::vector<Task<void>> ws;
    for (int i = 0; i < 3; ++i) ws.push_back(asyncio::create_task(waiter("e" + std::to_string(i), ev)));
    co_await asyncio::sleep(0.5);
    asyncio::get_running_loop().call_soon([] { log("soon before set"); });
    ev.set();
    log("set");
    co_await asyncio::gather(ws);
    asyncio::Condition cond;
    std::vector<Task<void>> cs;
    for (int i = 0; i < 3; ++i) cs.push_back(asyncio::create_task(cond_waiter("c" + std::to_string(i), cond)));
    co_await asyncio::sleep(0.5);
    {
        auto guard = co_await cond.scoped();
        cond.notify(2);
        log("notified 2");
    }
    co_await asyncio::sleep(0.5);
    {
        auto guard = co_await cond.scoped();
        cond.notify_all();
    }
    co_await asyncio::gather(cs);
    log("main done");
}
