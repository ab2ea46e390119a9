// Twin of gather_cancel.py.
#include "../diff.hpp"

using asyncio::Coro;
using asyncio::Task;
using diff::log;
using diff::quoted;

static Coro<void> child(std::string name, double d) {
    try {
        co_await asyncio::sleep(d);
        log(name + " done");
    } catch (const asyncio::CancelledError&) {
        log(name + " cancelled");
        throw;
    }
}

static Coro<void> parent(Task<void> c1, Task<void> c2) {
    try {
        co_await asyncio::gather(c1, c2);
    } catch (const asyncio::CancelledError& e) {
        log("parent cancelled msg=" + quoted(e.message()));
        throw;
    }
}

static Coro<void> killer(Task<void> t, double d, std::string msg) {
    co_await asyncio::sleep(d);
    t.cancel(msg);
}

DIFF_PROGRAM(gather_cancel) {
    auto c1 = asyncio::create_task(child("c1", 10));
    auto c2 = asyncio::create_task(child("c2", 10));
    auto p = asyncio::create_task(parent(c1, c2));
    co_await asyncio::sleep(1);
    p.cancel("stop");
    log("after cancel c1.cancelling()=" + std::to_string(c1.cancelling()) + " c2.cancelling()=" + std::to_string(c2.cancelling()));
    try {
        co_await p;
    } catch (const asyncio::CancelledError&) {
        log(std::string("p cancelled=") + (p.cancelled() ? "True" : "False") + " c1.cancelled()=" + (c1.cancelled() ? "True" : "False"));
    }

    auto c3 = asyncio::create_task(child("c3", 10));
    auto c4 = asyncio::create_task(child("c4", 1));
    asyncio::create_task(killer(c3, 0.5, "bye"));
    auto [r0, r1] = co_await asyncio::gather(asyncio::return_exceptions, c3, c4);
    std::string msg;
    try {
        r0.value();
    } catch (const asyncio::CancelledError& e) {
        msg = "slot0 CancelledError msg=" + quoted(e.message());
    }
    log(msg + " slot1=" + (r1.has_value() ? "None" : "exception"));

    auto c5 = asyncio::create_task(child("c5", 10));
    auto c6 = asyncio::create_task(child("c6", 0.25));
    asyncio::create_task(killer(c5, 0.5, "bye2"));
    try {
        co_await asyncio::gather(c5, c6);
    } catch (const asyncio::CancelledError& e) {
        log("gather raised CancelledError msg=" + quoted(e.message()) + " c6.done()=" + (c6.done() ? "True" : "False"));
    }
    co_await asyncio::sleep(3);
    log("main done");
}
