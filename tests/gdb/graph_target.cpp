// tests/gdb/graph_target.cpp: a program whose loop holds tasks that each wait on something
// different — a TaskGroup inside a gather inside a task, a Queue, an Event, a Lock held by
// another task, a plain Future, a sleep — for tools/gdb/asyncio.py to read (tests/gdb/check.cmake).
// It prints the loop's graph and task list itself from a callback (no task running), stops
// at asyncio_gdb_checkpoint() for the debugger, then sets everything free and ends.
#include <asyncio.hpp>

#include <cstdio>
#include <string>

// Where gdb stops the program (a breakpoint by this name).
extern "C" [[gnu::noinline]] void asyncio_gdb_checkpoint() {
    asm volatile("" ::
                     : "memory");  // not folded away
}

namespace {

asyncio::Coro<void> consumer(asyncio::Queue<int>& q) { (void)co_await q.get(); }

asyncio::Coro<void> workers(asyncio::Queue<int>& q) {
    co_await asyncio::TaskGroup::run([&q](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
        tg.create_task(consumer(q), "consumer");
        co_return;
    });
}

asyncio::Coro<void> holder(asyncio::Lock& lock, asyncio::Future<int> fut) {
    auto guard = co_await lock.scoped();
    (void)co_await fut;
}

asyncio::Coro<void> contender(asyncio::Lock& lock) {
    auto guard = co_await lock.scoped();
}

asyncio::Coro<void> waiter(asyncio::Event& e) { co_await e.wait(); }

asyncio::Coro<void> sleeper() { co_await asyncio::sleep(3600); }

struct World {
    asyncio::Queue<int> q;
    asyncio::Event e;
    asyncio::Lock lock;
    asyncio::Future<int> fut;
    asyncio::Task<void> sleeping;
};

// Prints what the program sees, stops for the debugger, then ends every wait.
void report_and_release(asyncio::EventLoop& loop, World& w) {
    char where[64];
    std::snprintf(where, sizeof where, "=== loop at %p of 3 ===\n", static_cast<void*>(&loop));
    const std::string text = where + std::string("=== in-process graph ===\n") + asyncio::debug::format_loop_graph(loop) + "\n=== in-process tasks ===\n" +
                             asyncio::debug::waiting_tasks(loop) + "\n=== end ===\n";
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    asyncio_gdb_checkpoint();
    w.q.put_nowait(1);
    w.e.set();
    w.fut.set_result(1);
    w.sleeping.cancel();
}

asyncio::Coro<void> settle_then_report(World& w) {
    for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0);  // every task reaches its wait
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    loop.call_soon([&loop, &w] { report_and_release(loop, w); });
}

asyncio::Coro<void> amain() {
    World w{{}, {}, {}, asyncio::get_running_loop().create_future<int>(), {}};
    auto h = asyncio::create_task(holder(w.lock, w.fut), "holder");
    co_await asyncio::sleep(0);  // the holder takes the lock
    auto c = asyncio::create_task(contender(w.lock), "contender");
    w.sleeping = asyncio::create_task(sleeper(), "sleeper");
    auto r = asyncio::create_task(settle_then_report(w), "reporter");
    co_await asyncio::gather(workers(w.q), waiter(w.e), h, c);
    try {
        co_await w.sleeping;
    } catch (const asyncio::CancelledError&) {
    }
    co_await r;
}

}  // namespace

int main() {
    // Three loops alive when gdb stops the program, one made and destroyed between two of
    // them: the script must find exactly the three (the process-wide list of loops).
    auto first = asyncio::new_event_loop();
    auto gone = asyncio::new_event_loop();
    auto second = asyncio::new_event_loop();
    gone.reset();
    asyncio::run(amain());
    std::puts("=== done ===");
}
