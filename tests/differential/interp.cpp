// tests/differential/interp.cpp: `differential_programs --interpret FILE` runs a generated
// program (random/gen.py's little language) on asyncio::testing's virtual clock, printing
// the trace interp.py prints for it on CPython. Each op mirrors one line of interp.py.
#include "diff.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace diff {
namespace {

using asyncio::Coro;
using asyncio::Task;

struct Op {
    std::string kind;
    std::vector<std::string> args;
    std::vector<Op> block;
};

std::map<int, std::vector<Op>> parse(std::istream& in) {
    std::map<int, std::vector<Op>> bodies;
    std::vector<std::vector<Op>*> stack;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string s; words >> s;) w.push_back(s);
        if (w.empty() || w[0][0] == '#') continue;
        if (w[0] == "body") {
            stack = {&bodies[std::stoi(w[1])]};
        } else if (w[0] == "end") {
            stack.pop_back();
        } else {
            stack.back()->push_back(Op{w[0], {w.begin() + 1, w.end()}, {}});
            if (w[0] == "timeout" || w[0] == "lock") stack.push_back(&stack.back()->back().block);
        }
    }
    return bodies;
}

struct World {
    std::map<int, std::vector<Op>> bodies;
    std::map<int, Task<int>> tasks;
    std::map<int, std::unique_ptr<asyncio::Event>> events;
    std::map<int, std::unique_ptr<asyncio::Queue<int>>> queues;
    std::map<int, std::unique_ptr<asyncio::Lock>> locks;
    int callbacks = 0;

    template <class T>
    static T& get(std::map<int, std::unique_ptr<T>>& m, const std::string& k) {
        auto& p = m[std::stoi(k)];
        if (!p) p = std::make_unique<T>();
        return *p;
    }
};

double seconds(const std::string& s) { return std::stod(s); }

Coro<int> body(World& w, int i);

// Coros that await inline, as `await ev.wait()` does inside interp.py's `async with timeout`.
Coro<void> event_wait(asyncio::Event& ev) { co_await ev.wait(); }
Coro<int> queue_get(asyncio::Queue<int>& q) { co_return co_await q.get(); }

enum class How {
    await,
    shield,
    wait_for
};

// The outcome of awaiting a child (directly, through shield, or with wait_for), as
// interp.py prints it. Every awaited temporary is named first: g++ 12 miscompiles a
// closure or awaiter temporary that lives across a co_await in some frames
// (docs/differences.md, compiler pitfalls).
Coro<std::string> outcome(Task<int> t, How how, double d) {
    try {
        int r = 0;
        if (how == How::await) {
            r = co_await t;
        } else if (how == How::shield) {
            auto aw = asyncio::shield(t);
            r = co_await aw;
        } else {
            Coro<int> c = asyncio::wait_for(t, d);
            r = co_await std::move(c);
        }
        co_return std::to_string(r);
    } catch (const asyncio::CancelledError&) {
        co_return "cancelled";
    } catch (const asyncio::TimeoutError&) {
        co_return "timeout";
    } catch (const std::runtime_error& e) {
        co_return std::string("error ") + e.what();
    }
}

