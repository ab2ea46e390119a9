// Twin of wait_first_completed.py.
#include "../diff.hpp"

#include <utility>
#include <vector>

using asyncio::Coro;
using asyncio::Task;
using diff::log;

static Coro<void> a_body(asyncio::Event& ev) {
    co_await asyncio::sleep(1);
    asyncio::get_running_loop().call_soon([&ev] { ev.set(); });
    log("a done");
}

static Coro<void> b_body(asyncio::Event& ev) {
    co_await ev.wait();
    log("b done");
}

static Coro<void> sleeper(std::string name, double d) {
    co_await asyncio::sleep(d);
    log(name + " done");
}

using Named = std::vector<std::pair<std::string, Task<void>>>;

template <class Set>
static std::string names(const Set& s, const Named& tasks) {
    std::string out;
    for (const auto& [n, t] : tasks)
        if (s.contains(t)) out += (out.empty() ? "" : ",") + n;
    return out.empty() ? "-" : out;
}

template <class R>
static void report(const R& r, const Named& tasks) {
    log("wait -> done=" + names(r.first, tasks) + " pending=" + names(r.second, tasks));
}

DIFF_PROGRAM(wait_first_completed) {
    asyncio::Event ev;
    auto a = asyncio::create_task(a_body(ev));
    auto b = asyncio::create_task(b_body(ev));
    Named tasks{{"a", a}, {"b", b}};
    std::vector<Task<void>> ab{a, b};
    auto r1 = co_await asyncio::wait(ab, asyncio::FIRST_COMPLETED);
    report(r1, tasks);
    auto c = asyncio::create_task(sleeper("c", 1));
    auto d = asyncio::create_task(sleeper("d", 1));
    tasks = {{"c", c}, {"d", d}};
    std::vector<Task<void>> cd{c, d};
    auto r2 = co_await asyncio::wait(cd, asyncio::FIRST_COMPLETED);
    report(r2, tasks);
    auto e = asyncio::create_task(sleeper("e", 1));
    auto f = asyncio::create_task(sleeper("f", 3));
    tasks = {{"e", e}, {"f", f}};
    std::vector<Task<void>> ef{e, f};
    auto r3 = co_await asyncio::wait(ef, 2.0);
    report(r3, tasks);
    auto r4 = co_await asyncio::wait(ef);
    report(r4, tasks);
    log("main done");
}
