// 17_queue_workers.cpp: the CPython documentation's Queue example (asyncio-queue.html,
// "Examples"): twenty sleep times go into a Queue, three workers take them and sleep, main
// waits for the queue with join(), then cancels the workers and gathers them with
// return_exceptions. The sleep times are a fixed list instead of random.uniform(0.05, 1.0),
// so that the output is the same on every run.
#include "tour.hpp"

#include <asyncio.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

asyncio::Coro<void> worker(std::string name, asyncio::Queue<double>& queue) {
    while (true) {
        // Get a "work item" out of the queue.
        double sleep_for = co_await queue.get();

        // Sleep for the "sleep_for" seconds.
        co_await asyncio::sleep(sleep_for);

        // Notify the queue that the "work item" has been processed.
        queue.task_done();

        std::cout << name << " has slept for " << std::fixed << std::setprecision(2) << sleep_for << " seconds\n";
    }
}

asyncio::Coro<void> amain() {
    // Create a queue that we will use to store our "workload".
    asyncio::Queue<double> queue;

    // Put the timings into the queue (CPython: random.uniform(0.05, 1.0), twenty times).
    const std::vector<double> timings{0.62, 0.15, 0.91, 0.33, 0.48, 0.07, 0.76, 0.54, 0.29, 0.98,
                                      0.41, 0.12, 0.85, 0.66, 0.23, 0.59, 0.94, 0.36, 0.71, 0.18};
    double total_sleep_time = 0;
    for (double sleep_for : timings) {
        total_sleep_time += sleep_for;
        queue.put_nowait(sleep_for);
    }

    // Create three worker tasks to process the queue concurrently.
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i) {
        auto task = asyncio::create_task(worker("worker-" + std::to_string(i), queue));
        tasks.push_back(task);
    }

    // Wait until the queue is fully processed.
    auto& loop = asyncio::get_running_loop();
    auto started_at = loop.time();
    co_await queue.join();
    double total_slept_for = std::chrono::duration<double>(loop.time() - started_at).count();

    // Cancel our worker tasks.
    for (auto& task : tasks) task.cancel();
    // Wait until all worker tasks are cancelled.
    co_await asyncio::gather(asyncio::return_exceptions, tasks);

    std::cout << "====\n";
    std::cout << "3 workers slept in parallel for " << std::fixed << std::setprecision(2) << total_slept_for << " seconds\n";
    std::cout << "total expected sleep time: " << std::fixed << std::setprecision(2) << total_sleep_time << " seconds\n";
}

int main() { tour::run(amain()); }