Coro<void> run_ops(World& w, const std::string& name, const std::vector<Op>& ops, std::vector<int>& spawned) {
    auto& loop = asyncio::get_running_loop();
    for (const Op& op : ops) {
        const auto& a = op.args;
        if (op.kind == "sleep") {
            co_await asyncio::sleep(seconds(a[0]));
            log(name + " slept " + a[0]);
        } else if (op.kind == "spawn") {
            int k = std::stoi(a[0]);
            w.tasks[k] = asyncio::create_task(body(w, k));
            spawned.push_back(k);
            log(name + " spawned T" + a[0]);
        } else if (op.kind == "call_later" || op.kind == "call_soon") {
            std::string msg = "cb" + std::to_string(++w.callbacks) + " from " + name;
            if (op.kind == "call_later")
                loop.call_later(seconds(a[0]), [msg] { log(msg); });
            else
                loop.call_soon([msg] { log(msg); });
        } else if (op.kind == "await" || op.kind == "shield" || op.kind == "wait_for") {
            Task<int> t = w.tasks.at(std::stoi(a[0]));
            How how = op.kind == "await" ? How::await : (op.kind == "shield" ? How::shield : How::wait_for);
            Coro<std::string> c = outcome(t, how, how == How::wait_for ? seconds(a[1]) : 0.0);
            std::string r = co_await std::move(c);
            log(name + " " + op.kind + " T" + a[0] + " -> " + r);
        } else if (op.kind == "gather") {
            std::vector<Task<int>> ts;
            for (const auto& k : a) ts.push_back(w.tasks.at(std::stoi(k)));
            auto rs = co_await asyncio::gather(asyncio::return_exceptions, ts);
            std::string line;
            for (const auto& r : rs) {
                std::string part;
                try {
                    part = std::to_string(r.value());
                } catch (const asyncio::CancelledError&) {
                    part = "cancelled";
                } catch (const std::runtime_error& e) {
                    part = std::string("error ") + e.what();
                }
                line += (line.empty() ? "" : ", ") + part;
            }
            log(name + " gather -> " + line);
        } else if (op.kind == "wait_first") {
            std::vector<Task<int>> ts;
            for (const auto& k : a) ts.push_back(w.tasks.at(std::stoi(k)));
            auto [done, pending] = co_await asyncio::wait(ts, asyncio::FIRST_COMPLETED);
            std::string line;
            for (const auto& k : a)
                if (done.contains(w.tasks.at(std::stoi(k)))) line += (line.empty() ? "T" : " T") + k;
            log(name + " wait_first -> " + line);
        } else if (op.kind == "cancel") {
            bool r = w.tasks.at(std::stoi(a[0])).cancel();
            log(name + " cancel T" + a[0] + " -> " + (r ? "True" : "False"));
        } else if (op.kind == "set") {
            World::get(w.events, a[0]).set();
            log(name + " set E" + a[0]);
        } else if (op.kind == "wait_event") {
            bool timed_out = false;
            try {
                co_await asyncio::timeout(seconds(a[1]), event_wait(World::get(w.events, a[0])));
            } catch (const asyncio::TimeoutError&) {
                timed_out = true;
            }
            log(name + (timed_out ? " wait E" + a[0] + " timed out" : " saw E" + a[0]));
        } else if (op.kind == "put") {
            World::get(w.queues, a[0]).put_nowait(std::stoi(a[1]));
            log(name + " put " + a[1] + " in Q" + a[0]);
        } else if (op.kind == "get") {
            std::string what;
            try {
                int v = co_await asyncio::timeout(seconds(a[1]), queue_get(World::get(w.queues, a[0])));
                what = " got " + std::to_string(v) + " from Q" + a[0];
            } catch (const asyncio::TimeoutError&) {
                what = " get Q" + a[0] + " timed out";
            }
            log(name + what);
        } else if (op.kind == "raise") {
            throw std::runtime_error(a[0]);
        } else if (op.kind == "timeout") {
            bool timed_out = false;
            try {
                co_await asyncio::timeout(seconds(a[0]), run_ops(w, name, op.block, spawned));
            } catch (const asyncio::TimeoutError&) {
                timed_out = true;
            }
            log(name + (timed_out ? " timeout block timed out" : " timeout block done"));
        } else if (op.kind == "lock") {
            {
                auto guard = co_await World::get(w.locks, a[0]).scoped();
                log(name + " holds L" + a[0]);
                co_await run_ops(w, name, op.block, spawned);
            }
            log(name + " released L" + a[0]);
        } else {
            throw std::logic_error("unknown op " + op.kind);
        }
    }
}

// Awaits a child, ignoring how it ended. (A separate coroutine: g++ 12 destroyed the
// awaiter of a `co_await` inside a try block inside this loop a second time at the end of
// body()'s frame, releasing the task twice.)
Coro<void> join_quietly(Task<int> t) {
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
    } catch (const std::runtime_error&) {
    }
}

Coro<int> body(World& w, int i) {
    std::string name = "T" + std::to_string(i);
    std::vector<int> spawned;
    std::exception_ptr failure;
    try {
        co_await run_ops(w, name, w.bodies.at(i), spawned);
        log(name + " end");
    } catch (const asyncio::CancelledError&) {
        log(name + " cancelled");
        failure = std::current_exception();
    } catch (const std::runtime_error& e) {
        log(name + " raised " + e.what());
        failure = std::current_exception();
    }
    for (int k : spawned) {
        Task<int> child = w.tasks.at(k);
        co_await join_quietly(child);
    }
    if (failure) std::rethrow_exception(failure);
    co_return i;
}

Coro<void> interpret_main(World& w) {
    try {
        co_await body(w, 0);
    } catch (const asyncio::CancelledError&) {
    } catch (const std::runtime_error&) {
    }
    co_await asyncio::sleep(100);
    log("main done");
}

}  // namespace

int interpret(const char* path) {
    std::ifstream in(path);
    if (!in) return 2;
    World w;
    w.bodies = parse(in);
    asyncio::testing::run(interpret_main(w));
    return 0;
}

}  // namespace diff
