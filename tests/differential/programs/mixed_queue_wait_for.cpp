// Twin of mixed_queue_wait_for.py. CPython 3.12's wait_for(coro, t) is
// `async with timeout(t): return await coro`, which asyncio::timeout spells directly.
#include "../diff.hpp"

#include <optional>

using asyncio::Coro;
using diff::log;

using Q = asyncio::Queue<std::optional<int>>;

static Coro<void> producer(Q& q) {
    for (int i = 0; i < 4; ++i) {
        co_await asyncio::sleep(0.5);
        co_await q.put(i);
        log("put " + std::to_string(i));
    }
    co_await q.put(std::nullopt);
    co_await q.put(std::nullopt);
}

static Coro<std::optional<int>> get(Q& q) { co_return co_await q.get(); }

static Coro<void> consumer(std::string name, Q& q, double timeout) {
    while (true) {
        std::optional<int> item;
        try {
            item = co_await asyncio::wait_for(get(q), timeout);
        } catch (const asyncio::TimeoutError&) {
            log(name + " timeout");
            continue;
        }
        if (!item) {
            log(name + " end");
            co_return;
        }
        log(name + " got " + std::to_string(*item));
        co_await asyncio::sleep(0.25);
    }
}

static Coro<void> sleep_coro(double d) { co_await asyncio::sleep(d); }
static Coro<std::string> sleep_result(double d, std::string r) { co_return co_await asyncio::sleep(d, r); }

DIFF_PROGRAM(mixed_queue_wait_for) {
    Q q(1);
    co_await asyncio::gather(producer(q), consumer("c1", q, 0.625), consumer("c2", q, 1));
    try {
        co_await asyncio::wait_for(sleep_coro(2), 1.0);
    } catch (const asyncio::TimeoutError&) {
        log("wait_for timeout");
    }
    std::string r = co_await asyncio::wait_for(sleep_result(0.5, "fast"), 1.0);
    log("wait_for -> " + r);
    log("main done");
}
