// examples/graceful_shutdown.cpp: a server-style program that shuts down cleanly on SIGTERM
// (or SIGINT): the signal handler, a normal callback of the loop, sets an Event; main then
// cancels its workers, waits for them to finish their cleanup, and exits 0. Blocking work
// goes to a thread with to_thread, and run() waits for that thread before returning.
//
// Python:
//     async def main():
//         stop = asyncio.Event()
//         loop = asyncio.get_running_loop()
//         for sig in (signal.SIGTERM, signal.SIGINT):
//             loop.add_signal_handler(sig, stop.set)
//         async with asyncio.TaskGroup() as tg:
//             workers = [tg.create_task(worker(i, jobs)) for i in range(3)]
//             ...
//             await stop.wait()
//             for w in workers: w.cancel()
#include <asyncio.hpp>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// Takes jobs until cancelled; says goodbye in its cleanup, as a real worker would flush.
asyncio::Coro<void> worker(int id, asyncio::Queue<int>& jobs, int& done) {
    try {
        for (;;) {
            int job = co_await jobs.get();
            // The blocking part of a job (a file, a database call) runs on a thread.
            co_await asyncio::to_thread([](int j) { std::this_thread::sleep_for(std::chrono::milliseconds(j)); }, job);
            ++done;
            jobs.task_done();
        }
    } catch (const asyncio::CancelledError&) {
        std::cout << "worker " << id << " stopped\n";
        throw;
    }
}

asyncio::Coro<int> amain() {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event stop;
    std::string why;
    loop.add_signal_handler(SIGTERM, [&] { why = "SIGTERM", stop.set(); });
    loop.add_signal_handler(SIGINT, [&] { why = "SIGINT", stop.set(); });

    asyncio::Queue<int> jobs;
    int done = 0;
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        std::vector<asyncio::Task<void>> workers;
        workers.reserve(3);
        for (int i = 0; i < 3; ++i) workers.push_back(tg.create_task(worker(i, jobs, done)));
        auto feeder = tg.create_task([&]() -> asyncio::Coro<void> {
            for (int n = 0;; ++n) {
                co_await jobs.put(1 + n % 3);
                co_await asyncio::sleep(0.005);
            }
        });
        std::cout << "ready" << std::endl;  // flushed: whoever waits for us reads it now
        co_await stop.wait();
        std::cout << "got " << why << ", shutting down\n";
        feeder.cancel();
        for (auto& w : workers) w.cancel();
    });
    loop.remove_signal_handler(SIGTERM);
    loop.remove_signal_handler(SIGINT);
    std::cerr << done << " jobs done\n";  // how many depends on when the signal came
    std::cout << "all workers stopped; exiting cleanly\n";
    co_return 0;
}

int main() { return asyncio::run(amain()); }
