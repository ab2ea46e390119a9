// Twin of taskgroup_two_fail.py.
#include "../diff.hpp"

#include <stdexcept>

using asyncio::Coro;
using asyncio::TaskGroup;
using diff::log;

static Coro<void> fail(std::string name, double d) {
    co_await asyncio::sleep(d);
    log(name + " raises");
    throw std::invalid_argument(name);
}

static Coro<void> ok(std::string name, double d) {
    try {
        co_await asyncio::sleep(d);
        log(name + " done");
    } catch (const asyncio::CancelledError&) {
        log(name + " cancelled");
        throw;
    }
}

static Coro<void> group1(TaskGroup& tg) {
    tg.create_task(fail("a", 1));
    tg.create_task(fail("b", 1));
    tg.create_task(ok("c", 2));
    co_await asyncio::sleep(5);
}

static Coro<void> group2(TaskGroup& tg) {
    tg.create_task(ok("d", 1));
    tg.create_task(ok("e", 1));
    co_return;
}

DIFF_PROGRAM(taskgroup_two_fail) {
    try {
        co_await TaskGroup::run(group1);
    } catch (const asyncio::ExceptionGroup& eg) {
        std::string line = "group:";
        for (const auto& e : eg.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                line += std::string(" ") + x.what();
            }
        }
        log(line);
    }
    try {
        co_await TaskGroup::run(group2);
        log("after group");
    } catch (const std::exception& e) {
        log(std::string("unexpected ") + e.what());
    }
    log("main done");
}
