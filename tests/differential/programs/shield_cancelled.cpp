// Twin of shield_cancelled.py.
#include "../diff.hpp"

using asyncio::Coro;
using asyncio::Task;
using diff::log;
using diff::quoted;

static Coro<int> inner(double d, int v) {
    co_await asyncio::sleep(d);
    log("inner " + std::to_string(v) + " done");
    co_return v;
}

static Coro<void> via_shield(Task<int> t, std::string name) {
    try {
        int r = co_await asyncio::shield(t);
        log(name + " got " + std::to_string(r));
    } catch (const asyncio::CancelledError& e) {
        log(name + " CancelledError msg=" + quoted(e.message()));
    }
}

static Coro<void> direct(Task<int> t, std::string name) {
    int r = co_await t;
    log(name + " got " + std::to_string(r));
}

DIFF_PROGRAM(shield_cancelled) {
    auto t = asyncio::create_task(inner(10, 1));
    auto w = asyncio::create_task(via_shield(t, "shielder"));
    co_await asyncio::sleep(1);
    t.cancel("bye");
    co_await w;
    auto u = asyncio::create_task(inner(1, 2));
    auto w1 = asyncio::create_task(via_shield(u, "shielder"));
    auto w2 = asyncio::create_task(direct(u, "direct"));
    co_await w1;
    co_await w2;
    auto v = asyncio::create_task(inner(1, 3));
    auto w3 = asyncio::create_task(via_shield(v, "shielder"));
    co_await asyncio::sleep(0.5);
    w3.cancel();
    co_await asyncio::sleep(0);
    log(std::string("w3.done()=") + (w3.done() ? "True" : "False") + " v.done()=" + (v.done() ? "True" : "False"));
    co_await v;
    log("main done");
}
